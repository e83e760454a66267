-- Web push: browsers' subscriptions, the messages sent to them, one delivery per
-- (message, subscription), retried like webhook deliveries.

-- A browser's PushSubscription. A visitor subscribes on a push link's page (link_id set,
-- group_id the link's group then); a group's owner on its statistics page (group_id set,
-- link_id NULL). Deleted with its link or group, and when a push service answers 404 or
-- 410 (the browser unsubscribed).
CREATE TABLE push_subscriptions (
    id            bigserial PRIMARY KEY,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    link_id       bigint REFERENCES links (id) ON DELETE CASCADE,
    group_id      bigint REFERENCES link_groups (id) ON DELETE CASCADE,
    audience      text NOT NULL CHECK (audience IN ('visitor', 'owner')),
    endpoint      text NOT NULL,
    p256dh        text NOT NULL,
    auth          text NOT NULL,
    user_agent    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (link_id IS NOT NULL OR group_id IS NOT NULL),
    UNIQUE NULLS NOT DISTINCT (endpoint, audience, link_id, group_id)
);
CREATE INDEX push_subscriptions_link ON push_subscriptions (link_id) WHERE link_id IS NOT NULL;
CREATE INDEX push_subscriptions_group ON push_subscriptions (group_id, audience) WHERE group_id IS NOT NULL;
CREATE INDEX push_subscriptions_workspace ON push_subscriptions (workspace_id);

-- A notification sent to the subscriptions of a link or a group: by its owner through
-- the API (source 'api'), or for a group's click milestone (source 'milestone', once
-- per milestone: dedupe_key).
CREATE TABLE push_messages (
    id            bigserial PRIMARY KEY,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    link_id       bigint REFERENCES links (id) ON DELETE CASCADE,
    group_id      bigint REFERENCES link_groups (id) ON DELETE CASCADE,
    source        text NOT NULL CHECK (source IN ('api', 'milestone')),
    dedupe_key    text,
    title         text NOT NULL,
    body          text NOT NULL DEFAULT '',
    url           text,
    recipients    int NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, dedupe_key)
);
CREATE INDEX push_messages_workspace ON push_messages (workspace_id, id DESC);

CREATE TABLE push_deliveries (
    id               bigserial PRIMARY KEY,
    message_id       bigint NOT NULL REFERENCES push_messages (id) ON DELETE CASCADE,
    subscription_id  bigint REFERENCES push_subscriptions (id) ON DELETE SET NULL,
    endpoint         text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'failed', 'gone')),
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status      int,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (message_id, subscription_id)
);
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX push_deliveries_message ON push_deliveries (message_id, id);
