"""Management processes for the webhook endpoints: one that allows private targets (so
local receivers on 127.0.0.1 can be registered) and one with the SSRF guard on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import DEFAULT_DOMAIN, Workspace, plan_workspace

# The webhook kit's fixtures, shared: receivers, the in-process worker, and retiring
# each test's unfinished deliveries.
from tests.integration.webhooks.conftest import (  # noqa: F401
    _retire_pending,
    receivers,
    worker_factory,
)
from tests.support.services import Service, one_service, service_env

SERVER_ENV = {"KURZ_DEFAULT_DOMAIN": DEFAULT_DOMAIN, "KURZ_API_RATE_LIMIT": "1000"}


def _management(database_url: str, redis_url: str, logs: Path, **env: str) -> Iterator[Service]:
    # service_env allows private targets; a later value overrides it.
    server_env = {**service_env(database_url, redis_url, **SERVER_ENV), **env}
    yield from one_service("management", server_env, logs)


@pytest.fixture(scope="session")
def hooks_server(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    """Private targets allowed (service_env's default), as in local development."""
    yield from _management(database_url, redis_url, tmp_root / "webhook-api-logs")


@pytest.fixture(scope="session")
def guarded_server(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    """The production setting: private and loopback targets refused."""
    yield from _management(
        database_url,
        redis_url,
        tmp_root / "webhook-api-guarded-logs",
        KURZ_WEBHOOK_ALLOW_PRIVATE="false",
    )


def native_client(server: Service, ws: Workspace) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers=ws.bearer, timeout=30)


def linkly_client(server: Service, ws: Workspace) -> httpx.AsyncClient:
    headers = {"X-API-KEY": ws.key, "X-WORKSPACE-ID": str(ws.id)}
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30)


@pytest.fixture
async def native(hooks_server: Service, workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    async with native_client(hooks_server, workspace) as client:
        yield client


@pytest.fixture
async def linkly(hooks_server: Service, workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    async with linkly_client(hooks_server, workspace) as client:
        yield client


@pytest.fixture
async def other_workspace(pool: asyncpg.Pool[Any]) -> Workspace:
    return await plan_workspace(pool, "selfhosted")


async def webhook_count(pool: asyncpg.Pool[Any], workspace_id: int) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM webhooks WHERE workspace_id = $1", workspace_id
    )
    return count
