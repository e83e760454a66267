"""The redirector's Prometheus metrics, kept as plain integers on the hot path.

prometheus_client's own Histogram takes a lock and walks its buckets on every
observation; here a request costs one bisect and two additions, and the numbers are
turned into metric families only when /metrics is scraped (a histogram's count is the
sum of its buckets, added up then).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_ROW = len(BUCKETS) + 2


class EdgeStats:
    def __init__(self) -> None:
        # outcome -> counts per bucket (the last one +Inf), then the sum of seconds
        self.latency: defaultdict[str, list[float]] = defaultdict(lambda: [0.0] * _ROW)
        self.cache_hits = 0
        self.cache_misses = 0
        self.answered_in_protocol = 0  # visits the HTTP protocol answered without ASGI
        self.events_published = 0
        self.event_writes = 0  # round trips that wrote events: batching shows as a ratio
        self.events_buffered = 0
        self.events_dropped = 0
        self.events_unreplicated = 0  # answered before KURZ_EDGE_WAIT_REPLICAS replicas had them
        self.buffer_size = 0
        self.redis_up = 1  # last event write or invalidation subscription worked
        self.replica_stale = 0  # replica reads the primary had changed: read from it

    def observe(self, outcome: str, seconds: float) -> None:
        row = self.latency[outcome]
        row[bisect_left(BUCKETS, seconds)] += 1
        row[-1] += seconds


class _StatsCollector(Collector):
    def __init__(self) -> None:
        self.stats = EdgeStats()

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        s = self.stats
        hist = HistogramMetricFamily(
            "kurz_redirect_seconds", "Time the redirector spent per visit", labels=["outcome"]
        )
        for outcome, row in sorted(s.latency.items()):
            cumulative = 0.0
            buckets = []
            for bound, count in zip((*BUCKETS, float("inf")), row[: len(BUCKETS) + 1], strict=True):
                cumulative += count
                buckets.append((str(bound) if bound != float("inf") else "+Inf", cumulative))
            hist.add_metric([outcome], buckets, row[-1])
        yield hist
        cache = CounterMetricFamily(
            "kurz_edge_cache_lookups", "In-process link cache lookups", labels=["result"]
        )
        cache.add_metric(["hit"], s.cache_hits)
        cache.add_metric(["miss"], s.cache_misses)
        yield cache
        yield CounterMetricFamily(
            "kurz_visits_answered_in_protocol",
            "Visits to cached plain redirects answered by the HTTP protocol, without ASGI",
            s.answered_in_protocol,
        )
        events = CounterMetricFamily("kurz_click_events", "Click events", labels=["state"])
        events.add_metric(["published"], s.events_published)
        events.add_metric(["buffered"], s.events_buffered)
        events.add_metric(["dropped"], s.events_dropped)
        events.add_metric(["unreplicated"], s.events_unreplicated)
        yield events
        yield CounterMetricFamily(
            "kurz_click_event_writes", "Round trips that wrote click events", s.event_writes
        )
        yield GaugeMetricFamily(
            "kurz_click_event_buffer",
            "Events in the on-disk spool, not yet replayed",
            s.buffer_size,
        )
        yield GaugeMetricFamily(
            "kurz_redis_up", "1 while the redirector's Redis exchanges succeed, else 0", s.redis_up
        )
        yield CounterMetricFamily(
            "kurz_edge_replica_stale_reads",
            "Links the read replica had behind the primary, read from the primary instead",
            s.replica_stale,
        )


_collector = _StatsCollector()
REGISTRY.register(_collector)


def new_stats() -> EdgeStats:
    """Fresh numbers for a new app instance; /metrics shows the latest one."""
    _collector.stats = EdgeStats()
    return _collector.stats
