"""The aggregator's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

BATCH_SIZE = Histogram(
    "kurz_aggregator_batch_size",
    "Click events per committed batch",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000),
)
COMMIT_SECONDS = Histogram(
    "kurz_aggregator_commit_seconds",
    "Time to write one batch (partitions, COPY, rollups, commit)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS = Counter(
    "kurz_aggregator_events_total",
    "Click events handled, by result: new, duplicate (seen before), invalid or stale"
    " (older than click retention; both skipped)",
    ["result"],
)
COUNTED = Counter("kurz_aggregator_counted_total", "New events counted as clicks")
RECLAIMED = Counter(
    "kurz_aggregator_reclaimed_total", "Entries taken over from a dead or restarted consumer"
)
FAILURES = Counter(
    "kurz_aggregator_batch_failures_total", "Batches that failed and will be retried"
)
PARTITIONS_DROPPED = Counter(
    "kurz_aggregator_partitions_dropped_total", "Day partitions of raw clicks dropped"
)
DEAD_LETTERED = Counter(
    "kurz_aggregator_dead_lettered_total",
    "Entries that failed alone, every time, moved to the dead-letter stream",
)
