"""Management processes for the webhook endpoints: one that allows private targets (so
local receivers on 127.0.0.1 can be registered) and one with the SSRF guard on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from kurz.workspaces import create_workspace
from kurz_webhooks.app import Worker

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.integration.webhooks.conftest import Receiver, worker_settings
from tests.support.services import Service, Stack, service_env

SERVER_ENV = {"KURZ_DEFAULT_DOMAIN": DEFAULT_DOMAIN, "KURZ_API_RATE_LIMIT": "1000"}


def _management(database_url: str, redis_url: str, logs: Path, **env: str) -> Iterator[Service]:
    logs.mkdir(parents=True, exist_ok=True)
    # service_env allows private targets; a later value overrides it.
    stack = Stack({**service_env(database_url, redis_url, **SERVER_ENV), **env}, logs)
    service = stack.add("management").start()
    yield service
    stack.stop()


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


async def plan_workspace(pool: asyncpg.Pool[Any], plan: str) -> Workspace:
    async with pool.acquire() as conn:
        ws_id, key = await create_workspace(conn, f"{plan}-{uuid.uuid4().hex[:8]}", plan=plan)
    return Workspace(ws_id, key)


async def webhook_count(pool: asyncpg.Pool[Any], workspace_id: int) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM webhooks WHERE workspace_id = $1", workspace_id
    )
    return count


@pytest.fixture
async def receiver_factory() -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    started: list[Receiver] = []

    async def make(*args: Any) -> Receiver:
        receiver = await Receiver(*args).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()


@pytest.fixture
async def worker_factory(
    database_url: str, redis_url: str
) -> AsyncIterator[Callable[..., Awaitable[Worker]]]:
    """The webhook worker in this event loop (fast retry schedule); stopped at teardown."""
    workers: list[Worker] = []

    async def make(**env: str) -> Worker:
        worker = Worker(worker_settings(database_url, redis_url, **env))
        await worker.start()
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        if not worker.draining:
            await worker.stop()


@pytest.fixture(autouse=True)
async def _retire_pending(pool: asyncpg.Pool[Any], workspace: Workspace) -> AsyncIterator[None]:
    """This test's unfinished deliveries must not reach a later test's receiver that
    happens to reuse the port."""
    yield
    await pool.execute(
        """UPDATE webhook_deliveries SET status = 'dead'
           WHERE workspace_id = $1 AND status = 'pending'""",
        workspace.id,
    )
