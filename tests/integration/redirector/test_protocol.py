"""The redirector's HTTP protocol (protocol.py, ADR 0008): cached plain redirects are
answered inside it, without ASGI. Held here to what uvicorn's own code does for the same
requests: the same bytes, keep-alive, Connection: close, HTTP/1.0, pipelining behind a
pending answer, HEAD, a request body, a visitor who leaves, and shutdown. Raw sockets,
so that every byte on the wire is the test's own."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
import pytest
import redis.asyncio as aioredis
from kurz.dev.servers import Redis
from kurz.models import EdgeLink

from tests.conftest import Workspace
from tests.integration.redirector.conftest import (
    HOST,
    create_link,
    events_of,
    new_slug,
)
from tests.support.services import Service
from tests.support.waiting import wait_for

# The protocol is uvicorn's, subclassed, or kurz's own (KURZ_TEST_SERVER=kurz): under
# granian every visit takes the ASGI path.
pytestmark = pytest.mark.skipif(
    os.environ.get("KURZ_TEST_SERVER") == "granian", reason="kurz's protocol runs under uvicorn"
)


class Connection:
    """One HTTP/1.1 connection, read response by response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    def send(self, *requests: bytes) -> None:
        self.writer.write(b"".join(requests))

    async def response(self, *, head: bool = False) -> bytes:
        """One whole response: its head and the body its Content-Length announces."""
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 10)
        length = re.search(rb"(?im)^content-length: *(\d+)\r$", raw)
        if length and not head:
            raw += await asyncio.wait_for(self.reader.readexactly(int(length.group(1))), 10)
        return raw

    async def closed_by_server(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), 10) == b""

    def close(self) -> None:
        self.writer.close()


def get(path: str, *headers: str, method: str = "GET", version: str = "1.1") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", f"Host: {HOST}", *headers, "", ""]
    return "\r\n".join(lines).encode()


async def exchange(port: int, request: bytes) -> bytes:
    """One request on a connection of its own, closed by the client after the answer."""
    conn = await Connection.open(port)
    try:
        conn.send(request)
        return await conn.response(head=request.startswith(b"HEAD"))
    finally:
        conn.close()


async def answered_in_protocol(port: int) -> float:
    conn = await Connection.open(port)
    try:
        conn.send(get("/metrics", "Connection: close"))
        text = (await conn.reader.read()).decode()
    finally:
        conn.close()
    found = re.search(r"^kurz_visits_answered_in_protocol_total ([\d.]+)$", text, re.M)
    assert found, "the metric is missing"
    return float(found.group(1))


NewLink = Callable[..., Awaitable[EdgeLink]]


def cached_links(
    service: Service, pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace
) -> NewLink:
    """Links created with `fields`, each already in `service`'s own cache: a first visit,
    which goes the ASGI way, took it there."""

    async def new(**fields: Any) -> EdgeLink:
        link = await create_link(pool, redis, workspace.id, **fields)
        assert (await exchange(service.port, get(f"/{link.slug}"))).startswith(b"HTTP/1.1 30")
        return link

    return new


@pytest.fixture
def cached_link(
    redirector: Service, pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace
) -> NewLink:
    return cached_links(redirector, pool, redis, workspace)


@pytest.fixture
def own_cached_link(
    edge: Service, pool: asyncpg.Pool[Any], own_client: aioredis.Redis, workspace: Workspace
) -> NewLink:
    return cached_links(edge, pool, own_client, workspace)


async def test_a_cached_redirect_is_answered_in_the_protocol_with_asgis_bytes_and_event(
    redirector: Service,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    port = redirector.port
    link = await create_link(
        pool, redis, workspace.id, url="https://example.com/ü?x=1", redirect_type=301,
        hide_referrer=True,
    )  # fmt: skip
    request = get(f"/{link.slug}", "User-Agent: probe/1.0", "X-Request-Id: same", "Referer: r")
    before = await answered_in_protocol(port)
    through_asgi = await exchange(port, request)  # a cache miss: resolved the ASGI way
    assert await answered_in_protocol(port) == before
    in_protocol = await exchange(port, request)
    assert await answered_in_protocol(port) == before + 1
    assert in_protocol == through_asgi
    assert in_protocol.startswith(b"HTTP/1.1 301 Moved Permanently\r\n")
    assert b"location: https://example.com/%C3%BC?x=1\r\n" in in_protocol
    assert b"referrer-policy: no-referrer\r\n" in in_protocol
    first, second = await events_of(redis, link.id)
    assert first.id != second.id
    same = {"id": "", "at": 0.0}
    assert msgspec.structs.replace(first, **same) == msgspec.structs.replace(second, **same)
    assert second.request_id == "same" and second.user_agent == "probe/1.0"
    assert second.referrer == "r" and second.outcome == "redirect" and second.counted
    # HEAD, the same way: a twin link, so that its first HEAD is the cache miss.
    twin = await create_link(pool, redis, workspace.id, url="https://example.com/ü?x=1",
                             redirect_type=301, hide_referrer=True)  # fmt: skip
    head = get(f"/{twin.slug}", method="HEAD")
    assert await exchange(port, head) == await exchange(port, head)
    assert await answered_in_protocol(port) == before + 2
    assert [e.method for e in await events_of(redis, twin.id)] == ["HEAD", "HEAD"]


async def test_keep_alive_and_pipelined_requests_are_answered_in_order(
    redirector: Service, cached_link: NewLink, redis: aioredis.Redis
) -> None:
    link = await cached_link(url="https://example.com/kept")
    before = await answered_in_protocol(redirector.port)
    conn = await Connection.open(redirector.port)
    try:
        # A visit answered in the protocol, and behind it, while it waits for its
        # commit: a 404 (the ASGI way), a HEAD, and a last visit asking to close.
        conn.send(
            get(f"/{link.slug}"),
            get(f"/{new_slug()}"),
            get(f"/{link.slug}", method="HEAD"),
            get(f"/{link.slug}", "Connection: close"),
        )
        assert (await conn.response()).startswith(b"HTTP/1.1 302 ")
        missing = await conn.response()
        assert missing.startswith(b"HTTP/1.1 404 ") and missing.endswith(b"</html>")
        head = await conn.response(head=True)
        assert head.startswith(b"HTTP/1.1 302 ") and b"location: https://example.com/kept" in head
        last = await conn.response()
        assert last.startswith(b"HTTP/1.1 302 ") and b"\r\nconnection: close\r\n" in last
        assert await conn.closed_by_server()
    finally:
        conn.close()
    methods = [e.method for e in await events_of(redis, link.id)]
    assert methods == ["GET", "GET", "HEAD", "GET"]
    # uvicorn's subclass queues the rest the ASGI way; kurz's own protocol (edge.py) takes
    # each queued visit in its turn, so only the 404 goes through ASGI there.
    in_protocol = 3 if os.environ.get("KURZ_TEST_SERVER") == "kurz" else 1
    assert await answered_in_protocol(redirector.port) == before + in_protocol


async def test_http_1_0_gets_its_answer_and_the_connection_closed(
    redirector: Service, cached_link: NewLink
) -> None:
    link = await cached_link()
    before = await answered_in_protocol(redirector.port)
    conn = await Connection.open(redirector.port)
    try:
        conn.send(get(f"/{link.slug}", "Connection: keep-alive", version="1.0"))
        answer = await conn.response()
        assert answer.startswith(b"HTTP/1.1 302 ") and b"\r\nconnection: close\r\n" in answer
        assert await conn.closed_by_server()
    finally:
        conn.close()
    assert await answered_in_protocol(redirector.port) == before + 1


async def test_a_get_with_a_body_is_answered_and_the_connection_stays_in_step(
    redirector: Service, cached_link: NewLink
) -> None:
    link = await cached_link()
    conn = await Connection.open(redirector.port)
    try:
        conn.send(get(f"/{link.slug}", "Content-Length: 11")[:-2] + b"\r\nGET / HTTP/")
        assert (await conn.response()).startswith(b"HTTP/1.1 302 ")
        conn.send(get(f"/{link.slug}"))  # the body did not leak into the next request
        assert (await conn.response()).startswith(b"HTTP/1.1 302 ")
    finally:
        conn.close()


async def test_a_preview_crawler_gets_the_card_of_a_cached_link(
    redirector: Service, cached_link: NewLink
) -> None:
    link = await cached_link(og_title="A card for crawlers")
    card = await exchange(redirector.port, get(f"/{link.slug}", "User-Agent: Slackbot 1.0"))
    assert card.startswith(b"HTTP/1.1 200 ") and b"A card for crawlers" in card


async def test_while_redis_is_away_cached_visits_are_answered_in_order(
    edge: Service, own_redis: Redis, own_cached_link: NewLink
) -> None:
    link = await own_cached_link()
    own_redis.stop()
    before = await answered_in_protocol(edge.port)
    conn = await Connection.open(edge.port)
    try:
        for _ in range(2):  # the write that finds Redis away, then one buffered at once
            conn.send(get(f"/{link.slug}"), get(f"/{link.slug}", method="HEAD"))
            assert (await conn.response()).startswith(b"HTTP/1.1 302 ")
            assert (await conn.response(head=True)).startswith(b"HTTP/1.1 302 ")
        conn.send(get(f"/{link.slug}", "Connection: close"))
        last = await conn.response()
        assert b"\r\nconnection: close\r\n" in last and await conn.closed_by_server()
    finally:
        conn.close()
    assert await answered_in_protocol(edge.port) >= before + 2
    own_redis.start()  # empty: the five events can only come from the buffer
    client = aioredis.Redis.from_url(own_redis.url)
    try:

        async def flushed() -> bool:
            return len(await events_of(client, link.id)) == 5

        await wait_for(flushed, 15, "the buffered events written")
    finally:
        await client.aclose()


async def visit_while_writes_pause(
    edge: Service, redis: aioredis.Redis, link: EdgeLink, *, milliseconds: int
) -> Connection:
    """A visit whose event waits: Redis takes no writes for `milliseconds`. Returned once
    the protocol has taken it (it counts a visit before the commit), its connection open."""
    before = await answered_in_protocol(edge.port)
    await redis.execute_command("CLIENT", "PAUSE", milliseconds, "WRITE")  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
    conn = await Connection.open(edge.port)
    conn.send(get(f"/{link.slug}"))

    async def taken() -> bool:
        return await answered_in_protocol(edge.port) > before

    await wait_for(taken, milliseconds / 2000, "the visit taken by the protocol")
    return conn


async def test_a_visitor_who_leaves_before_the_commit_is_still_counted(
    edge: Service, own_client: aioredis.Redis, own_cached_link: NewLink
) -> None:
    link = await own_cached_link()
    conn = await visit_while_writes_pause(edge, own_client, link, milliseconds=1500)
    conn.close()
    await own_client.execute_command("CLIENT", "UNPAUSE")  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

    async def written() -> bool:
        return len(await events_of(own_client, link.id)) == 2

    await wait_for(written, 10, "the event of the visitor who left")
    assert (await exchange(edge.port, get(f"/{link.slug}"))).startswith(b"HTTP/1.1 302 ")
    assert len(await events_of(own_client, link.id)) == 3
    assert "Traceback" not in edge.log.read_text()


async def test_shutdown_answers_a_waiting_visit_and_closes_its_connection(
    edge: Service, own_client: aioredis.Redis, own_cached_link: NewLink
) -> None:
    link = await own_cached_link()
    conn = await visit_while_writes_pause(edge, own_client, link, milliseconds=1800)
    try:
        assert edge.process is not None
        edge.process.send_signal(signal.SIGTERM)
        await wait_for(lambda: "Shutting down" in edge.log.read_text(), 10, "shutdown begun")
        await own_client.execute_command("CLIENT", "UNPAUSE")  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        answer = await conn.response()  # once Redis has taken the event
        assert answer.startswith(b"HTTP/1.1 302 ") and b"\r\nconnection: close\r\n" in answer
        assert await conn.closed_by_server()
    finally:
        conn.close()
    assert await asyncio.to_thread(edge.process.wait, 30) == 0
    assert len(await events_of(own_client, link.id)) == 2
