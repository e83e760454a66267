"""Management apps in this process for the webhook endpoints: one that allows private
targets (so local receivers on 127.0.0.1 can be registered) and one with the SSRF guard
on."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
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
from tests.support.inprocess import InProcessApp, management_app

SERVER_ENV = {"KURZ_DEFAULT_DOMAIN": DEFAULT_DOMAIN, "KURZ_API_RATE_LIMIT": "1000"}


@contextlib.asynccontextmanager
async def _management(database_url: str, redis_url: str, **env: str) -> AsyncIterator[InProcessApp]:
    # service_env allows private targets; a later value overrides it.
    async with management_app(database_url, redis_url, **{**SERVER_ENV, **env}) as app:
        yield app


@pytest.fixture
async def hooks_server(database_url: str, redis_url: str) -> AsyncIterator[InProcessApp]:
    """Private targets allowed (service_env's default), as in local development."""
    async with _management(database_url, redis_url) as app:
        yield app


@pytest.fixture
async def guarded_server(database_url: str, redis_url: str) -> AsyncIterator[InProcessApp]:
    """The production setting: private and loopback targets refused."""
    async with _management(database_url, redis_url, KURZ_WEBHOOK_ALLOW_PRIVATE="false") as app:
        yield app


def native_client(server: InProcessApp, ws: Workspace) -> httpx.AsyncClient:
    return server.client(ws.bearer)


def linkly_client(server: InProcessApp, ws: Workspace) -> httpx.AsyncClient:
    return server.client({"X-API-KEY": ws.key, "X-WORKSPACE-ID": str(ws.id)})


@pytest.fixture
async def native(
    hooks_server: InProcessApp, workspace: Workspace
) -> AsyncIterator[httpx.AsyncClient]:
    async with native_client(hooks_server, workspace) as client:
        yield client


@pytest.fixture
async def linkly(
    hooks_server: InProcessApp, workspace: Workspace
) -> AsyncIterator[httpx.AsyncClient]:
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
