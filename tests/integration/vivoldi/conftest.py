"""A real management server process for the Vivoldi family's tests, and a client that
speaks the family's auth scheme."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from kurz.workspaces import create_workspace

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.support.services import Service, Stack, service_env


@pytest.fixture(scope="session")
def management(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    env = service_env(
        database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN, KURZ_API_RATE_LIMIT="100000"
    )
    logs = tmp_root / "vivoldi-logs"
    logs.mkdir(exist_ok=True)
    stack = Stack(env, logs)
    svc = stack.add("management").start()
    yield svc
    stack.stop()


@pytest.fixture
async def api(management: Service, workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    """A client authenticated as the test's workspace with `APIKey <key>`."""
    async with httpx.AsyncClient(
        base_url=management.url, headers={"Authorization": f"APIKey {workspace.key}"}, timeout=10
    ) as client:
        yield client


async def plan_workspace(pool: asyncpg.Pool[Any], plan: str, **extra: Any) -> Workspace:
    async with pool.acquire() as conn:
        ws_id, key = await create_workspace(
            conn, f"{plan}-{uuid.uuid4().hex[:8]}", plan=plan, **extra
        )
    return Workspace(ws_id, key)


def client_for(management: Service, ws: Workspace) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=management.url, headers={"Authorization": f"APIKey {ws.key}"}, timeout=10
    )
