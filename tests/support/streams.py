"""Reading a Redis stream in tests, typed: redis-py declares replies for every decoding
setting at once; the suite's clients return bytes."""

from __future__ import annotations

from typing import cast

import redis.asyncio as aioredis
from kurz import keys

StreamEntry = tuple[bytes, dict[bytes, bytes]]


async def stream_entries(
    client: aioredis.Redis,
    stream: str = keys.CLICK_STREAM,
    *,
    reverse: bool = False,
    count: int | None = None,
) -> list[StreamEntry]:
    """The stream's entries, oldest first (newest first with `reverse`)."""
    if reverse:
        raw = await client.xrevrange(stream, count=count)
    else:
        raw = await client.xrange(stream, count=count)
    return cast(list[StreamEntry], raw)


async def redis_value(client: aioredis.Redis, key: str) -> bytes:
    """A key's value, which the test expects to be there."""
    value = await client.get(key)
    assert isinstance(value, bytes), f"{key}: {value!r}"
    return value


def as_bytes(value: object) -> bytes:
    """A Redis reply the test expects to be bytes (the suite's clients decode nothing)."""
    assert isinstance(value, bytes), repr(value)
    return value
