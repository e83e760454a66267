-- kurz: coarser rollups for statistics queries over long ranges.
--
-- A year of daily rows for 1,000 groups is 365,000 rows; summing them takes longer than a
-- statistics API should. These tables are derived from the aggregator's rollups by
-- statement-level triggers (one INSERT per aggregator statement, in the same transaction,
-- so they are exactly as correct as the rows they come from):
--   group_daily     -> group_monthly         (clicks-by-group over months)
--   link_daily      -> link_monthly          (clicks per link over months)
--   link_daily_dims -> workspace_daily_dims  (a workspace's countries, devices, ... )
-- `visitors` in a monthly row is the sum of the month's daily distinct visitors, the same
-- figure the statistics APIs report for a range. Rows are added in key order, like the
-- aggregator's, so concurrent aggregators lock them in one order and cannot deadlock.

CREATE TABLE group_monthly (
    group_id  bigint NOT NULL,
    month     date NOT NULL,      -- the month's first day (local, like `day`)
    clicks    bigint NOT NULL DEFAULT 0,
    visitors  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, month)
);

CREATE TABLE link_monthly (
    link_id   bigint NOT NULL,
    month     date NOT NULL,
    clicks    bigint NOT NULL DEFAULT 0,
    visitors  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, month)
);

CREATE TABLE workspace_daily_dims (
    workspace_id  bigint NOT NULL,
    day           date NOT NULL,
    dimension     text NOT NULL,
    value         text NOT NULL,
    clicks        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, dimension, day, value)
);

-- group_daily -> group_monthly
CREATE FUNCTION kurz_group_monthly_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO group_monthly (group_id, month, clicks, visitors)
    SELECT group_id, date_trunc('month', day)::date, sum(clicks), sum(visitors)
    FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (group_id, month) DO UPDATE
    SET clicks = group_monthly.clicks + EXCLUDED.clicks,
        visitors = group_monthly.visitors + EXCLUDED.visitors;
    RETURN NULL;
END $$;

CREATE FUNCTION kurz_group_monthly_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO group_monthly (group_id, month, clicks, visitors)
    SELECT n.group_id, date_trunc('month', n.day)::date,
           sum(n.clicks - o.clicks), sum(n.visitors - o.visitors)
    FROM new_rows n JOIN old_rows o USING (group_id, day) GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (group_id, month) DO UPDATE
    SET clicks = group_monthly.clicks + EXCLUDED.clicks,
        visitors = group_monthly.visitors + EXCLUDED.visitors;
    RETURN NULL;
END $$;

CREATE TRIGGER group_monthly_added AFTER INSERT ON group_daily
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION kurz_group_monthly_added();
CREATE TRIGGER group_monthly_changed AFTER UPDATE ON group_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION kurz_group_monthly_changed();

-- link_daily -> link_monthly
CREATE FUNCTION kurz_link_monthly_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_monthly (link_id, month, clicks, visitors)
    SELECT link_id, date_trunc('month', day)::date, sum(clicks), sum(visitors)
    FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (link_id, month) DO UPDATE
    SET clicks = link_monthly.clicks + EXCLUDED.clicks,
        visitors = link_monthly.visitors + EXCLUDED.visitors;
    RETURN NULL;
END $$;

CREATE FUNCTION kurz_link_monthly_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_monthly (link_id, month, clicks, visitors)
    SELECT n.link_id, date_trunc('month', n.day)::date,
           sum(n.clicks - o.clicks), sum(n.visitors - o.visitors)
    FROM new_rows n JOIN old_rows o USING (link_id, day) GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (link_id, month) DO UPDATE
    SET clicks = link_monthly.clicks + EXCLUDED.clicks,
        visitors = link_monthly.visitors + EXCLUDED.visitors;
    RETURN NULL;
END $$;

CREATE TRIGGER link_monthly_added AFTER INSERT ON link_daily
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION kurz_link_monthly_added();
CREATE TRIGGER link_monthly_changed AFTER UPDATE ON link_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION kurz_link_monthly_changed();

-- link_daily_dims -> workspace_daily_dims (clicks of links without a `links` row, which
-- only tests produce, belong to no workspace and are left out)
CREATE FUNCTION kurz_workspace_dims_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO workspace_daily_dims (workspace_id, dimension, day, value, clicks)
    SELECT l.workspace_id, n.dimension, n.day, n.value, sum(n.clicks)
    FROM new_rows n JOIN links l ON l.id = n.link_id
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (workspace_id, dimension, day, value) DO UPDATE
    SET clicks = workspace_daily_dims.clicks + EXCLUDED.clicks;
    RETURN NULL;
END $$;

CREATE FUNCTION kurz_workspace_dims_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO workspace_daily_dims (workspace_id, dimension, day, value, clicks)
    SELECT l.workspace_id, n.dimension, n.day, n.value, sum(n.clicks - o.clicks)
    FROM new_rows n JOIN old_rows o USING (link_id, day, dimension, value)
    JOIN links l ON l.id = n.link_id
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (workspace_id, dimension, day, value) DO UPDATE
    SET clicks = workspace_daily_dims.clicks + EXCLUDED.clicks;
    RETURN NULL;
END $$;

CREATE TRIGGER workspace_dims_added AFTER INSERT ON link_daily_dims
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION kurz_workspace_dims_added();
CREATE TRIGGER workspace_dims_changed AFTER UPDATE ON link_daily_dims
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION kurz_workspace_dims_changed();

-- What the aggregator wrote before this migration.
INSERT INTO group_monthly (group_id, month, clicks, visitors)
SELECT group_id, date_trunc('month', day)::date, sum(clicks), sum(visitors)
FROM group_daily GROUP BY 1, 2;
INSERT INTO link_monthly (link_id, month, clicks, visitors)
SELECT link_id, date_trunc('month', day)::date, sum(clicks), sum(visitors)
FROM link_daily GROUP BY 1, 2;
INSERT INTO workspace_daily_dims (workspace_id, dimension, day, value, clicks)
SELECT l.workspace_id, d.dimension, d.day, d.value, sum(d.clicks)
FROM link_daily_dims d JOIN links l ON l.id = d.link_id GROUP BY 1, 2, 3, 4;
