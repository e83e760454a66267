-- kurz: a visitor's day mark, so concurrent aggregators count unique visitors exactly
-- without a lock of their own.
--
-- The visitor marks (day, key, visitor, hour) gain a row with hour -1 per visitor and
-- day: a batch counts a visitor new to the day exactly when it inserted that row (the
-- primary key orders concurrent inserts of it). Until now a batch looked for any earlier
-- hour mark instead, which only holds when batches take turns. The days already marked
-- get their day marks here, so no visitor of them counts twice.
INSERT INTO link_visitors (day, link_id, visitor, hour)
    SELECT DISTINCT day, link_id, visitor, -1 FROM link_visitors ON CONFLICT DO NOTHING;
INSERT INTO group_visitors (day, group_id, visitor, hour)
    SELECT DISTINCT day, group_id, visitor, -1 FROM group_visitors ON CONFLICT DO NOTHING;
INSERT INTO workspace_visitors (day, workspace_id, visitor, hour)
    SELECT DISTINCT day, workspace_id, visitor, -1 FROM workspace_visitors
    ON CONFLICT DO NOTHING;
