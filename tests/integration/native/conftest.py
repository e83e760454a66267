"""The native API's tests: the links use cases against the session's Postgres and
Redis, the management app in this process for its HTTP behaviour, and real management
processes where the process is the point (proxies, outages, limits of the server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz.edge_cache import EdgeCache
from kurz.settings import load_settings
from kurz_management.context import AppContext
from kurz_management.core.auth import Principal

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.support.inprocess import management_client
from tests.support.services import Service, Stack, service_env

BULK_MAX = 50
MAX_BODY = 100_000
SERVER_ENV = {
    "KURZ_DEFAULT_DOMAIN": DEFAULT_DOMAIN,
    "KURZ_DOMAIN_VERIFICATION": "trust",
    "KURZ_BULK_MAX": str(BULK_MAX),
    "KURZ_API_MAX_BODY": str(MAX_BODY),
    "KURZ_API_RATE_LIMIT": "1000",
}


@pytest.fixture
def ctx(pool: asyncpg.Pool[Any], redis: aioredis.Redis) -> AppContext:
    settings = load_settings({k: v for k, v in SERVER_ENV.items()})
    return AppContext(settings, pool, redis, EdgeCache(redis))


@pytest.fixture
def principal(workspace: Workspace) -> Principal:
    return Principal(workspace.id, "selfhosted", {}, "UTC", 0)


def start_management(
    database_url: str, redis_url: str, logs: Path, **extra: str
) -> tuple[Stack, Service]:
    logs.mkdir(parents=True, exist_ok=True)
    stack = Stack(service_env(database_url, redis_url, **{**SERVER_ENV, **extra}), logs)
    return stack, stack.add("management").start()


@pytest.fixture(scope="session")
def native_server(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    stack, service = start_management(database_url, redis_url, tmp_root / "native-logs")
    yield service
    stack.stop()


@pytest.fixture
async def http(database_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with management_client(database_url, redis_url, **SERVER_ENV) as client:
        yield client


@pytest.fixture
async def api(http: httpx.AsyncClient, workspace: Workspace) -> httpx.AsyncClient:
    """Authenticated as the test's fresh workspace."""
    http.headers.update(workspace.bearer)
    return http


async def live_links(pool: asyncpg.Pool[Any], workspace_id: int) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM links WHERE workspace_id = $1 AND deleted_at IS NULL", workspace_id
    )
    return count
