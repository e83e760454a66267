-- kurz: statistics rollups kept by the aggregator.
--
-- Every rollup is keyed by a local day (and hour) in the workspace's time zone and holds
-- clicks plus exact unique visitors. Exactness comes from "marks" tables: a visitor is
-- added to a rollup's `visitors` only when its mark is new. Marks lead with `day` so old
-- days can be pruned by range once late events can no longer arrive. Only the
-- aggregator writes these tables.

-- What the aggregator learned about each raw click (none of it identifies a person).
ALTER TABLE clicks
    ADD COLUMN referrer_host text,
    ADD COLUMN bot_name      text,
    ADD COLUMN overseas      boolean NOT NULL DEFAULT false;  -- left out by blockOverseasSticsYn
CREATE INDEX clicks_workspace ON clicks (workspace_id, clicked_at);
-- Event ids are sortable hex: byte order is their order, and cheaper to compare.
ALTER TABLE clicks ALTER COLUMN event_id TYPE text COLLATE "C";

-- Marks: who was counted on a key's day, and in which hours. One row per (day, key,
-- visitor, hour) serves both rollups: a new row makes the visitor new to that hour; new
-- to the day as well when no row of an earlier batch has the same day, key and visitor.
-- Visitor ids are opaque hashes: byte order ("C") compares them several times faster
-- than a language collation, and every mark is an index insert. 0001's daily-only marks
-- give way to these.
DROP TABLE link_daily_visitors;
CREATE TABLE link_visitors (
    day      date NOT NULL,
    link_id  bigint NOT NULL,
    visitor  text COLLATE "C" NOT NULL,
    hour     smallint NOT NULL,
    PRIMARY KEY (day, link_id, visitor, hour)
);
CREATE TABLE group_visitors (
    day       date NOT NULL,
    group_id  bigint NOT NULL,
    visitor   text COLLATE "C" NOT NULL,
    hour      smallint NOT NULL,
    PRIMARY KEY (day, group_id, visitor, hour)
);
CREATE TABLE workspace_visitors (
    day           date NOT NULL,
    workspace_id  bigint NOT NULL,
    visitor       text COLLATE "C" NOT NULL,
    hour          smallint NOT NULL,
    PRIMARY KEY (day, workspace_id, visitor, hour)
);

CREATE TABLE link_hourly (
    link_id   bigint NOT NULL,
    day       date NOT NULL,
    hour      smallint NOT NULL,   -- 0..23, local; a repeated DST hour shares one row
    clicks    bigint NOT NULL DEFAULT 0,
    visitors  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day, hour)
);

-- Per group, by the group the link belonged to when it was clicked.
CREATE TABLE group_daily (
    group_id  bigint NOT NULL,
    day       date NOT NULL,
    clicks    bigint NOT NULL DEFAULT 0,
    visitors  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, day)
);
CREATE TABLE group_hourly (
    group_id  bigint NOT NULL,
    day       date NOT NULL,
    hour      smallint NOT NULL,
    clicks    bigint NOT NULL DEFAULT 0,
    visitors  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, day, hour)
);

-- Per workspace: unique visitors across all links cannot be summed from per-link rows.
CREATE TABLE workspace_daily (
    workspace_id  bigint NOT NULL,
    day           date NOT NULL,
    clicks        bigint NOT NULL DEFAULT 0,
    visitors      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day)
);
CREATE TABLE workspace_hourly (
    workspace_id  bigint NOT NULL,
    day           date NOT NULL,
    hour          smallint NOT NULL,
    clicks        bigint NOT NULL DEFAULT 0,
    visitors      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day, hour)
);

-- Counted clicks by one dimension a day. `dimension` is one of: country, device, os,
-- browser, referrer (the referrer's host), destination, source ("qr" or "link"); and
-- "bot" (the crawler's name), which counts bot visits that are otherwise left out.
-- `value` is '' when unknown (no country, no referrer).
CREATE TABLE link_daily_dims (
    link_id    bigint NOT NULL,
    day        date NOT NULL,
    dimension  text COLLATE "C" NOT NULL,
    value      text COLLATE "C" NOT NULL,
    clicks     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day, dimension, value)
);
CREATE TABLE group_daily_dims (
    group_id   bigint NOT NULL,
    day        date NOT NULL,
    dimension  text COLLATE "C" NOT NULL,
    value      text COLLATE "C" NOT NULL,
    clicks     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, day, dimension, value)
);
