"""Delivery guarantees in-process: entries pending on a dead consumer are reclaimed, a
failed batch leaves nothing half-written and stays pending, acknowledgement follows the
commit. (The same across a real SIGKILL: test_crash.py.)"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.events import FIELD, decode_event
from kurz.stream import ConsumerGroup
from kurz_aggregator import metrics, rows, worker, writer
from kurz_aggregator.upkeep import MARK_TABLES, click_partitions, mark_partitions, run_upkeep

from tests.conftest import Workspace
from tests.integration.aggregator.conftest import (
    AggregatorFactory,
    add,
    at,
    click,
    new_link_id,
    pending,
)
from tests.support.streams import stream_entries


async def _clicks(pool: asyncpg.Pool[Any], link: int) -> tuple[int, int] | None:
    row = await pool.fetchrow(
        "SELECT sum(clicks)::int, sum(visitors)::int FROM link_daily WHERE link_id = $1", link
    )
    return None if row is None or row[0] is None else (row[0], row[1])


async def test_entries_pending_on_a_dead_consumer_are_reclaimed(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    link = new_link_id()
    await add(redis, stream, [click(workspace.id, link, visitor=f"v{i}") for i in range(6)])
    dead = ConsumerGroup(redis, stream, keys.AGGREGATOR_GROUP, "dead-consumer")
    await dead.ensure()
    assert len(await dead.read(4)) == 4  # delivered, never acknowledged: it "died"

    # Not idle long enough yet: only the two undelivered entries are processed.
    assert await make_aggregator(claim_idle_ms=60_000).run(burst=True) == 2
    assert await _clicks(pool, link) == (2, 2)
    assert await pending(redis, stream) == 4

    assert await make_aggregator(claim_idle_ms=0).run(burst=True) == 4
    assert await _clicks(pool, link) == (6, 6)
    assert await pending(redis, stream) == 0


async def test_a_restarted_consumer_first_finishes_what_it_held(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    link = new_link_id()
    await add(redis, stream, [click(workspace.id, link, visitor=f"v{i}") for i in range(3)])
    same_name = ConsumerGroup(redis, stream, keys.AGGREGATOR_GROUP, "pod-0")
    await same_name.ensure()
    assert len(await same_name.read(3)) == 3
    assert await make_aggregator(consumer="pod-0", claim_idle_ms=60_000).run(burst=True) == 3
    assert await _clicks(pool, link) == (3, 3)
    assert await pending(redis, stream) == 0


async def test_a_failed_batch_writes_nothing_and_stays_pending(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    link = new_link_id()
    far = at("2031-01-02T00:00:00+00:00")  # a day whose partition does not exist yet
    await add(redis, stream, [
        click(workspace.id, link, visitor="a"),
        click(workspace.id, link, visitor="b", at=far),
    ])  # fmt: skip
    broken = make_aggregator()
    broken._partitions.add(date(2031, 1, 2))  # believes the partition exists: INSERT fails
    with pytest.raises(asyncpg.PostgresError):
        await broken.run(burst=True)
    assert await _clicks(pool, link) is None
    assert await pool.fetchval("SELECT count(*) FROM clicks WHERE link_id = $1", link) == 0
    assert await pending(redis, stream) == 2

    assert await make_aggregator(claim_idle_ms=0).run(burst=True) == 2
    assert await _clicks(pool, link) == (2, 2)
    assert await pending(redis, stream) == 0


async def mark_partitions_of(pool: asyncpg.Pool[Any]) -> dict[str, date]:
    async with pool.acquire() as conn:
        return await mark_partitions(conn)


async def test_upkeep_drops_partitions_past_retention_and_prunes_marks(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    link = new_link_id()
    await add(redis, stream, [
        click(workspace.id, link, visitor="old", at=at("2020-01-10T10:00:00+00:00")),
        click(workspace.id, link, visitor="new", at=at("2020-02-10T10:00:00+00:00")),
    ])  # fmt: skip
    await make_aggregator().run(burst=True)
    now = datetime.fromisoformat("2020-02-15T00:00:00+00:00")

    async with pool.acquire() as conn:
        result = await run_upkeep(conn, retention_days=30, mark_days=10, now=now)
        partitions = await click_partitions(conn)
    assert "clicks_20200110" in result.dropped and "clicks_20200110" not in partitions
    assert {"clicks_20200210", "clicks_20200215", "clicks_20200216"} <= set(partitions)
    # "old"'s marks are dropped with their days' partitions, whole; "new"'s stay.
    assert {f"{t}_20200110" for t in MARK_TABLES} <= set(result.marks_dropped)
    kept = await mark_partitions_of(pool)
    assert {f"{t}_20200210" for t in MARK_TABLES} <= set(kept)
    assert all(day >= now.date() - timedelta(days=10) for day in kept.values())
    assert await pool.fetchval("SELECT count(*) FROM clicks WHERE link_id = $1", link) == 1
    # Rollups stay: statistics outlive raw clicks.
    assert await _clicks(pool, link) == (2, 2)
    marks = await pool.fetchval(
        "SELECT count(*) FROM link_visitors WHERE link_id = $1 AND day < $2",
        link,
        now.date() - timedelta(days=10),
    )
    assert marks == 0

    # Retention 0 keeps everything.
    async with pool.acquire() as conn:
        assert (await run_upkeep(conn, retention_days=0, mark_days=0, now=now)).dropped == []


async def test_the_loop_retries_a_failed_batch_and_stops_when_asked(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    link = new_link_id()
    await add(
        redis, stream, [click(workspace.id, link, visitor="a", at=at("2032-03-04T05:00:00Z"))]
    )
    aggregator = make_aggregator(block_ms=50, maintenance_interval=3600)
    aggregator._partitions.add(date(2032, 3, 4))  # the first try fails, as in the test above
    failures_before = metrics.FAILURES._value.get()
    task = asyncio.create_task(aggregator.run())
    try:
        for _ in range(100):
            if await _clicks(pool, link) == (1, 1):
                break
            await asyncio.sleep(0.05)
        assert await _clicks(pool, link) == (1, 1)
        assert metrics.FAILURES._value.get() == failures_before + 1
        assert await pending(redis, stream) == 0
    finally:
        aggregator.stop()
        handled = await asyncio.wait_for(task, 3)
    assert handled == 1


def _a_bug_meets_visitor_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Enrichment fails on the event of visitor v2, and on it alone, every time."""
    real_to_row = rows.to_row  # what the worker module calls by that name

    def to_row_with_a_bug(event: Any, lookups: Any) -> Any:
        if event.visitor == "v2":
            raise ValueError("a bug this one event meets")
        return real_to_row(event, lookups)

    monkeypatch.setattr(worker, "to_row", to_row_with_a_bug)


@pytest.mark.parametrize("batch", [False, True], ids=["entry per event", "batch entry"])
async def test_an_event_that_fails_alone_is_set_aside_and_the_rest_is_counted(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    batch: bool,
) -> None:
    """Whether the five events are five entries or one batch entry, only the bad one goes
    to the dead-letter stream (alone, as a one-event entry)."""
    link = new_link_id()
    events = [click(workspace.id, link, visitor=f"v{i}") for i in range(5)]
    await add(redis, stream, events, batch=batch)
    _a_bug_meets_visitor_v2(monkeypatch)
    aggregator = make_aggregator(block_ms=50)
    task = asyncio.create_task(aggregator.run())
    try:
        for _ in range(100):
            if await redis.exists(f"{stream}:dead") and await pending(redis, stream) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        aggregator.stop()
        await asyncio.wait_for(task, 3)

    assert await _clicks(pool, link) == (4, 4)
    assert await pending(redis, stream) == 0
    [(_, dead)] = await stream_entries(redis, f"{stream}:dead")
    assert decode_event(dead[FIELD]).visitor == "v2"
    assert b"a bug this one event meets" in dead[b"error"]
    assert dead[b"source"].startswith(stream.encode())


async def test_isolating_a_batch_entry_keeps_the_read_size_of_real_entries(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its events, tried one at a time, are not entries of the stream: the next read still
    asks for entries of five events, not for as many entries as the batch has events."""
    link = new_link_id()
    for name in ("good", "v"):  # a batch entry that writes alone, then one with v2 in it
        events = [click(workspace.id, link, visitor=f"{name}{i}") for i in range(5)]
        await add(redis, stream, events, batch=True)
    _a_bug_meets_visitor_v2(monkeypatch)
    aggregator = make_aggregator(block_ms=50)
    await aggregator.group.ensure()
    entries = await aggregator.group.read(10)
    assert await aggregator._isolate(entries, ValueError("the batch failed")) == 2
    assert aggregator._sizes.entries_for(500) == 100
    assert await pending(redis, stream) == 0
    assert await redis.xlen(f"{stream}:dead") == 1  # v2 alone


async def test_an_outage_is_retried_not_set_aside(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    link = new_link_id()
    await add(redis, stream, [click(workspace.id, link, visitor=f"v{i}") for i in range(3)])
    real_write = writer.write_batch  # what the worker module calls by that name
    calls = 0

    async def flaky_write(conn: Any, rows: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionResetError("postgres went away")
        return await real_write(conn, rows)

    monkeypatch.setattr(worker, "write_batch", flaky_write)
    aggregator = make_aggregator(block_ms=50)
    task = asyncio.create_task(aggregator.run())
    try:
        for _ in range(100):
            if await _clicks(pool, link) == (3, 3):
                break
            await asyncio.sleep(0.05)
    finally:
        aggregator.stop()
        await asyncio.wait_for(task, 3)
    assert await _clicks(pool, link) == (3, 3)
    assert calls == 2  # the whole batch again, not entry by entry
    assert not await redis.exists(f"{stream}:dead")


async def test_text_postgres_cannot_hold_is_cleaned_not_fatal(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    link = new_link_id()
    await add(redis, stream, [
        click(workspace.id, link, country="D\x00E", visitor="v\x00",
              user_agent="Mozilla/5.0 (Windows NT 10.0) Chrome\x00X/1.0 Safari/537.36",
              destination="https://example.com/\x00", rule="country:\x00", referrer="\x00"),
    ])  # fmt: skip
    assert await make_aggregator().run(burst=True) == 1
    assert await _clicks(pool, link) == (1, 1)
    row = await pool.fetchrow(
        "SELECT country, visitor, destination FROM clicks WHERE link_id = $1", link
    )
    assert tuple(row.values()) == ("DE", "v", "https://example.com/")
