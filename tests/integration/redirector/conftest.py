"""A real redirector process on a free port, and helpers that write links the way the
management service does: a row in Postgres, then the edge record in Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz.dev.servers import Redis, free_port
from kurz.edge_cache import EdgeCache
from kurz.edge_records import LINK_COLUMNS, edge_link_from_row
from kurz.events import ClickEvent, entry_events
from kurz.models import EdgeLink

from tests.support.rows import insert_row
from tests.support.services import Service, Stack, service_env
from tests.support.streams import stream_entries

HOST = "kurz.test"
COUNTRY_HEADER = "CF-IPCountry"


def redirector_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    return service_env(
        database_url, redis_url, KURZ_DEFAULT_DOMAIN=HOST, KURZ_COUNTRY_HEADER=COUNTRY_HEADER,
        KURZ_PASSWORD_ATTEMPTS="3", KURZ_COOKIE_SECRET="test-cookie-secret",
        KURZ_VISITOR_SECRET="test-visitor-secret", **extra,
    )  # fmt: skip


@pytest.fixture(scope="session")
def redirector(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    logs = tmp_root / "redirector-logs"
    logs.mkdir(exist_ok=True)
    stack = Stack(redirector_env(database_url, redis_url), logs)
    service = stack.add("redirector").start()
    yield service
    stack.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Redis]:
    """A Redis of the test's own, for tests that stop it or pause its writes."""
    server = Redis(tmp_path / "redis", free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def edge(own_redis: Redis, database_url: str, tmp_path: Path) -> Iterator[Service]:
    """A redirector of the test's own, on `own_redis`."""
    env = redirector_env(database_url, own_redis.url, KURZ_EDGE_CACHE_TTL="600")
    stack = Stack(env, tmp_path)
    yield stack.add("redirector").start()
    stack.stop()


@pytest.fixture
async def own_client(own_redis: Redis) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(own_redis.url)
    yield client
    await client.aclose()


@pytest.fixture
async def client(redirector: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=redirector.url, headers={"Host": HOST}, follow_redirects=False, timeout=30
    ) as c:
        yield c


def new_slug() -> str:
    return "t" + uuid.uuid4().hex[:10]


async def insert_link(
    pool: asyncpg.Pool[Any], workspace_id: int, *, host: str = HOST, **fields: Any
) -> EdgeLink:
    """A link row in Postgres (fields as the links table names them); its edge record."""
    fields.setdefault("url", "https://example.com/landing")
    fields.setdefault("slug", new_slug())
    values = {"workspace_id": workspace_id, "host": host, **fields}
    link_id = await insert_row(pool, "links", values)
    full = await pool.fetchrow(f"SELECT {LINK_COLUMNS} FROM links l WHERE l.id = $1", link_id)
    assert full is not None
    return edge_link_from_row(full)


async def create_link(
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace_id: int, **fields: Any
) -> EdgeLink:
    """Postgres first, then the edge cache (write-through with invalidation)."""
    link = await insert_link(pool, workspace_id, **fields)
    await EdgeCache(redis).put_links([link])
    return link


async def insert_group(pool: asyncpg.Pool[Any], workspace_id: int, **fields: Any) -> int:
    fields.setdefault("name", "group")
    return await insert_row(pool, "link_groups", {"workspace_id": workspace_id, **fields})


async def events_of(redis: aioredis.Redis, link_id: int) -> list[ClickEvent]:
    """Every event of a link in the click stream, oldest first."""
    entries = await stream_entries(redis)
    found = [e for _, fields in entries for e in entry_events(fields).events]
    return [e for e in found if e.link_id == link_id]


def past(seconds: float = 3600) -> datetime:
    return datetime.fromtimestamp(datetime.now().timestamp() - seconds).astimezone()


def future(seconds: float = 3600) -> datetime:
    return datetime.fromtimestamp(datetime.now().timestamp() + seconds).astimezone()


async def raw_get(port: int, path: str, host: str = HOST) -> int:
    """One GET on its own connection, with the standard library only: many of these
    at once are truly concurrent visitors (an HTTP client pool would queue them)."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()
        return int(status_line.split()[1])
    finally:
        writer.close()
