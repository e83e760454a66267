"""Click events into the Redis stream, durable before the response, in group commits.

Requests append their encoded event and await their own future (or leave a callback:
the hot path inside the HTTP protocol has no task to wake); one writer sends all events
gathered since its previous write in a single round trip, as one stream entry holding
the batch (kurz.events), then wakes those requests. While Redis is away, events
wait in a bounded in-memory buffer and requests are answered at once; a background task
writes the buffer back when Redis returns, and shutdown writes what it can.

The writer owns a connection (wire.py): a batch costs one packed command and one reply.
An event whose batch failed after Redis ran it may be written twice; consumers are
idempotent on event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

import redis.asyncio as aioredis
from kurz import keys
from kurz.events import BATCH_FIELD, encode_batch
from redis.exceptions import RedisError

from kurz_redirector.metrics import EdgeStats
from kurz_redirector.wire import Wire

log = logging.getLogger(__name__)

_CHUNK = 500  # events per stream entry, at most: consumers read batches of entries
_STREAM_KEY = keys.CLICK_STREAM.encode()


class EventRecorder:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        buffer_limit: int,
        stats: EdgeStats,
        retry_interval: float = 0.5,
        timeout: float = 2.0,
    ) -> None:
        self._wire = Wire(redis, timeout=timeout)
        self._limit = buffer_limit
        self._stats = stats
        self._retry_interval = retry_interval
        self._batch: list[bytes] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._callbacks: list[Callable[[], None]] = []
        self._wake = asyncio.Event()
        self._backlog: deque[bytes] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop
        self._done: asyncio.Future[None]  # already done: what a buffered event awaits
        self._healer: asyncio.Task[None] | None = None
        self._busy = False
        self._idle = asyncio.Event()
        self._stopped = False  # the writer is gone (close): events go to the backlog
        self._closed = False  # and so is the backlog's last drain: events are dropped

    @property
    def degraded(self) -> bool:
        return self._healer is not None

    def start(self) -> None:
        # Kept: asking asyncio for the running loop on every event costs a getpid() call.
        self._loop = asyncio.get_running_loop()
        self._done = self._loop.create_future()
        self._done.set_result(None)
        self._writer = asyncio.create_task(self._write_loop(), name="click-event-writer")

    def record(self, event: bytes) -> asyncio.Future[None]:
        """Done once the event is in the stream, or at once (buffered) if Redis is away.
        A plain method returning the request's future: no coroutine per event."""
        if not self._join(event):
            return self._done
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        return waiter

    def record_then(self, event: bytes, callback: Callable[[], None]) -> None:
        """`record`, calling `callback` instead of completing a future: from the writer,
        or in the next turn of the loop if Redis is away (never from inside the caller,
        which may be in the middle of parsing a request)."""
        if self._join(event):
            self._callbacks.append(callback)
        else:
            self._loop.call_soon(callback)

    def _join(self, event: bytes) -> bool:
        """The event into the batch the writer takes next (True), or into the backlog while
        Redis is away or the writer is gone (False: its request is answered at once)."""
        if self._healer is not None or self._stopped:
            self._hold([event])
            return False
        if not self._batch:
            self._wake.set()  # the writer takes every event appended until it runs
        self._batch.append(event)
        return True

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            # One more turn of the loop first: requests read in that turn join the batch,
            # which halves the writes under load for a few microseconds of latency.
            await asyncio.sleep(0)
            self._wake.clear()
            self._idle.clear()
            self._busy = True
            while self._batch:
                batch, waiters, callbacks = self._batch, self._waiters, self._callbacks
                self._batch, self._waiters, self._callbacks = [], [], []
                try:
                    written = await self._write(batch)
                except asyncio.CancelledError:
                    # Stopped mid-write (close): maybe written, maybe not. Held for
                    # close() to write again (consumers are idempotent on event id), and
                    # the requests answered, as while Redis is away.
                    self._hold(batch)
                    _wake(waiters, callbacks)
                    raise
                if not written:
                    self._hold(batch)
                    self._start_healing()
                _wake(waiters, callbacks)
            self._busy = False
            self._idle.set()

    async def _write(self, events: list[bytes]) -> bool:
        start = 0
        try:
            for start in range(0, len(events), _CHUNK):
                self._stats.event_writes += 1
                await self._add_all(events[start : start + _CHUNK])
        except (RedisError, OSError, TimeoutError) as exc:
            self._stats.redis_up = 0
            # A failure mid-way may leave earlier chunks written: keep only the rest.
            del events[:start]
            log.warning("click stream unavailable; buffering events", extra={"error": repr(exc)})
            return False
        self._stats.events_published += len(events)
        self._stats.redis_up = 1
        return True

    async def _add_all(self, events: list[bytes]) -> None:
        """One XADD of one entry holding the batch. No trimming here: the consumers trim
        the stream below what every group acknowledged (kurz.stream_watch)."""
        await self._wire.call(b"XADD", _STREAM_KEY, b"*", BATCH_FIELD, encode_batch(events))

    def _hold(self, events: list[bytes]) -> None:
        room = self._limit - len(self._backlog) if not self._closed else 0
        kept = events[: max(room, 0)]
        self._backlog.extend(kept)
        self._stats.events_buffered += len(kept)
        self._stats.events_dropped += len(events) - len(kept)
        self._stats.buffer_size = len(self._backlog)

    def _start_healing(self) -> None:
        if self._healer is None:
            self._healer = asyncio.create_task(self._heal(), name="click-event-healer")

    async def _heal(self) -> None:
        """Write the buffer back once Redis answers; new events join it until then."""
        try:
            while self._backlog:
                await asyncio.sleep(self._retry_interval)
                await self._drain_backlog()
        finally:
            self._healer = None

    async def _drain_backlog(self) -> bool:
        while self._backlog:
            chunk = [self._backlog.popleft() for _ in range(min(_CHUNK, len(self._backlog)))]
            try:
                written = await self._write(chunk)
            except asyncio.CancelledError:
                # Maybe written, maybe not: keep it (consumers are idempotent on event id).
                self._backlog.extendleft(reversed(chunk))
                raise
            if not written:
                self._backlog.extendleft(reversed(chunk))
                self._stats.buffer_size = len(self._backlog)
                return False
            self._stats.buffer_size = len(self._backlog)
        return True

    async def _drain_until(self, deadline: float) -> None:
        """Shutdown's last chance: retry until the buffer is written or time runs out, as
        Redis may come back within the grace period."""
        loop = asyncio.get_running_loop()
        while not await self._drain_backlog():
            if loop.time() + self._retry_interval >= deadline:
                return
            await asyncio.sleep(self._retry_interval)

    async def close(self, grace: float = 5.0) -> None:
        """Flush what is pending and buffered, within `grace` seconds; count what is left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        if self._batch or self._busy:
            self._idle.clear()
            self._wake.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace)
        if self._healer is not None:
            self._healer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._healer
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        self._stopped = True
        self._hold(self._batch)
        _wake(self._waiters, self._callbacks)
        self._batch, self._waiters, self._callbacks = [], [], []
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drain_until(deadline), max(deadline - loop.time(), 0.5))
        if self._backlog:
            log.error("click events lost at shutdown", extra={"count": len(self._backlog)})
            self._stats.events_dropped += len(self._backlog)
            self._backlog.clear()
        self._closed = True
        await self._wire.close()


def _wake(waiters: list[asyncio.Future[None]], callbacks: list[Callable[[], None]]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one request's failure must not stop the writer
            log.exception("click event callback failed")
