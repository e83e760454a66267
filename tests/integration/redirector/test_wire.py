"""The hot path's own Redis connection, the batched lookups of cache misses and the
stream left untrimmed, against a Redis of their own (one test restarts it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.dev.servers import Redis, free_port
from kurz.settings import RedisSettings, Settings
from kurz_redirector.app import Redirector
from kurz_redirector.lookups import BatchedGets
from kurz_redirector.metrics import EdgeStats
from kurz_redirector.recorder import EventRecorder
from kurz_redirector.spool import Spool
from kurz_redirector.wire import Wire
from redis.exceptions import RedisError, ResponseError


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path / "redis", free_port()).start()
    yield server
    server.stop()


async def test_concurrent_lookups_share_round_trips(server: Redis) -> None:
    client = aioredis.Redis.from_url(server.url)
    await client.mset({f"k{i}": f"v{i}" for i in range(0, 300, 2)})
    wire = Wire(client)
    calls = 0
    real_call = wire.call

    async def counted(*args: bytes | str | int) -> object:
        nonlocal calls
        calls += 1
        return await real_call(*args)

    wire.call = counted  # type: ignore[method-assign]
    gets = BatchedGets(wire)
    values = await asyncio.gather(*(gets.get(f"k{i}") for i in range(300)))
    assert values == [f"v{i}".encode() if i % 2 == 0 else None for i in range(300)]
    assert calls <= 3  # one MGET for all that asked in the same turn, not 300 GETs
    await gets.close()
    await client.aclose()


async def test_a_connection_broken_by_a_restart_is_replaced_once(server: Redis) -> None:
    client = aioredis.Redis.from_url(server.url)
    wire = Wire(client)
    assert await wire.call(b"SET", b"a", b"1") == b"OK"
    server.stop()
    server.start()  # every open connection is now dead
    assert await wire.call(b"GET", b"a") is None  # answered by the new server
    with pytest.raises(ResponseError):
        await wire.call(b"NOSUCHCOMMAND")
    assert await wire.call(b"PING") == b"PONG"  # an error reply leaves it usable
    await wire.close()
    await client.aclose()


async def test_lookups_fail_with_redis_error_when_redis_is_away(server: Redis) -> None:
    client = aioredis.Redis.from_url(server.url, socket_connect_timeout=1)
    gets = BatchedGets(Wire(client, timeout=1))
    server.stop()
    results = await asyncio.gather(gets.get("x"), gets.get("y"), return_exceptions=True)
    assert all(isinstance(result, RedisError) for result in results)
    server.start()
    assert await gets.get("x") is None  # and it recovers without help
    await gets.close()
    await client.aclose()


async def test_ready_once_started_whatever_redis_says() -> None:
    edge = Redirector(Settings(redis=RedisSettings(url="redis://127.0.0.1:1/0")))
    with pytest.raises(RuntimeError):
        await edge._ready()
    edge.started = True
    await edge._ready()  # no Redis is asked: an outage does not make the edge unready


async def test_the_edge_never_trims_the_stream(server: Redis, tmp_path: Path) -> None:
    """Only the consumers trim, below what every group acknowledged (kurz.stream_watch):
    whatever the edge writes stays until then, however much it is."""
    client = aioredis.Redis.from_url(server.url)
    await client.delete(keys.CLICK_STREAM)
    recorder = EventRecorder(client, spool=Spool(tmp_path / "spool", 1 << 20), stats=EdgeStats())
    recorder.start()
    for i in range(1000):  # one at a time: an entry each
        await recorder.record(msgspec.msgpack.encode(i))
    assert await client.xlen(keys.CLICK_STREAM) == 1000
    await recorder.close()
    await client.aclose()
