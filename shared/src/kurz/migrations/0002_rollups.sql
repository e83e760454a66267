-- kurz: statistics rollups kept by the aggregator.
--
-- Every rollup is keyed by a local day (and hour) in the workspace's time zone and holds
-- clicks plus exact unique visitors. Exactness comes from "marks" tables: a visitor is
-- added to a rollup's `visitors` only when its mark is new. Marks lead with `day` so old
-- days can be pruned by range once late events can no longer arrive.

-- What the aggregator learned about each raw click (none of it identifies a person).
ALTER TABLE clicks
    ADD COLUMN referrer_host text,
    ADD COLUMN bot_name      text,
    ADD COLUMN overseas      boolean NOT NULL DEFAULT false;  -- left out by blockOverseasSticsYn
CREATE INDEX clicks_workspace ON clicks (workspace_id, clicked_at);

-- 0001's marks were keyed link first; day first lets upkeep drop old days by range.
ALTER TABLE link_daily_visitors DROP CONSTRAINT link_daily_visitors_pkey;
ALTER TABLE link_daily_visitors ADD PRIMARY KEY (day, link_id, visitor);

CREATE TABLE link_hourly (
    link_id   bigint NOT NULL,
    day       date NOT NULL,
    hour      smallint NOT NULL,   -- 0..23, local; a repeated DST hour shares one row
    clicks    bigint NOT NULL DEFAULT 0,
    visitors  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day, hour)
);
CREATE TABLE link_hourly_visitors (
    day      date NOT NULL,
    hour     smallint NOT NULL,
    link_id  bigint NOT NULL,
    visitor  text NOT NULL,
    PRIMARY KEY (day, hour, link_id, visitor)
);

-- Per group, by the group the link belonged to when it was clicked.
CREATE TABLE group_daily (
    group_id  bigint NOT NULL,
    day       date NOT NULL,
    clicks    bigint NOT NULL DEFAULT 0,
    visitors  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, day)
);
CREATE TABLE group_daily_visitors (
    day       date NOT NULL,
    group_id  bigint NOT NULL,
    visitor   text NOT NULL,
    PRIMARY KEY (day, group_id, visitor)
);
CREATE TABLE group_hourly (
    group_id  bigint NOT NULL,
    day       date NOT NULL,
    hour      smallint NOT NULL,
    clicks    bigint NOT NULL DEFAULT 0,
    visitors  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, day, hour)
);
CREATE TABLE group_hourly_visitors (
    day       date NOT NULL,
    hour      smallint NOT NULL,
    group_id  bigint NOT NULL,
    visitor   text NOT NULL,
    PRIMARY KEY (day, hour, group_id, visitor)
);

-- Per workspace: unique visitors across all links cannot be summed from per-link rows.
CREATE TABLE workspace_daily (
    workspace_id  bigint NOT NULL,
    day           date NOT NULL,
    clicks        bigint NOT NULL DEFAULT 0,
    visitors      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day)
);
CREATE TABLE workspace_daily_visitors (
    day           date NOT NULL,
    workspace_id  bigint NOT NULL,
    visitor       text NOT NULL,
    PRIMARY KEY (day, workspace_id, visitor)
);
CREATE TABLE workspace_hourly (
    workspace_id  bigint NOT NULL,
    day           date NOT NULL,
    hour          smallint NOT NULL,
    clicks        bigint NOT NULL DEFAULT 0,
    visitors      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, day, hour)
);
CREATE TABLE workspace_hourly_visitors (
    day           date NOT NULL,
    hour          smallint NOT NULL,
    workspace_id  bigint NOT NULL,
    visitor       text NOT NULL,
    PRIMARY KEY (day, hour, workspace_id, visitor)
);

-- Counted clicks by one dimension a day. `dimension` is one of: country, device, os,
-- browser, referrer (the referrer's host), destination, source ("qr" or "link"); and
-- "bot" (the crawler's name), which counts bot visits that are otherwise left out.
-- `value` is '' when unknown (no country, no referrer).
CREATE TABLE link_daily_dims (
    link_id    bigint NOT NULL,
    day        date NOT NULL,
    dimension  text NOT NULL,
    value      text NOT NULL,
    clicks     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day, dimension, value)
);
CREATE TABLE group_daily_dims (
    group_id   bigint NOT NULL,
    day        date NOT NULL,
    dimension  text NOT NULL,
    value      text NOT NULL,
    clicks     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, day, dimension, value)
);
