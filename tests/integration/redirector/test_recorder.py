"""The event recorder on its own, against a Redis of its own (the test writes entries that
are not click events, which the shared stream's consumers must never see)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest
import redis.asyncio as aioredis
from kurz.dev.servers import Redis, free_port
from kurz.events import BATCH_FIELD, entry_items
from kurz_redirector.metrics import EdgeStats
from kurz_redirector.recorder import EventRecorder
from kurz_redirector.spool import Spool

from tests.support.streams import stream_entries


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = Redis(tmp_path / "redis", free_port()).start()
    yield server.url
    server.stop()


async def test_concurrent_events_share_round_trips_and_are_written_on_return(
    redis_url: str, tmp_path: Path
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    stats = EdgeStats()
    recorder = EventRecorder(client, spool=Spool(tmp_path / "spool", 1 << 20), stats=stats)
    recorder.start()
    marker = f"recorder-test-{id(recorder)}"
    checks = asyncio.Semaphore(50)

    async def one(i: int) -> int:
        event = msgspec.msgpack.encode(f"{marker}-{i}")
        await recorder.record(event)
        # Returned: the event is already in the stream.
        async with checks:
            last = await stream_entries(client, reverse=True, count=2000)
        return sum(items.count(event) for _, f in last if (items := entry_items(f)))

    found = await asyncio.gather(*(one(i) for i in range(500)))
    assert found == [1] * 500
    entries = await stream_entries(client)
    assert sum(len(entry_items(f) or ()) for _, f in entries) == 500
    assert all(BATCH_FIELD in f for _, f in entries)  # one entry per round trip
    assert len(entries) == stats.event_writes <= 50  # many events per round trip
    assert stats.events_published == 500
    assert stats.events_buffered == 0
    await recorder.close()
    await client.aclose()


async def test_close_writes_what_is_pending(redis_url: str, tmp_path: Path) -> None:
    client = aioredis.Redis.from_url(redis_url)
    stats = EdgeStats()
    recorder = EventRecorder(client, spool=Spool(tmp_path / "spool", 1 << 20), stats=stats)
    recorder.start()
    tasks = [recorder.record(msgspec.msgpack.encode(i)) for i in range(20)]
    await asyncio.sleep(0)  # queued, maybe not yet written
    await recorder.close(grace=5)
    await asyncio.gather(*tasks)
    assert stats.events_published == 20 and stats.events_dropped == 0
    await client.aclose()


async def test_callbacks_run_once_their_events_are_in_the_stream(
    redis_url: str, tmp_path: Path
) -> None:
    """record_then, the protocol's way: no future, a callback after the commit; one that
    fails stops neither the writer nor the callbacks of the same batch."""
    client = aioredis.Redis.from_url(redis_url)
    stats = EdgeStats()
    recorder = EventRecorder(client, spool=Spool(tmp_path / "spool", 1 << 20), stats=stats)
    recorder.start()
    written_when_called: list[int] = []

    def callback(i: int) -> None:
        written_when_called.append(stats.events_published)
        if i == 3:
            raise RuntimeError("a request's own failure")

    for i in range(10):
        recorder.record_then(msgspec.msgpack.encode(i), functools.partial(callback, i))
    assert written_when_called == []  # nothing before the write
    for _ in range(100):
        if len(written_when_called) == 10:
            break
        await asyncio.sleep(0.02)
    assert written_when_called == [10] * 10  # all ten, each after the batch was written
    assert sum(len(entry_items(f) or ()) for _, f in await stream_entries(client)) == 10
    await recorder.record(msgspec.msgpack.encode("after"))  # the writer still writes
    assert stats.events_published == 11
    await recorder.close()
    await client.aclose()


def _event(text: str) -> bytes:
    return msgspec.msgpack.encode(text)


async def _until(predicate: Callable[[], bool]) -> None:
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("never came true")


async def test_while_redis_is_away_answers_wait_for_the_spool_then_replay(
    tmp_path: Path,
) -> None:
    """Redis away: an event is answered once fsynced in the spool, never from inside
    record_then; what close() could not replay stays on disk, and the next recorder on
    the spool replays it at start. After close, an event is counted as dropped."""
    server = Redis(tmp_path / "redis", free_port()).start()
    client = aioredis.Redis.from_url(server.url)
    stats = EdgeStats()
    spool_dir = tmp_path / "spool"
    recorder = EventRecorder(client, spool=Spool(spool_dir, 1 << 20), stats=stats, timeout=0.5)
    recorder.start()
    calls: list[str] = []
    server.stop()
    recorder.record_then(_event("first"), lambda: calls.append("first"))
    await _until(lambda: calls == ["first"])  # the write that finds Redis away spools it
    assert recorder.degraded and stats.events_buffered == 1
    recorder.record_then(_event("second"), lambda: calls.append("second"))
    assert calls == ["first"]  # not from inside the call
    await recorder.record(_event("third"))  # done: on disk
    assert calls == ["first", "second"] and stats.events_buffered == 3
    await recorder.close(grace=0.5)
    assert stats.events_dropped == 0  # Redis never came back: kept on disk
    recorder.record_then(_event("late"), lambda: calls.append("late"))
    await asyncio.sleep(0)
    assert calls == ["first", "second", "late"] and stats.events_dropped == 1
    await client.aclose()

    server.start()
    client = aioredis.Redis.from_url(server.url)
    again = EventRecorder(client, spool=Spool(spool_dir, 1 << 20), stats=EdgeStats())
    again.start()

    async def replayed() -> list[bytes]:
        entries = await stream_entries(client)
        return [item for _, f in entries for item in entry_items(f) or ()]

    for _ in range(100):
        if len(await replayed()) == 3:
            break
        await asyncio.sleep(0.05)
    assert sorted(await replayed()) == sorted(_event(w) for w in ("first", "second", "third"))
    await again.close()
    assert list(spool_dir.glob("*.wal")) == []  # replayed segments are removed
    await client.aclose()
    server.stop()


async def test_close_with_redis_away_and_nothing_spooled_does_not_wait(tmp_path: Path) -> None:
    """A stack stopping all at once loses Redis first: with nothing to replay, shutdown
    must not spend its grace period waiting for it."""
    server = Redis(tmp_path / "redis", free_port()).start()
    client = aioredis.Redis.from_url(server.url)
    recorder = EventRecorder(client, spool=Spool(tmp_path / "spool", 1 << 20), stats=EdgeStats())
    recorder.start()
    await recorder.record(_event("before"))
    server.stop()
    # Within a minute, not the grace period: a regression fails here instead of hanging.
    await asyncio.wait_for(recorder.close(grace=600), 60)
    await client.aclose()
