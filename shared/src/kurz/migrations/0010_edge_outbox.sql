-- What the edge cache must learn from a committed write, written in the same
-- transaction (a transactional outbox). The management service applies a row right
-- after the commit and deletes it; a row still here later is re-applied from the
-- current truth by its healer, so a Redis outage during writes heals by itself.
-- Each row names one thing to bring to the truth: a link, an address a link left, a
-- group, or a workspace's own record (branding, not-found redirects).
CREATE TABLE edge_outbox (
    id         bigserial PRIMARY KEY,
    link_id    bigint,
    host       text,
    slug       text,
    group_id   bigint,
    workspace_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(link_id, host, group_id, workspace_id) = 1
           AND (host IS NULL) = (slug IS NULL))
);
