"""Click events into the Redis stream, durable before the response, in group commits.

Requests append their encoded event and await their own future (or leave a callback:
the hot path inside the HTTP protocol has no task to wake); one writer sends all events
gathered since its previous write in a single round trip, as one stream entry holding
the batch (kurz.events), then wakes those requests.

While Redis is away, events go to the edge's write-ahead spool on local disk instead
(spool.py), in group commits too: one append and one fsync for every event gathered
since the previous one, and only then are those requests answered. So an answered
visit's event is in Redis or on disk, whatever happens to the process next. A healer
replays the spool into the stream once Redis answers again, and at start-up replays what
a process that died left behind. Past the spool's bound an event is counted as dropped
(alerted) and its visit still answered.

The writer owns a connection (wire.py): a batch costs one packed command and one reply.
An event whose batch failed after Redis ran it may be written twice, and a spool segment
whose replay was cut short is replayed again: consumers are idempotent on event id.

The click stream may be cut in shards (KURZ_STREAM_SHARDS), which a Redis Cluster puts
on several masters: each batch goes to the next shard in turn, and a batch a shard
refuses (its master failing over) goes to the next one before any is spooled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TypeVar

import redis.asyncio as aioredis
from kurz import keys
from kurz.events import BATCH_FIELD, encode_batch
from kurz.logs import Sparse
from kurz.redis_failures import fields
from redis.exceptions import RedisClusterException, RedisError

from kurz_redirector.metrics import EdgeStats
from kurz_redirector.spool import Spool
from kurz_redirector.wire import make_wire

log = logging.getLogger(__name__)

_CHUNK = 500  # events per stream entry, at most: consumers read batches of entries
_REDIS_ERRORS = (RedisError, RedisClusterException, OSError, TimeoutError)
T = TypeVar("T")


class EventRecorder:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        spool: Spool,
        stats: EdgeStats,
        retry_interval: float = 0.5,
        timeout: float = 2.0,
        wait_replicas: int = 0,
        wait_ms: int = 500,
        streams: list[str] | None = None,
    ) -> None:
        # WAIT's own timeout inside the exchange's: the answer is never held past it.
        self._wait = (wait_replicas, min(wait_ms, int(timeout * 1000) // 2))
        self._wire = make_wire(redis, timeout=timeout)
        self._streams = [s.encode() for s in streams or [keys.CLICK_STREAM]]
        self._turn = 0  # the shard the next batch goes to
        self._spool = spool
        self._stats = stats
        self._retry_interval = retry_interval
        self._to_redis = _Batch()
        self._to_disk = _Batch()
        self._disk_lock = asyncio.Lock()  # one spool operation at a time, in a thread
        self._spooling = False  # Redis is away: new events go to the spool
        self._writer: asyncio.Task[None] | None = None
        self._spooler: asyncio.Task[None] | None = None
        self._healer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop
        self._done: asyncio.Future[None]  # already done: what a late event awaits
        self._stopped = False  # close() has begun: events go to the spool
        self._closed = False  # and the spool is released: events are dropped
        self._drop_log = Sparse()

    @property
    def degraded(self) -> bool:
        return self._spooling

    def start(self) -> None:
        """Start the writers, and replay what a process that died left in the spool."""
        # Kept: asking asyncio for the running loop on every event costs a getpid() call.
        self._loop = asyncio.get_running_loop()
        self._done = self._loop.create_future()
        self._done.set_result(None)
        self._writer = asyncio.create_task(self._write_loop(), name="click-event-writer")
        self._spooler = asyncio.create_task(self._spool_loop(), name="click-event-spooler")
        adopted = self._spool.adopt()
        self._stats.buffer_size = self._spool.events
        if adopted:
            log.warning("replaying click events left in the spool", extra={"count": adopted})
            self._start_healing()

    def record(self, event: bytes) -> asyncio.Future[None]:
        """Done once the event is in the stream, or in the spool while Redis is away.
        A plain method returning the request's future: no coroutine per event."""
        if self._closed:
            self._drop(1)
            return self._done
        waiter = self._loop.create_future()
        batch = self._to_disk if self._spooling or self._stopped else self._to_redis
        if not batch.events:
            batch.wake.set()  # its writer takes every event appended until it runs
        batch.events.append(event)
        batch.waiters.append(waiter)
        return waiter

    def record_then(self, event: bytes, callback: Callable[[], None]) -> None:
        """`record`, calling `callback` instead of completing a future: from a writer
        once the event is stored (never from inside the caller, which may be in the
        middle of parsing a request)."""
        if self._closed:
            self._drop(1)
            self._loop.call_soon(callback)
            return
        batch = self._to_disk if self._spooling or self._stopped else self._to_redis
        if not batch.events:
            batch.wake.set()
        batch.events.append(event)
        batch.waiters.append(callback)

    async def _write_loop(self) -> None:
        batch = self._to_redis
        while True:
            await batch.wake.wait()
            # One more turn of the loop first: requests read in that turn join the batch,
            # which halves the writes under load for a few microseconds of latency.
            await asyncio.sleep(0)
            batch.wake.clear()
            batch.idle.clear()
            while batch.events:
                events, waiters = batch.take()
                try:
                    written = await self._write(events)
                except asyncio.CancelledError:
                    # Stopped mid-write (close): maybe written, maybe not. To the spool
                    # (consumers are idempotent on event id), answered once there.
                    self._to_disk.join(events, waiters)
                    raise
                if written:
                    _wake(waiters)
                else:
                    self._spooling = True
                    self._to_disk.join(events, waiters)
                    self._start_healing()
            batch.idle.set()

    async def _write(self, events: list[bytes]) -> bool:
        start = 0
        try:
            for start in range(0, len(events), _CHUNK):
                self._stats.event_writes += 1
                await self._add(events[start : start + _CHUNK])
        except _REDIS_ERRORS as exc:
            self._stats.redis_up = 0
            # A failure mid-way may leave earlier chunks written: keep only the rest.
            del events[:start]
            log.warning("click stream unavailable; spooling events", extra=fields(exc))
            return False
        self._stats.events_published += len(events)
        self._stats.redis_up = 1
        return True

    async def _add(self, events: list[bytes]) -> None:
        """One XADD of one entry holding the batch, on the next shard in turn; a shard
        that fails passes the batch to the next (a batch a failing shard may have taken
        after all is written twice: consumers are idempotent). No trimming here: the
        consumers trim below what every group acknowledged (kurz.stream_watch)."""
        entry = encode_batch(events)
        shards = len(self._streams)
        first = self._turn
        self._turn = (first + 1) % shards
        for step in range(shards):
            stream = self._streams[(first + step) % shards]
            try:
                await self._add_to(stream, entry, len(events))
                return
            except _REDIS_ERRORS:
                if step == shards - 1:
                    raise

    async def _add_to(self, stream: bytes, entry: bytes, count: int) -> None:
        wire = self._wire
        await wire.call_for(stream, b"XADD", stream, b"*", BATCH_FIELD, entry)
        replicas, wait_ms = self._wait
        if replicas:
            # Async replication loses what a master acknowledged and no replica had when
            # it fails over; WAIT holds the answers until `replicas` have the entry. Past
            # `wait_ms` they go out anyway (the entry is on the master), counted. On the
            # connection that wrote it: WAIT counts that connection's writes.
            acknowledged = await wire.call_for(stream, b"WAIT", replicas, wait_ms)
            if int(acknowledged) < replicas:
                self._stats.events_unreplicated += count

    async def _spool_loop(self) -> None:
        batch = self._to_disk
        while True:
            await batch.wake.wait()
            batch.wake.clear()
            batch.idle.clear()
            while batch.events:
                events, waiters = batch.take()
                await self._to_spool(events)
                _wake(waiters)
            batch.idle.set()

    async def _to_spool(self, events: list[bytes]) -> None:
        """Append and fsync, in a thread; what does not fit (or a disk that fails) is
        counted as dropped."""
        try:
            kept = await self._on_disk(self._spool.append, events)
        except OSError as exc:
            log.error("click event spool failed", extra={"error": repr(exc)})
            kept = 0
        self._stats.events_buffered += kept
        self._stats.buffer_size = self._spool.events
        if kept < len(events):
            self._drop(len(events) - kept)

    def _drop(self, count: int) -> None:
        self._stats.events_dropped += count
        if self._drop_log.due() is not None:  # one line per interval, not one per visit
            log.error(
                "click events dropped: the spool is full or unusable",
                extra={"dropped_total": self._stats.events_dropped},
            )

    def _start_healing(self) -> None:
        if self._healer is None and not self._stopped:
            self._healer = asyncio.create_task(self._heal(), name="click-event-healer")

    async def _heal(self) -> None:
        """Once Redis answers: new events go there again, and the spool is replayed."""
        try:
            pause = self._spooling
            while True:
                if pause:
                    await asyncio.sleep(self._retry_interval)
                pause = True
                if not await self._replay():
                    continue
                if not self._spooling and self._spool.empty:
                    return
        finally:
            self._healer = None

    async def _replay(self) -> bool:
        """Every event in the spool into the stream, segment by segment, each removed
        once written; False if Redis failed on the way (what is left stays on disk)."""
        try:
            await self._wire.call_for(self._streams[0], b"PING")
        except _REDIS_ERRORS:
            return False
        self._spooling = False  # new events go to Redis again
        await self._to_disk.idle.wait()  # those already on their way to disk land first
        await self._on_disk(self._spool.seal)
        for path in self._spool.sealed():
            events = await self._on_disk(self._spool.read, path)
            if not await self._write(events):
                self._spooling = True
                return False
            await self._on_disk(self._spool.remove, path)
            self._stats.buffer_size = self._spool.events
        return True

    async def _on_disk(self, work: Callable[..., T], *args: object) -> T:
        """One spool operation at a time, in a thread. A cancelled caller still waits for
        the thread to finish, so the next operation never overlaps it."""
        async with self._disk_lock:
            running = asyncio.ensure_future(asyncio.to_thread(work, *args))
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                await asyncio.wait([running])
                raise

    async def close(self, grace: float = 5.0) -> None:
        """Write what is pending; replay the spool within `grace` seconds. What Redis did
        not take stays in the spool for the next start."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        self._stopped = True  # new events go to the spool from now on
        for batch in (self._to_redis, self._to_disk):
            if batch.events:
                batch.idle.clear()  # its writer sets it again once they are stored
                batch.wake.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(batch.idle.wait(), max(deadline - loop.time(), 0.5))
        for task in (self._healer, self._writer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._to_disk.idle.wait(), max(deadline - loop.time(), 0.5))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._replay_until(deadline), max(deadline - loop.time(), 0.5))
        if self._spooler is not None:
            self._spooler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._spooler
        events, waiters = self._to_disk.take()
        if events:
            self._spool.append(events)  # the last few, at once: the loop is ending
        _wake(waiters)
        left = self._spool.events
        if left:
            log.error("click events left in the spool for the next start", extra={"count": left})
        self._closed = True
        self._spool.close()
        await self._wire.close()

    async def _replay_until(self, deadline: float) -> None:
        """Shutdown's last chance: Redis may come back within the grace period. Nothing
        spooled, nothing to wait for (a stack stopping all at once has no Redis)."""
        loop = asyncio.get_running_loop()
        while not self._spool.empty:
            if await self._replay():
                continue  # the loop's own test tells whether anything is left
            if loop.time() + self._retry_interval >= deadline:
                return
            await asyncio.sleep(self._retry_interval)


Waiter = asyncio.Future[None] | Callable[[], None]


class _Batch:
    """Events waiting for one writer, with what to wake once they are stored."""

    def __init__(self) -> None:
        self.events: list[bytes] = []
        self.waiters: list[Waiter] = []
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()

    def join(self, events: list[bytes], waiters: list[Waiter]) -> None:
        if events or waiters:
            self.wake.set()
        self.events += events
        self.waiters += waiters

    def take(self) -> tuple[list[bytes], list[Waiter]]:
        taken = self.events, self.waiters
        self.events, self.waiters = [], []
        return taken


def _wake(waiters: list[Waiter]) -> None:
    for waiter in waiters:
        if isinstance(waiter, asyncio.Future):
            if not waiter.done():
                waiter.set_result(None)
            continue
        try:
            waiter()
        except Exception:  # one request's failure must not stop the writer
            log.exception("click event callback failed")
