"""kurz.stream.ConsumerGroup on a real Redis: the helper every stream consumer uses."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis
from kurz.stream import ConsumerGroup, consumer_name
from redis.exceptions import ResponseError


@pytest.fixture
def stream_name() -> str:
    return f"stream-test-{uuid.uuid4().hex[:8]}"


async def test_group_lifecycle(redis: aioredis.Redis, stream_name: str) -> None:
    before = await redis.xadd(stream_name, {b"e": b"0"})
    first = ConsumerGroup(redis, stream_name, "g", "first")
    await first.ensure()
    await first.ensure()  # idempotent
    assert [e.id for e in await first.read(10)] == [before]  # "0": what was there too

    ids = [await redis.xadd(stream_name, {b"e": str(i).encode()}) for i in range(3)]
    got = await first.read(2)
    assert [(e.id, e.fields) for e in got] == [(ids[0], {b"e": b"0"}), (ids[1], {b"e": b"1"})]
    assert await first.lag() == (1, 3)  # one undelivered; before, ids[0], ids[1] pending
    assert [e.id for e in await first.own_pending(10)] == [before, ids[0], ids[1]]

    second = ConsumerGroup(redis, stream_name, "g", "second")
    assert await second.reclaim(60_000, 10) == []  # not idle long enough
    taken = await second.reclaim(0, 2)
    assert [e.id for e in taken] == [before, ids[0]]
    assert [e.id for e in await first.own_pending(10)] == [ids[1]]
    assert await second.ack([e.id for e in taken]) == 2
    assert await second.ack([]) == 0
    assert await first.lag() == (1, 1)

    # Entries trimmed away while pending come back without fields: they are skipped.
    await redis.xtrim(stream_name, maxlen=0)
    assert await second.reclaim(0, 10) == []

    assert await second.prune_consumers(0) == ["first"]  # idle, nothing pending now
    names = {c["name"] for c in await redis.xinfo_consumers(stream_name, "g")}
    assert names == {b"second"}


async def test_start_at_the_end_skips_what_is_there(
    redis: aioredis.Redis, stream_name: str
) -> None:
    await redis.xadd(stream_name, {b"e": b"old"})
    group = ConsumerGroup(redis, stream_name, "g", consumer_name())
    await group.ensure(start_id="$")
    assert await group.read(10) == []
    new = await redis.xadd(stream_name, {b"e": b"new"})
    assert [e.id for e in await group.read(10, block_ms=100)] == [new]


async def test_errors_other_than_an_existing_group_are_raised(redis: aioredis.Redis) -> None:
    key = f"not-a-stream-{uuid.uuid4().hex[:8]}"
    await redis.set(key, "x")
    with pytest.raises(ResponseError):
        await ConsumerGroup(redis, key, "g", "c").ensure()
