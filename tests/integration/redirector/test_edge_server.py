"""kurz's own HTTP/1.1 protocol (KURZ_SERVER=kurz, edge.py) against clients that abuse
it: a slowloris head, an oversized head or target, garbage pipelined behind a valid
request, and thousands of idle connections, each while a plain visitor is answered.
A redirector of the test's own, whatever KURZ_TEST_SERVER says. Waits are bounded, and
no assertion depends on how fast the machine is."""

from __future__ import annotations

import asyncio
import contextlib
import resource
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from tests.conftest import Workspace
from tests.integration.redirector.conftest import HOST, create_link, events_of, redirector_env
from tests.support.services import Service, Stack

HEAD_TIMEOUT = 1.0
IDLE = 2000


@pytest.fixture(scope="module")
def kurz_edge(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    logs = tmp_root / "kurz-edge-logs"
    logs.mkdir(exist_ok=True)
    env = redirector_env(
        database_url, redis_url, KURZ_SERVER="kurz", KURZ_HTTP_HEAD_TIMEOUT=str(HEAD_TIMEOUT),
        KURZ_HTTP_MAX_HEADER_BYTES="4096", KURZ_HTTP_MAX_URL_BYTES="1024",
    )  # fmt: skip
    stack = Stack(env, logs)
    yield stack.add("redirector").start()
    stack.stop()


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


def _get(path: str, *headers: str) -> bytes:
    return "\r\n".join([f"GET {path} HTTP/1.1", f"Host: {HOST}", *headers, "", ""]).encode()


async def _head_of(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)


async def _visit(port: int, slug: str) -> bytes:
    """A visitor's request on a connection of its own: the head of its answer."""
    reader, writer = await _open(port)
    try:
        writer.write(_get(f"/{slug}"))
        return await _head_of(reader)
    finally:
        writer.close()


async def _read_until_closed(reader: asyncio.StreamReader, within: float) -> bytes:
    """What the server sent before closing the connection (bounded wait)."""
    try:
        return await asyncio.wait_for(reader.read(), within)
    except ConnectionError:
        return b""


@pytest.fixture
async def link_slug(
    kurz_edge: Service, pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace
) -> str:
    link = await create_link(pool, redis, workspace.id, url="https://example.com/edge")
    assert (await _visit(kurz_edge.port, link.slug)).startswith(b"HTTP/1.1 302 ")
    return link.slug


async def test_a_slowloris_head_is_cut_off_while_another_client_is_answered(
    kurz_edge: Service, link_slug: str
) -> None:
    reader, writer = await _open(kurz_edge.port)
    writer.write(b"GET /x HTTP/1.1\r\nHost: kurz.test\r\nX-Slow: ")

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                await asyncio.sleep(0.1)
                writer.write(b"a")
                await writer.drain()

    dripping = asyncio.create_task(trickle())
    try:
        # While the head trickles in, another visitor is answered, many times over.
        for _ in range(20):
            head = await _visit(kurz_edge.port, link_slug)
            assert head.startswith(b"HTTP/1.1 302 ")
        # Bytes keep coming, yet the head is not whole within its deadline: 408, closed.
        answer = await _read_until_closed(reader, HEAD_TIMEOUT + 10)
        assert answer.startswith(b"HTTP/1.1 408 ")
    finally:
        dripping.cancel()
        writer.close()


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * 1500 + b" HTTP/1.1\r\nHost: kurz.test\r\n\r\n", b"414"),
        (_get("/x", *(f"X-Pad-{i}: {'b' * 100}" for i in range(60))), b"431"),
    ],
    ids=["long-target", "big-headers"],
)
async def test_an_oversized_head_or_target_is_refused_and_closed(
    kurz_edge: Service, link_slug: str, request_bytes: bytes, status: bytes
) -> None:
    reader, writer = await _open(kurz_edge.port)
    try:
        writer.write(request_bytes)
        answer = await _read_until_closed(reader, 10)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 " + status + b" ")
    assert b"connection: close" in answer
    # The server is none the worse for it.
    assert (await _visit(kurz_edge.port, link_slug)).startswith(b"HTTP/1.1 302 ")


async def test_garbage_pipelined_after_a_valid_request_gets_the_answer_then_400(
    kurz_edge: Service, link_slug: str, redis: aioredis.Redis
) -> None:
    reader, writer = await _open(kurz_edge.port)
    try:
        writer.write(_get(f"/{link_slug}") + b"\x00\x01 NOT HTTP\r\n\r\n")
        first = await _head_of(reader)
        rest = await _read_until_closed(reader, 10)
    finally:
        writer.close()
    assert first.startswith(b"HTTP/1.1 302 ") and b"location: https://example.com/edge" in first
    assert rest.startswith(b"HTTP/1.1 400 ")


async def test_a_visit_is_answered_while_2000_connections_sit_idle(
    kurz_edge: Service, link_slug: str
) -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < IDLE + 256:
        pytest.skip(f"a descriptor limit of {soft} is too low for {IDLE} connections")
    idle: list[asyncio.StreamWriter] = []
    try:
        for _ in range(IDLE):
            idle.append((await _open(kurz_edge.port))[1])
        head = await _visit(kurz_edge.port, link_slug)
        assert head.startswith(b"HTTP/1.1 302 ")
    finally:
        for writer in idle:
            writer.close()


async def test_a_visit_and_its_event_under_kurz_protocol(
    kurz_edge: Service, pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace
) -> None:
    link = await create_link(pool, redis, workspace.id, url="https://example.com/counted")
    for _ in range(3):  # the first goes the ASGI way and caches it; the rest in the protocol
        assert (await _visit(kurz_edge.port, link.slug)).startswith(b"HTTP/1.1 302 ")
    assert len(await events_of(redis, link.id)) == 3
