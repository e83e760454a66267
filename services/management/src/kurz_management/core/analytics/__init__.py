"""The statistics query layer every API family and the public statistics page share.

It reads the aggregator's rollups (daily and hourly clicks and exact visitors per link,
group and workspace, and daily per-dimension counters) and, for filters the rollups
cannot answer, the raw `clicks` table. Every query is scoped to one workspace: a link,
group or tag of another workspace is "not found", exactly like one that does not exist.
"""
