"""kurz.stream_watch on a real Redis: the stream trimmed only below what every consumer
group acknowledged, and each group's lag, pending count and age as exported."""

from __future__ import annotations

import uuid
from typing import cast

import pytest
import redis.asyncio as aioredis
from kurz.stream import ConsumerGroup
from kurz.stream_watch import (
    OLDEST_UNACKED,
    STREAM_LAG,
    STREAM_PENDING,
    Behind,
    GroupHealth,
    trim_acknowledged,
    watch,
)

from tests.support.streams import stream_entries


@pytest.fixture
def stream_name() -> str:
    return f"watch-test-{uuid.uuid4().hex[:8]}"


async def _add(redis: aioredis.Redis, stream: str, n: int) -> list[bytes]:
    return [cast(bytes, await redis.xadd(stream, {b"e": str(i).encode()})) for i in range(n)]


async def _ids(redis: aioredis.Redis, stream: str) -> list[bytes]:
    return [entry_id for entry_id, _ in await stream_entries(redis, stream)]


async def test_no_group_no_trim(redis: aioredis.Redis, stream_name: str) -> None:
    await _add(redis, stream_name, 5)
    assert await trim_acknowledged(redis, stream_name) == 0
    assert await redis.xlen(stream_name) == 5


async def test_trims_only_below_what_every_group_acknowledged(
    redis: aioredis.Redis, stream_name: str
) -> None:
    ids = await _add(redis, stream_name, 10)
    fast = ConsumerGroup(redis, stream_name, "fast", "a")
    slow = ConsumerGroup(redis, stream_name, "slow", "b")
    await fast.ensure()
    await slow.ensure()
    await fast.ack([e.id for e in await fast.read(10)])
    # The slow group has read nothing: nothing goes.
    assert await trim_acknowledged(redis, stream_name) == 0
    # The slow group reads six and acknowledges three: the 4th is pending, so it stays.
    taken = await slow.read(6)
    await slow.ack([e.id for e in taken[:3]])
    assert await trim_acknowledged(redis, stream_name) == 3
    assert await _ids(redis, stream_name) == ids[3:]
    # Pending entries survive the trim and are still delivered to a reclaiming consumer.
    other = ConsumerGroup(redis, stream_name, "slow", "c")
    assert [e.id for e in await other.reclaim(0, 10)] == ids[3:6]
    # All acknowledged by both: all gone, the groups kept.
    await slow.ack(ids[3:6])
    await slow.ack([e.id for e in await slow.read(10)])
    assert await trim_acknowledged(redis, stream_name) == 7
    assert await _ids(redis, stream_name) == []
    assert len(await redis.xinfo_groups(stream_name)) == 2
    assert [e.id for e in await slow.read(10)] == []


async def test_each_group_exports_its_own_lag_correct_after_trims(
    redis: aioredis.Redis, stream_name: str
) -> None:
    await _add(redis, stream_name, 20)
    one = ConsumerGroup(redis, stream_name, "one", "a")
    two = ConsumerGroup(redis, stream_name, "two", "b")
    await one.ensure()
    await two.ensure()
    await one.ack([e.id for e in await one.read(20)])
    await two.read(5)  # pending, not acknowledged
    health = await watch(redis, stream_name, "two", high_water_bytes=10**9)
    assert health is not None and (health.lag, health.pending) == (15, 5)
    assert STREAM_LAG.labels(stream_name, "two")._value.get() == 15
    assert STREAM_PENDING.labels(stream_name, "two")._value.get() == 5
    assert OLDEST_UNACKED.labels(stream_name, "two")._value.get() >= 0
    # Group one is not watched by this call: the group "two" exports only its own.
    assert (stream_name, "one") not in {k for k in STREAM_LAG._metrics}
    # Trims happened below group two's oldest pending entry only: nothing yet.
    assert await redis.xlen(stream_name) == 20
    await two.ack([e.id for e in await two.own_pending(10)])
    await two.ack([e.id for e in await two.read(20)])
    await _add(redis, stream_name, 3)
    health = await watch(redis, stream_name, "one", high_water_bytes=10**9)
    assert health is not None and (health.lag, health.pending) == (3, 0)
    assert health.oldest_unacked_seconds < 3600
    health = await watch(redis, stream_name, "two", high_water_bytes=10**9)
    assert health is not None and health.lag == 3
    # After the trims, a group catching up reports no lag at all.
    await one.ack([e.id for e in await one.read(10)])
    health = await watch(redis, stream_name, "one", high_water_bytes=10**9)
    assert health is not None and (health.lag, health.oldest_unacked_seconds) == (0, 0.0)
    assert await watch(redis, stream_name, "nobody", high_water_bytes=10**9) is None


def test_behind_is_told_to_readiness_until_caught_up() -> None:
    behind = Behind("clicks", "webhooks", limit=60, high_water_bytes=1000)
    behind.check()
    behind.saw(GroupHealth(lag=500, pending=0, oldest_unacked_seconds=61, stream_bytes=10))
    with pytest.raises(RuntimeError, match="webhooks is behind"):
        behind.check()
    behind.saw(GroupHealth(lag=0, pending=0, oldest_unacked_seconds=0, stream_bytes=5000))
    with pytest.raises(RuntimeError, match="high water"):
        behind.check()
    behind.saw(GroupHealth(lag=0, pending=0, oldest_unacked_seconds=0, stream_bytes=10))
    behind.check()
