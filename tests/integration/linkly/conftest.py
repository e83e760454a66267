"""The management app in this process (on the suite's real Postgres and Redis) for the
Linkly family's tests: no server process, which is not what they test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.support.inprocess import management_client
from tests.support.services import Service, one_service, service_env

RATE_LIMIT = 20  # Linkly's documented limit, requests per second per key


@pytest.fixture(scope="session")
def linkly_server(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    """A real server process, for what only a real connection shows (streaming)."""
    env = service_env(
        database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN,
        KURZ_API_RATE_LIMIT=str(RATE_LIMIT),
    )  # fmt: skip
    yield from one_service("management", env, tmp_root / "linkly-logs")


@pytest.fixture
async def http(database_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An unauthenticated client: each test passes the key the way it exercises."""
    async with management_client(
        database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN,
        KURZ_API_RATE_LIMIT=str(RATE_LIMIT),
    ) as client:  # fmt: skip
        yield client


@pytest.fixture
async def api(http: httpx.AsyncClient, workspace: Workspace) -> httpx.AsyncClient:
    """The same client, authenticated by Linkly's headers as the test's workspace."""
    http.headers.update({"X-API-KEY": workspace.key, "X-WORKSPACE-ID": str(workspace.id)})
    return http


async def count_links(pool: asyncpg.Pool[Any], workspace_id: int) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM links WHERE workspace_id = $1 AND deleted_at IS NULL", workspace_id
    )
    return count
