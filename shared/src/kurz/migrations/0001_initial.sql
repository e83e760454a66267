-- kurz: initial schema. Postgres is the source of truth; Redis only caches it.

CREATE TABLE plans (
    code          text PRIMARY KEY,
    name          text NOT NULL,
    rank          int  NOT NULL,          -- orders plans: a gate says "this rank or higher"
    entitlements  jsonb NOT NULL
);

-- Entitlements as data. Gates documented by the Vivoldi family; "selfhosted" has everything.
INSERT INTO plans (code, name, rank, entitlements) VALUES
 ('free',       'Free',        0, '{"notify": false, "clicks_by_group": false, "group_list_max": 0,    "webhooks": false}'),
 ('personal',   'Personal',    1, '{"notify": true,  "clicks_by_group": true,  "group_list_max": 0,    "webhooks": false}'),
 ('premium',    'Premium',     2, '{"notify": true,  "clicks_by_group": true,  "group_list_max": 5,    "webhooks": false}'),
 ('business',   'Business',    3, '{"notify": true,  "clicks_by_group": true,  "group_list_max": null, "webhooks": false}'),
 ('enterprise', 'Enterprise',  4, '{"notify": true,  "clicks_by_group": true,  "group_list_max": null, "webhooks": true}'),
 ('selfhosted', 'Self-hosted', 9, '{"notify": true,  "clicks_by_group": true,  "group_list_max": null, "webhooks": true}');

CREATE TABLE workspaces (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL,
    plan            text NOT NULL DEFAULT 'selfhosted' REFERENCES plans (code),
    time_zone       text NOT NULL DEFAULT 'UTC',
    home_country    text,                 -- ISO alpha-2, for blockOverseasSticsYn
    owner_email     text,
    webhook_secret  text,                 -- signs workspace-level webhooks
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id            bigserial PRIMARY KEY,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key_hash      bytea NOT NULL UNIQUE,  -- SHA-256 of the key; the key is shown once
    prefix        text NOT NULL,          -- first characters, to tell keys apart in lists
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

CREATE TABLE domains (
    id            bigserial PRIMARY KEY,
    workspace_id  bigint REFERENCES workspaces (id) ON DELETE CASCADE,  -- NULL: shared default
    host          text NOT NULL UNIQUE,
    verified      boolean NOT NULL DEFAULT false,
    verify_token  text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE link_groups (
    id                    bigserial PRIMARY KEY,   -- Vivoldi's grpIdx
    workspace_id          bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                  text NOT NULL,
    memo                  text,
    push_subscribe        boolean NOT NULL DEFAULT false,
    qr_bypass             boolean NOT NULL DEFAULT false,
    block_overseas_stats  boolean NOT NULL DEFAULT false,
    push_notify           boolean NOT NULL DEFAULT false,
    mail_notify           boolean NOT NULL DEFAULT false,
    stats_password_hash   text,
    starts_at             timestamptz,
    ends_at               timestamptz,
    expire_url            text,
    password_hash         text,
    max_clicks            int,                     -- NULL: unlimited
    webhook_enabled       boolean NOT NULL DEFAULT false,
    webhook_url           text,
    webhook_metric        char(1) NOT NULL DEFAULT 'C',
    webhook_frequency     int NOT NULL DEFAULT 1,
    webhook_secret        text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX link_groups_workspace ON link_groups (workspace_id, id);

CREATE TABLE links (
    id               bigserial PRIMARY KEY,
    workspace_id     bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    host             text NOT NULL,
    slug             text NOT NULL,
    url              text NOT NULL,
    link_type        text NOT NULL DEFAULT 'URL',
    redirect_type    int  NOT NULL DEFAULT 302,
    title            text,
    description      text,
    image            text,
    og_title         text,
    note             text,
    cloaked          boolean NOT NULL DEFAULT false,
    password_hash    text,
    starts_at        timestamptz,
    expires_at       timestamptz,
    expiry_url       text,
    delete_at        timestamptz,
    max_clicks       int,
    forward_params   boolean NOT NULL DEFAULT false,
    block_bots       boolean NOT NULL DEFAULT false,
    hide_referrer    boolean NOT NULL DEFAULT false,
    utm_source       text,
    utm_medium       text,
    utm_campaign     text,
    utm_term         text,
    utm_content      text,
    meta_pixel_id    text,
    ga4_id           text,
    gtm_id           text,
    head_tags        text,
    body_tags        text,
    webhook_urls     text[] NOT NULL DEFAULT '{}',
    rules            jsonb NOT NULL DEFAULT '[]',
    group_id         bigint REFERENCES link_groups (id) ON DELETE SET NULL,
    enabled          boolean NOT NULL DEFAULT true,
    qr_bypass        boolean NOT NULL DEFAULT false,
    push_subscribe   boolean NOT NULL DEFAULT false,
    version          bigint NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);
CREATE UNIQUE INDEX links_address ON links (host, slug) WHERE deleted_at IS NULL;
CREATE INDEX links_workspace ON links (workspace_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX links_group ON links (group_id) WHERE group_id IS NOT NULL;

CREATE TABLE tags (
    id            bigserial PRIMARY KEY,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          text NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE link_tags (
    link_id  bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    tag_id   bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (link_id, tag_id)
);
CREATE INDEX link_tags_tag ON link_tags (tag_id);

-- Raw clicks, one row per stream event, partitioned by day. The primary key makes the
-- aggregator idempotent: a redelivered event conflicts and is counted once.
CREATE TABLE clicks (
    event_id      text NOT NULL,
    clicked_at    timestamptz NOT NULL,
    workspace_id  bigint NOT NULL,
    link_id       bigint NOT NULL,
    group_id      bigint,
    destination   text NOT NULL,
    rule          text,
    outcome       text NOT NULL,
    visitor       text NOT NULL,
    country       text,
    referrer      text,
    user_agent    text,
    device        text,
    os            text,
    browser       text,
    bot           boolean NOT NULL DEFAULT false,
    qr            boolean NOT NULL DEFAULT false,
    counted       boolean NOT NULL,
    PRIMARY KEY (clicked_at, event_id)
) PARTITION BY RANGE (clicked_at);
CREATE INDEX clicks_link ON clicks (link_id, clicked_at);

-- Creates the day's partition of `clicks` when missing (idempotent; safe concurrently).
CREATE FUNCTION kurz_click_partition(day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := 'clicks_' || to_char(day, 'YYYYMMDD');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('kurz_click_partition'));
    IF to_regclass(name) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF clicks FOR VALUES FROM (%L) TO (%L)',
            name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    END IF;
END $$;

-- Daily rollup per link: clicks and exact distinct visitors, in the workspace's time zone.
CREATE TABLE link_daily (
    link_id   bigint NOT NULL,
    day       date NOT NULL,
    clicks    bigint NOT NULL DEFAULT 0,
    visitors  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day)
);

-- Who has been counted on a link's day already: makes `visitors` exact.
CREATE TABLE link_daily_visitors (
    link_id  bigint NOT NULL,
    day      date NOT NULL,
    visitor  text NOT NULL,
    PRIMARY KEY (link_id, day, visitor)
);
