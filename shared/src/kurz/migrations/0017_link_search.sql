-- kurz: a link list that stays fast with 100,000 links in a workspace.
--
-- Search: the list matches a substring of url, slug, title or note, any case
-- (lower(column) LIKE lower('%x%')), which no btree can serve. Trigram GIN indexes
-- (pg_trgm) on those expressions can, one per column so the four ORed conditions become
-- one bitmap. pg_trgm ships with PostgreSQL's contrib (Debian's
-- postgresql package, the official images, the managed services) and is a trusted
-- extension (PostgreSQL 13+): a database owner may create it without superuser rights.
-- Where it still cannot be created, the migration must not fail an install for the sake
-- of speed: the search keeps working unindexed, a warning says so, and once the
-- extension is there `SELECT kurz_link_search_indexes();` builds the indexes.
--
-- Clicks: sorting by clicks summed each link's link_daily rows, per row of the list.
-- link_totals holds each link's total, kept by statement-level triggers on link_daily in
-- the aggregator's own transaction (as link_monthly is, 0005): exact as long as
-- link_daily is, and a replayed event, which never reaches link_daily, never reaches it
-- either. A separate table rather than a column of `links`: a hot link's total changes
-- with every batch, and updating the wide `links` row would write a new entry into each
-- of its indexes (the trigram ones among them) and contend with edits of the link.
-- Every link has a row from its creation, so the list joins it without an outer join and
-- walks link_totals_clicks in order.

DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'kurz: pg_trgm cannot be created (%); link search stays unindexed. '
                  'Create the extension, then run SELECT kurz_link_search_indexes();', SQLERRM;
END $$;

-- Builds the trigram indexes of the link search when pg_trgm is installed; true when
-- they exist afterwards. Idempotent. Not partial (on live links only) although the list
-- reads no other: the planner takes the statistics of an index's expression, which tell
-- it how many links a search matches, from whole-table indexes only.
CREATE FUNCTION kurz_link_search_indexes() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    ops text;
    col text;
BEGIN
    -- The operator class named with the extension's schema, which need not be on the
    -- search path (some managed services keep extensions in a schema of their own).
    SELECT format('%I.gin_trgm_ops', n.nspname) INTO ops
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    IF ops IS NULL THEN
        RETURN false;
    END IF;
    FOREACH col IN ARRAY ARRAY['url', 'slug', 'title', 'note'] LOOP
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON links USING gin (lower(%I) %s)',
                       'links_search_' || col, col, ops);
    END LOOP;
    RETURN true;
END $$;

DO $$ BEGIN PERFORM kurz_link_search_indexes(); END $$;

-- The state filters of the list: the few links that can end at all (the expired ones
-- are among them) and the disabled ones, each walked newest first like links_workspace.
CREATE INDEX links_may_end ON links (workspace_id, id DESC)
    WHERE deleted_at IS NULL AND (expires_at IS NOT NULL OR max_clicks IS NOT NULL);
CREATE INDEX links_disabled ON links (workspace_id, id DESC)
    WHERE deleted_at IS NULL AND NOT enabled;

-- Sorting by creation or last change: walked in order (backwards for newest first) and
-- stopped after a page, where a sort would read the whole workspace. Title and URL
-- sorts have none: a wide key for each, on every write, for sorts seldom asked for.
CREATE INDEX links_created ON links (workspace_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX links_updated ON links (workspace_id, updated_at, id) WHERE deleted_at IS NULL;

CREATE TABLE link_totals (
    link_id       bigint PRIMARY KEY REFERENCES links (id) ON DELETE CASCADE,
    workspace_id  bigint NOT NULL,
    clicks        bigint NOT NULL DEFAULT 0
);
-- Scanned backwards for the most clicked first; link_id breaks ties as the list does.
CREATE INDEX link_totals_clicks ON link_totals (workspace_id, clicks, link_id);

CREATE FUNCTION kurz_link_totals_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_totals (link_id, workspace_id)
    SELECT id, workspace_id FROM new_rows ORDER BY id
    ON CONFLICT (link_id) DO NOTHING;
    RETURN NULL;
END $$;

-- Rows in key order, like the aggregator's, so concurrent batches lock totals in one
-- order and cannot deadlock. Clicks of a link without a `links` row (only tests write
-- those) have no total.
CREATE FUNCTION kurz_link_totals_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_totals (link_id, workspace_id, clicks)
    SELECT n.link_id, l.workspace_id, sum(n.clicks)
    FROM new_rows n JOIN links l ON l.id = n.link_id
    GROUP BY 1, 2 ORDER BY 1
    ON CONFLICT (link_id) DO UPDATE SET clicks = link_totals.clicks + EXCLUDED.clicks;
    RETURN NULL;
END $$;

CREATE FUNCTION kurz_link_totals_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_totals (link_id, workspace_id, clicks)
    SELECT n.link_id, l.workspace_id, sum(n.clicks - o.clicks)
    FROM new_rows n JOIN old_rows o USING (link_id, day) JOIN links l ON l.id = n.link_id
    GROUP BY 1, 2 ORDER BY 1
    ON CONFLICT (link_id) DO UPDATE SET clicks = link_totals.clicks + EXCLUDED.clicks;
    RETURN NULL;
END $$;

CREATE FUNCTION kurz_link_totals_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE link_totals t SET clicks = t.clicks - o.clicks
    FROM (SELECT link_id, sum(clicks) AS clicks FROM old_rows GROUP BY 1) o
    WHERE t.link_id = o.link_id;
    RETURN NULL;
END $$;

CREATE TRIGGER link_totals_created AFTER INSERT ON links
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION kurz_link_totals_created();
CREATE TRIGGER link_totals_added AFTER INSERT ON link_daily
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION kurz_link_totals_added();
CREATE TRIGGER link_totals_changed AFTER UPDATE ON link_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION kurz_link_totals_changed();
CREATE TRIGGER link_totals_removed AFTER DELETE ON link_daily
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION kurz_link_totals_removed();

-- The totals of what was there before. The triggers above already hold link_daily's and
-- links' write locks for this transaction, so nothing is added in between and counted
-- twice or missed.
INSERT INTO link_totals (link_id, workspace_id, clicks)
SELECT l.id, l.workspace_id, coalesce(d.clicks, 0)
FROM links l LEFT JOIN (SELECT link_id, sum(clicks) AS clicks FROM link_daily GROUP BY 1) d
    ON d.link_id = l.id;
