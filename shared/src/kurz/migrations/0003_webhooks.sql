-- kurz: webhooks, their deliveries and dead letters, group counters, notifications.

-- Registered webhooks (Linkly's workspace-level and link-level ones, and the native API's).
-- Per-link URLs (links.webhook_urls) and group webhooks (link_groups.webhook_*) are not
-- registered here: they live on their link or group.
CREATE TABLE webhooks (
    id            bigserial PRIMARY KEY,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    link_id       bigint REFERENCES links (id) ON DELETE CASCADE,   -- NULL: every link
    url           text NOT NULL,
    secret        text NOT NULL,                                    -- whsec_<base64>
    format        text NOT NULL DEFAULT 'standard' CHECK (format IN ('standard', 'linkly')),
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_workspace ON webhooks (workspace_id) WHERE link_id IS NULL;
CREATE INDEX webhooks_link ON webhooks (link_id) WHERE link_id IS NOT NULL;

-- A receiving URL of a workspace, whatever configured it: its health decides whether it
-- still gets deliveries. Disabled after `disable_after` dead deliveries in a row.
CREATE TABLE webhook_endpoints (
    id                    bigserial PRIMARY KEY,
    workspace_id          bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url                   text NOT NULL,
    consecutive_failures  int NOT NULL DEFAULT 0,
    disabled_at           timestamptz,
    disabled_reason       text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, url)
);

-- One message to one endpoint. `payload` is the exact body, so every retry sends the same
-- bytes under the same `message_id` (the webhook-id header). `next_attempt_at` doubles as
-- the lease of a delivery in flight: a worker that dies leaves it due again.
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    workspace_id     bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    endpoint_id      bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    webhook_id       bigint REFERENCES webhooks (id) ON DELETE SET NULL,
    source           text NOT NULL CHECK (source IN ('link', 'webhook', 'group')),
    link_id          bigint,
    group_id         bigint,
    event_type       text NOT NULL,
    message_id       text NOT NULL,
    url              text NOT NULL,
    secret           text NOT NULL,
    payload          bytea NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'dead')),
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status      int,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    UNIQUE (endpoint_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_workspace ON webhook_deliveries (workspace_id, id DESC);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id DESC) WHERE webhook_id IS NOT NULL;
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE status <> 'pending';

-- Deliveries that used up their retries (or whose endpoint was disabled): kept for
-- inspection and replay.
CREATE TABLE webhook_dead_letters (
    delivery_id   bigint PRIMARY KEY REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    reason        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_dead_letters_workspace ON webhook_dead_letters (workspace_id, created_at DESC);

-- Click events whose webhook effects are committed: a redelivered event finds its id here
-- and changes nothing. Pruned after a week (a stream entry is reclaimed within minutes).
CREATE TABLE webhook_processed_events (
    event_id      text PRIMARY KEY,
    processed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_processed_events_age ON webhook_processed_events (processed_at);

-- Running totals per group for webhook metrics C (clicks) and P (unique visitors) and
-- the notification milestones.
CREATE TABLE webhook_group_counters (
    group_id  bigint PRIMARY KEY REFERENCES link_groups (id) ON DELETE CASCADE,
    clicks    bigint NOT NULL DEFAULT 0,
    visitors  bigint NOT NULL DEFAULT 0
);

-- Visitors already counted for a group's day (metric P).
CREATE TABLE webhook_group_visitors (
    group_id  bigint NOT NULL,
    day       date NOT NULL,
    visitor   text NOT NULL,
    PRIMARY KEY (group_id, day, visitor)
);

-- What the workspace is told: group click milestones (mail and push) and disabled
-- endpoints (mail). Push records wait for the push channel.
CREATE TABLE notifications (
    id               bigserial PRIMARY KEY,
    workspace_id     bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind             text NOT NULL,   -- group.clicks_threshold | webhook.endpoint_disabled
    channel          text NOT NULL CHECK (channel IN ('mail', 'push')),
    dedupe_key       text NOT NULL,
    recipient        text,
    subject          text NOT NULL,
    body             text NOT NULL,
    data             jsonb NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (workspace_id, channel, dedupe_key)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending' AND channel = 'mail';
