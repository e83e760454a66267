"""A failed Redis command says where: the node, the command and its key's cluster slot
reach the log line, from the redirector's own connection and from consumer groups, on a
real Redis that refuses (a read-only replica, a key of the wrong type)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from kurz import redis_failures
from kurz.dev.servers import Redis, free_port
from kurz.stream import ConsumerGroup
from kurz_redirector.wire import make_wire
from redis.crc import key_slot
from redis.exceptions import ReadOnlyError, ResponseError


@pytest.fixture
async def read_only(tmp_path: Path) -> AsyncIterator[Redis]:
    """A Redis that is the replica of a master that is not there: it refuses writes."""
    server = Redis(
        tmp_path / "replica", free_port(), options=("--replicaof", "127.0.0.1", str(free_port()))
    ).start()
    yield server
    server.stop()


async def test_the_edge_wire_names_node_command_and_slot(read_only: Redis) -> None:
    client = aioredis.Redis(host="127.0.0.1", port=read_only.port)
    wire = make_wire(client)
    try:
        with pytest.raises(ReadOnlyError) as caught:
            await wire.call_for("clicks", b"XADD", "clicks", "*", "e", "x")
    finally:
        await wire.close()
        await client.aclose()
    logged = redis_failures.fields(caught.value)
    assert logged["redis_node"] == f"127.0.0.1:{read_only.port}"
    assert logged["redis_command"] == "XADD"
    assert logged["redis_slot"] == key_slot(b"clicks")
    assert logged["error"].startswith("ReadOnlyError: ")


async def test_a_consumer_group_failure_is_logged_with_where_it_happened(
    redis: aioredis.Redis, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    stream = f"not-a-stream-{uuid.uuid4().hex[:8]}"
    await redis.set(stream, "a string")  # every stream command on it: WRONGTYPE
    group = ConsumerGroup(redis, stream, "g", "c")
    with pytest.raises(ResponseError) as caught:
        await group.read(10)
    log = logging.getLogger("kurz.test")
    with caplog.at_level(logging.ERROR, logger="kurz.test"):
        log.error("stream read failed", extra=redis_failures.fields(caught.value))
    (record,) = caplog.records
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    assert record.redis_node == f"127.0.0.1:{port}"  # type: ignore[attr-defined]
    assert record.redis_command == "XREADGROUP"  # type: ignore[attr-defined]
    assert record.redis_slot == key_slot(stream.encode())  # type: ignore[attr-defined]
    assert "WRONGTYPE" in record.error  # type: ignore[attr-defined]


def test_the_first_note_wins_and_nothing_is_invented() -> None:
    exc = ConnectionError("gone")
    assert redis_failures.fields(exc) == {"error": "ConnectionError: gone"}
    redis_failures.note(exc, node="10.0.0.1:6379", command=b"mget")
    redis_failures.note(exc, node="10.0.0.2:6379", key="k:l:{a/b}")
    assert redis_failures.fields(exc) == {
        "error": "ConnectionError: gone", "redis_node": "10.0.0.1:6379", "redis_command": "MGET",
        "redis_slot": key_slot(b"a/b"),
    }  # fmt: skip
