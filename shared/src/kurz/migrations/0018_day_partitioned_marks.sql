-- kurz: the unique-visitor marks partitioned by day, so old days are dropped whole.
--
-- Marks are kept a few weeks (KURZ_VISITOR_MARK_DAYS) and are the largest tables after
-- the raw clicks. Pruning them with DELETE rewrote every old row into the WAL and left
-- dead tuples for vacuum; dropping a day's partition costs neither. The primary keys
-- already begin with the day, so they stay as they are (a partitioned table's unique
-- key must hold its partition key) and a mark is still inserted exactly once.

-- Creates one day's partition of one marks table when missing (idempotent; safe
-- concurrently: the lock is taken only when the partition looks missing).
CREATE FUNCTION kurz_mark_partition(marks text, day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := marks || '_' || to_char(day, 'YYYYMMDD');
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('kurz_mark_partition'));
    IF to_regclass(name) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       name, marks, day, day + 1);
    END IF;
END $$;

-- The marks partitions a UTC day's clicks can land in: marks are kept by the
-- workspace's local day, which is at most one day either side of the UTC day.
CREATE FUNCTION kurz_mark_partitions(utc_day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    marks text;
    offset_days int;
BEGIN
    FOREACH marks IN ARRAY ARRAY['link_visitors', 'group_visitors', 'workspace_visitors'] LOOP
        FOR offset_days IN -1..1 LOOP
            PERFORM kurz_mark_partition(marks, utc_day + offset_days);
        END LOOP;
    END LOOP;
END $$;

ALTER TABLE link_visitors RENAME TO link_visitors_unpartitioned;
ALTER INDEX link_visitors_pkey RENAME TO link_visitors_unpartitioned_pkey;
CREATE TABLE link_visitors (
    day      date NOT NULL,
    link_id  bigint NOT NULL,
    visitor  text COLLATE "C" NOT NULL,
    hour     smallint NOT NULL,
    PRIMARY KEY (day, link_id, visitor, hour)
) PARTITION BY RANGE (day);
DO $$ BEGIN
    PERFORM kurz_mark_partition('link_visitors', day)
        FROM (SELECT DISTINCT day FROM link_visitors_unpartitioned) AS days;
END $$;
INSERT INTO link_visitors SELECT day, link_id, visitor, hour FROM link_visitors_unpartitioned;
DROP TABLE link_visitors_unpartitioned;

ALTER TABLE group_visitors RENAME TO group_visitors_unpartitioned;
ALTER INDEX group_visitors_pkey RENAME TO group_visitors_unpartitioned_pkey;
CREATE TABLE group_visitors (
    day       date NOT NULL,
    group_id  bigint NOT NULL,
    visitor   text COLLATE "C" NOT NULL,
    hour      smallint NOT NULL,
    PRIMARY KEY (day, group_id, visitor, hour)
) PARTITION BY RANGE (day);
DO $$ BEGIN
    PERFORM kurz_mark_partition('group_visitors', day)
        FROM (SELECT DISTINCT day FROM group_visitors_unpartitioned) AS days;
END $$;
INSERT INTO group_visitors SELECT day, group_id, visitor, hour FROM group_visitors_unpartitioned;
DROP TABLE group_visitors_unpartitioned;

ALTER TABLE workspace_visitors RENAME TO workspace_visitors_unpartitioned;
ALTER INDEX workspace_visitors_pkey RENAME TO workspace_visitors_unpartitioned_pkey;
CREATE TABLE workspace_visitors (
    day           date NOT NULL,
    workspace_id  bigint NOT NULL,
    visitor       text COLLATE "C" NOT NULL,
    hour          smallint NOT NULL,
    PRIMARY KEY (day, workspace_id, visitor, hour)
) PARTITION BY RANGE (day);
DO $$ BEGIN
    PERFORM kurz_mark_partition('workspace_visitors', day)
        FROM (SELECT DISTINCT day FROM workspace_visitors_unpartitioned) AS days;
END $$;
INSERT INTO workspace_visitors
    SELECT day, workspace_id, visitor, hour FROM workspace_visitors_unpartitioned;
DROP TABLE workspace_visitors_unpartitioned;
