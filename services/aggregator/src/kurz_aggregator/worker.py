"""The aggregator's loop: read a batch, write it in one transaction, acknowledge, repeat.

    take a batch   entries this consumer held before (after a restart or a failed batch),
                   else entries idle too long on another consumer (XAUTOCLAIM),
                   else new entries (XREADGROUP, blocking up to block_ms)
    write it       decode, enrich, one transaction (writer.write_batch)
    acknowledge    XACK, only after the commit

A crash anywhere leaves the batch pending; whoever takes it next writes it again, and the
event ids make the second write a no-op. `stop()` lets the batch in flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz import keys
from kurz.events import FIELD, ClickEvent, entry_items
from kurz.redis_failures import fields
from kurz.settings import AggregatorSettings, RedisSettings
from kurz.stream import ConsumerGroup, Entry, EntrySizes, consumer_name
from kurz.stream_watch import Behind, Failing, watch
from redis.exceptions import RedisClusterException, RedisError, ResponseError

from kurz_aggregator import metrics
from kurz_aggregator.lookups import Lookups
from kurz_aggregator.poison import dead_letter, repeats
from kurz_aggregator.rows import Row, decode_entries, to_row, utc_days
from kurz_aggregator.upkeep import run_upkeep
from kurz_aggregator.writer import ensure_partitions, write_batch

log = logging.getLogger("kurz.aggregator")

_LAG_INTERVAL = 2.0
_CONSUMER_FORGET_MS = 86_400_000  # a consumer silent for a day with nothing pending is gone
_MAX_BACKOFF = 30.0
_ENRICH_SLICE = 200  # events enriched between two yields to the event loop
# After a read that brought fewer entries than asked for, wait this long before the next:
# under steady traffic a read then takes what arrived meanwhile, and a transaction, its
# lookups and an acknowledgement serve many more events. Clicks show in the statistics
# at most this much later; nothing else changes.
LINGER = 0.05
# What a batch can fail with and succeed on a later try: the dependencies' errors.
TRANSIENT_ERRORS = (
    asyncpg.PostgresError, asyncpg.InterfaceError, RedisError, RedisClusterException, OSError,
    TimeoutError,
)  # fmt: skip


def group_lost(exc: BaseException) -> bool:
    """The stream or its consumer group is gone from Redis (NOGROUP)."""
    return isinstance(exc, ResponseError) and str(exc).startswith("NOGROUP")


class Aggregator:
    def __init__(
        self,
        pool: asyncpg.Pool[Any],
        redis: aioredis.Redis,
        settings: AggregatorSettings,
        *,
        consumer: str | None = None,
        stream: str = keys.CLICK_STREAM,
        housekeeping: bool = True,
        upkeep: bool | None = None,
        stream_limits: RedisSettings | None = None,
    ) -> None:
        """`housekeeping`: this loop also reports the group's lag on its stream and trims
        it (one loop per process and stream shard is enough); `upkeep` (as housekeeping
        unless told): it also keeps the partitions and marks (one loop per process)."""
        name = consumer or settings.consumer or consumer_name()
        self.pool = pool
        self.settings = settings
        self.group = ConsumerGroup(redis, stream, keys.AGGREGATOR_GROUP, name)
        self.lookups = Lookups(settings.cache_ttl, isp_lookup=settings.isp_lookup)
        self._sizes = EntrySizes()
        self._stopping = False
        self._stopped = asyncio.Event()  # wakes a failure pause early on stop()
        self._own_pending = True  # first look at what this name held before a restart
        self._short_read = False  # the last new entries read were fewer than asked for
        self._partitions: set[date] = set()
        self._next_reclaim = 0.0
        self._next_lag = 0.0
        self._next_upkeep = 0.0
        self._failures = 0
        self._housekeeping = housekeeping
        self._upkeep = housekeeping if upkeep is None else upkeep
        limits = stream_limits or RedisSettings()
        self._high_water = limits.stream_high_water_bytes
        self.behind = Behind(
            stream, keys.AGGREGATOR_GROUP, limits.stream_behind_seconds, self._high_water
        )
        self.failing = Failing(name)

    def stop(self) -> None:
        """Stop taking batches; the one in flight still commits and is acknowledged."""
        self._stopping = True
        self._stopped.set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def run(self, *, burst: bool = False) -> int:
        """Process until stopped; with `burst`, until nothing is left, and failures raise.
        Returns the number of entries acknowledged."""
        await self._ensure_group(burst)
        handled = 0
        while not self._stopping:
            if not burst and self._housekeeping:
                await self._periodic()
            entries: list[Entry] = []
            try:
                entries = await self._take(burst)
                if not entries:
                    if burst:
                        break
                    self.failing.succeeded()  # reading works, and nothing waits
                    continue
                handled += await self.handle(entries)
                self._failures = 0
                self.failing.succeeded()
                if self._short_read and not burst and not self._stopping:
                    await asyncio.sleep(LINGER)
            except Exception as exc:
                if burst:
                    raise
                if self.stopping:
                    break  # a read cut short by the stop: the batch stays pending, unread
                handled += await self._recover(exc, entries)
        return handled

    async def _recover(self, exc: Exception, entries: list[Entry]) -> int:
        """After a failed batch: recreate a lost group, set aside entries that fail every
        time, or retry the batch after a pause. Returns the entries acknowledged."""
        if group_lost(exc):
            # Redis lost the group (flushed, or restarted empty): make it again.
            log.warning("consumer group missing; creating it again")
            await self._ensure_group(False)
            return 0
        if entries and repeats(exc):
            try:
                return await self._isolate(entries, exc)
            except Exception as again:  # an outage meanwhile: retry what is left
                exc = again
        await self._after_failure(exc)
        return 0

    async def _isolate(self, entries: list[Entry], first: Exception) -> int:
        """Write the batch one entry at a time, and an entry holding several events that
        fails alone one event at a time: what fails alone, the same way, goes to the
        dead-letter stream, and the entry is acknowledged once the rest is written."""
        metrics.FAILURES.inc()
        self._partitions.clear()
        log.error("batch failed on its data; retrying entry by entry", extra={"error": repr(first)})
        for entry in entries:
            try:
                await self.handle([entry])
                continue
            except Exception as exc:
                if not repeats(exc):
                    raise
                failed = exc
            items = entry_items(entry.fields)
            if items and len(items) > 1:
                await self._isolate_events(entry, items)
            else:
                await self._dead_letter(entry, failed)
            await self.group.ack([entry.id])
        return len(entries)

    async def _isolate_events(self, entry: Entry, items: list[bytes]) -> None:
        """The events of one batch entry, each alone. A crash midway leaves the entry
        pending: the events written already are no-ops the next time."""
        for item in items:
            single = Entry(entry.id, {FIELD: item})
            try:
                await self.handle([single], acknowledge=False)
            except Exception as exc:
                if not repeats(exc):
                    raise
                await self._dead_letter(single, exc)

    async def _dead_letter(self, entry: Entry, exc: Exception) -> None:
        await dead_letter(self.group.redis, self.group.stream, entry, exc)
        metrics.DEAD_LETTERED.inc()
        log.error(
            "entry moved to the dead-letter stream",
            extra={"entry": entry.id.decode(), "error": repr(exc)},
        )

    async def _ensure_group(self, burst: bool) -> None:
        while True:
            try:
                await self.group.ensure()
                return
            except TRANSIENT_ERRORS as exc:
                if burst:
                    raise
                if self._stopping:
                    return
                await self._after_failure(exc)

    async def handle(self, entries: list[Entry], *, acknowledge: bool = True) -> int:
        """Write the entries' events in one transaction, then acknowledge them all (unless
        told not to: `_isolate_events` acknowledges a batch entry after its last event)."""
        decoded = decode_entries(entries, self._oldest())
        if decoded.events:
            started = time.perf_counter()
            async with self.pool.acquire() as conn:
                workspaces = {e.workspace_id for e in decoded.events}
                groups = {e.group_id for e in decoded.events if e.group_id is not None}
                await self.lookups.load(conn, workspaces, groups)
                rows = await self._rows(decoded.events)
                missing = utc_days(rows) - self._partitions
                if missing:
                    await ensure_partitions(conn, sorted(missing))
                    self._partitions |= missing
                written = await write_batch(conn, rows)
            metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
            metrics.EVENTS.labels("new").inc(written.fresh)
            metrics.EVENTS.labels("duplicate").inc(len(decoded.events) - written.fresh)
            metrics.COUNTED.inc(written.counted)
        if decoded.invalid:
            metrics.EVENTS.labels("invalid").inc(decoded.invalid)
            log.warning("skipped entries that are no click events", extra={"n": decoded.invalid})
        if decoded.stale:
            metrics.EVENTS.labels("stale").inc(decoded.stale)
            log.warning("skipped events older than click retention", extra={"n": decoded.stale})
        events = len(decoded.events) + decoded.invalid + decoded.stale
        if acknowledge:
            await self.group.ack([entry.id for entry in entries])
            # Entries as read: the events of a batch entry tried one at a time are not.
            self._sizes.saw(len(entries), events)
        metrics.BATCH_SIZE.observe(events)
        return len(entries)

    async def _rows(self, events: list[ClickEvent]) -> list[Row]:
        """Enrich the events. A user agent not seen before costs crawlerdetect a few
        hundred microseconds: yield to the event loop now and then, so a cold cache does
        not hold up /healthz or the other consumers for a whole batch."""
        rows: list[Row] = []
        for start in range(0, len(events), _ENRICH_SLICE):
            rows.extend(to_row(e, self.lookups) for e in events[start : start + _ENRICH_SLICE])
            await asyncio.sleep(0)
        return rows

    def _oldest(self) -> float | None:
        """Start of the oldest day partition upkeep keeps (UTC midnight), as Unix time."""
        days = self.settings.click_retention_days
        if days <= 0:
            return None
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return (today - timedelta(days=days)).timestamp()

    async def _take(self, burst: bool) -> list[Entry]:
        size = self._sizes.entries_for(self.settings.batch_size)
        self._short_read = False  # set only by a read of new entries, below
        if self._own_pending:
            entries = await self.group.own_pending(size)
            if entries:
                return entries
            self._own_pending = False
        now = time.monotonic()
        if burst or now >= self._next_reclaim:
            self._next_reclaim = now + max(self.settings.claim_idle_ms / 2000, 1.0)
            entries = await self.group.reclaim(self.settings.claim_idle_ms, size)
            if entries:
                metrics.RECLAIMED.inc(len(entries))
                log.info("reclaimed pending entries", extra={"count": len(entries)})
                return entries
        entries = await self.group.read(size, block_ms=None if burst else self.settings.block_ms)
        self._short_read = 0 < len(entries) < size
        return entries

    async def _after_failure(self, exc: BaseException) -> None:
        """The batch stays pending: retry it (as own pending) after a growing pause."""
        metrics.FAILURES.inc()
        self._failures += 1
        self.failing.failed(exc)
        self._own_pending = True
        self._partitions.clear()  # a partition may have been dropped since it was seen
        pause = min(0.5 * 2 ** (self._failures - 1), _MAX_BACKOFF)
        log.error("batch failed; retrying", extra={**fields(exc), "retry_in": pause})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), pause)

    async def _periodic(self) -> None:
        now = time.monotonic()
        try:
            if now >= self._next_lag:
                self._next_lag = now + _LAG_INTERVAL
                await self.update_lag()
            if self._upkeep and now >= self._next_upkeep:
                self._next_upkeep = now + self.settings.maintenance_interval
                await self.upkeep()
        except TRANSIENT_ERRORS as exc:
            log.warning("upkeep failed", extra={"error": repr(exc)})

    async def update_lag(self) -> None:
        """This group's lag, pending entries and oldest unacknowledged age; the stream
        trimmed below what every group acknowledged (kurz.stream_watch)."""
        health = await watch(
            self.group.redis, self.group.stream, self.group.group,
            high_water_bytes=self._high_water,
        )  # fmt: skip
        if health is not None:
            self.behind.saw(health)

    async def upkeep(self) -> None:
        async with self.pool.acquire() as conn:
            result = await run_upkeep(
                conn,
                retention_days=self.settings.click_retention_days,
                mark_days=self.settings.visitor_mark_days,
            )
        if result.dropped:
            metrics.PARTITIONS_DROPPED.inc(len(result.dropped))
            self._partitions.clear()
        await self.group.prune_consumers(_CONSUMER_FORGET_MS)
