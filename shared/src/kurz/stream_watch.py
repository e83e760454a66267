"""The click stream kept as short as the consumer groups allow, and watched.

Nothing trims the stream by length: an entry goes only once every consumer group has had
it delivered and acknowledged. `acknowledged_bound` is the lowest id some group still
needs: the oldest entry pending on any of its consumers, else the next id after its
last delivered entry. `trim_acknowledged` removes what lies below that bound with
`XTRIM MINID`. A group that stops consuming holds the stream where it stopped, so the
stream grows instead of losing its entries: `watch` reports its size and how old its
oldest unacknowledged entry is, so an alert fires long before Redis runs out of memory.

Each consumer calls `watch` for its own group, exporting that group's lag (entries not
yet delivered), pending entries and oldest unacknowledged age, and trims; either one
trimming is enough, and both doing it is harmless (the bound only moves forward).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import Counter, Gauge

log = logging.getLogger("kurz.stream")

STREAM_LAG = Gauge(
    "kurz_stream_lag", "Entries not yet delivered to the consumer group", ["stream", "group"]
)
STREAM_PENDING = Gauge(
    "kurz_stream_pending", "Entries delivered and not yet acknowledged", ["stream", "group"]
)
OLDEST_UNACKED = Gauge(
    "kurz_stream_oldest_unacked_seconds",
    "Age of the oldest entry the consumer group has not acknowledged (0 when none)",
    ["stream", "group"],
)
STREAM_BYTES = Gauge("kurz_stream_bytes", "Memory the stream takes in Redis", ["stream"])
STREAM_ENTRIES = Gauge("kurz_stream_entries", "Entries in the stream", ["stream"])
HIGH_WATER = Gauge(
    "kurz_stream_high_water_bytes", "The stream size past which kurz alerts", ["stream"]
)
TRIMMED = Counter(
    "kurz_stream_trimmed_total", "Entries removed, all acknowledged by every group", ["stream"]
)

_LAG_COUNT_CAP = 100_000  # entries counted one page at a time when Redis cannot tell the lag


def parse_id(raw: bytes | str) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


@dataclass(frozen=True)
class GroupState:
    name: str
    last_delivered: tuple[int, int]
    pending: int
    oldest_pending: tuple[int, int] | None
    lag: int | None  # as Redis tells it; None when it cannot

    @property
    def needed_from(self) -> tuple[int, int]:
        """The lowest id this group may still read or have redelivered."""
        if self.oldest_pending is not None:
            return self.oldest_pending  # never after the last delivered entry
        return self.last_delivered[0], self.last_delivered[1] + 1


async def group_states(redis: aioredis.Redis, stream: str) -> list[GroupState]:
    states = []
    for info in await redis.xinfo_groups(stream):
        name = _text(info["name"])
        pending = int(info["pending"])
        oldest = None
        if pending:
            summary = await redis.xpending(stream, name)
            if summary["min"] is not None:
                oldest = parse_id(summary["min"])
        lag = info.get("lag")
        states.append(
            GroupState(
                name,
                parse_id(info["last-delivered-id"]),
                pending,
                oldest,
                None if lag is None else int(lag),
            )
        )
    return states


def acknowledged_bound(states: list[GroupState]) -> tuple[int, int] | None:
    """Entries below this id are acknowledged by every group; None: trim nothing."""
    if not states:
        return None  # no group yet: whoever comes first will want everything
    bound = min(state.needed_from for state in states)
    return None if bound <= (0, 1) else bound


async def trim_acknowledged(
    redis: aioredis.Redis, stream: str, states: list[GroupState] | None = None
) -> int:
    """XTRIM MINID below what every group acknowledged; returns the entries removed.
    The bound only moves forward, so states read a moment ago are still safe to use."""
    bound = acknowledged_bound(states if states is not None else await group_states(redis, stream))
    if bound is None:
        return 0
    removed: int = await redis.xtrim(stream, minid=f"{bound[0]}-{bound[1]}", approximate=False)
    if removed:
        TRIMMED.labels(stream).inc(removed)
    return removed


async def _undelivered(redis: aioredis.Redis, stream: str, state: GroupState) -> int:
    """Entries after the group's last delivered one: Redis's own count when it has one,
    else counted (bounded) page by page."""
    if state.lag is not None:
        return state.lag
    start = f"({state.last_delivered[0]}-{state.last_delivered[1]}"
    counted = 0
    while counted < _LAG_COUNT_CAP:
        page = await redis.xrange(stream, min=start, max="+", count=1000)
        if not page:
            break
        counted += len(page)
        start = "(" + _text(page[-1][0])
    return counted


async def _oldest_unacked_ms(redis: aioredis.Redis, stream: str, state: GroupState) -> int | None:
    """Id time (ms) of the oldest entry the group has not acknowledged, if any."""
    if state.oldest_pending is not None:
        return state.oldest_pending[0]
    start = f"({state.last_delivered[0]}-{state.last_delivered[1]}"
    first: Any = await redis.xrange(stream, min=start, max="+", count=1)
    return parse_id(first[0][0])[0] if first else None


@dataclass(frozen=True)
class GroupHealth:
    lag: int
    pending: int
    oldest_unacked_seconds: float
    stream_bytes: int


async def watch(
    redis: aioredis.Redis, stream: str, group: str, *, high_water_bytes: int
) -> GroupHealth | None:
    """Export the stream's size and this group's lag, pending entries and oldest
    unacknowledged age, then trim what every group acknowledged. None: no such group."""
    states = await group_states(redis, stream)
    state = next((s for s in states if s.name == group), None)
    if state is None:
        return None
    lag = await _undelivered(redis, stream, state)
    oldest_ms = await _oldest_unacked_ms(redis, stream, state)
    age = max(time.time() - oldest_ms / 1000, 0.0) if oldest_ms is not None else 0.0
    await trim_acknowledged(redis, stream, states)
    size = int(await redis.memory_usage(stream) or 0)
    STREAM_LAG.labels(stream, group).set(lag)
    STREAM_PENDING.labels(stream, group).set(state.pending)
    OLDEST_UNACKED.labels(stream, group).set(age)
    STREAM_BYTES.labels(stream).set(size)
    STREAM_ENTRIES.labels(stream).set(await redis.xlen(stream))
    HIGH_WATER.labels(stream).set(high_water_bytes)
    return GroupHealth(lag, state.pending, age, size)


class Behind:
    """Whether a group is behind (its oldest unacknowledged entry older than `limit`
    seconds, or the stream past its high water), logged once when it starts and once
    when it ends, and told to readiness in the meantime."""

    def __init__(self, stream: str, group: str, limit: float, high_water_bytes: int) -> None:
        self.stream = stream
        self.group = group
        self.limit = limit
        self.high_water = high_water_bytes
        self.reason: str | None = None

    def saw(self, health: GroupHealth) -> None:
        reason = None
        if health.oldest_unacked_seconds > self.limit:
            reason = (
                f"consumer group {self.group} is behind: its oldest unacknowledged entry is "
                f"{health.oldest_unacked_seconds:.0f} s old ({health.lag} not delivered)"
            )
        elif health.stream_bytes > self.high_water:
            reason = (
                f"stream {self.stream} holds {health.stream_bytes} bytes, past its high water "
                f"of {self.high_water}: a consumer group is holding it"
            )
        if reason is not None and self.reason is None:
            log.error(reason, extra={"group": self.group, "lag": health.lag})
        elif reason is None and self.reason is not None:
            log.warning("consumer group caught up", extra={"group": self.group})
        self.reason = reason

    def check(self) -> None:
        """For readiness: raises while the group is behind."""
        if self.reason is not None:
            raise RuntimeError(self.reason)


class Failing:
    """Whether a consumer's batches keep failing: after `limit` failures in a row (and
    until the next success) readiness says so, and the first of them is logged as the
    start of it, the success after them as its end. PING and SELECT 1 can both answer
    while every batch fails (a Redis node that turned read-only, a table it cannot
    write): readiness must see the batches."""

    def __init__(self, consumer: str, limit: int = 3) -> None:
        self.consumer = consumer
        self.limit = limit
        self.in_a_row = 0
        self.last_error = ""

    def failed(self, exc: BaseException) -> None:
        self.in_a_row += 1
        self.last_error = repr(exc)
        if self.in_a_row == self.limit:
            log.error(
                "batches keep failing; not ready until one succeeds",
                extra={"consumer": self.consumer, "failures": self.in_a_row,
                       "error": self.last_error},
            )  # fmt: skip

    def succeeded(self) -> None:
        if self.in_a_row >= self.limit:
            log.info("batches succeed again", extra={"consumer": self.consumer})
        self.in_a_row = 0

    def check(self) -> None:
        """For readiness: raises while batches keep failing."""
        if self.in_a_row >= self.limit:
            raise RuntimeError(
                f"{self.consumer}: {self.in_a_row} batches failed in a row ({self.last_error})"
            )
