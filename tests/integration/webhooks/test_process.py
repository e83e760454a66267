"""The worker as a real process: operator endpoints, no delivery lost to SIGKILL, and a
SIGTERM that lets deliveries in flight finish and leaves the rest due."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from tests.conftest import Workspace
from tests.integration.webhooks.conftest import (
    Behaviour,
    Received,
    Receiver,
    click,
    make_link,
    wait_until,
    xadd,
)
from tests.support.services import Stack, service_env

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(service_env(database_url, redis_url, KURZ_WEBHOOK_CLAIM_IDLE_MS="1500"), tmp_path)
    yield stack
    stack.stop()


def _slow(seconds: float) -> Behaviour:
    async def behaviour(got: Received, n: int) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.Response(status=200)

    return behaviour


async def test_operator_endpoints(stack: Stack) -> None:
    worker = stack.add("webhook-worker")
    await asyncio.to_thread(worker.start)
    async with httpx.AsyncClient(base_url=worker.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        metrics = (await client.get("/metrics")).text
    assert "kurz_webhook_deliveries_total" in metrics


async def test_sigkill_mid_flight_loses_no_delivery(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    stack: Stack,
) -> None:
    receiver = await receivers(_slow(0.3))
    link = await make_link(pool, workspace.id, webhook_urls=[receiver.url])
    worker = stack.add("webhook-worker", KURZ_WEBHOOK_TIMEOUT="1", KURZ_WEBHOOK_PER_ENDPOINT="4")
    await asyncio.to_thread(worker.start)
    events = [click(link) for _ in range(40)]
    await xadd(redis, events[:30])
    await wait_until(lambda: len(receiver.received) >= 8, timeout=15)
    await xadd(redis, events[30:])  # some of these may not even be fanned out yet
    assert await asyncio.to_thread(worker.stop, signal.SIGKILL) == -signal.SIGKILL
    await asyncio.to_thread(worker.start)

    expected = {f"evt_{e.id}" for e in events}
    await wait_until(lambda: set(receiver.ids()) == expected, timeout=40)

    async def all_succeeded() -> bool:
        rows = await pool.fetch(
            "SELECT status FROM webhook_deliveries WHERE workspace_id = $1", workspace.id
        )
        return len(rows) == 40 and all(r["status"] == "succeeded" for r in rows)

    await wait_until(all_succeeded, timeout=10)


async def test_sigterm_finishes_in_flight_and_leaves_the_rest_due(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    stack: Stack,
) -> None:
    receiver = await receivers(_slow(1.5))
    link = await make_link(pool, workspace.id, webhook_urls=[receiver.url])
    worker = stack.add("webhook-worker", KURZ_WEBHOOK_PER_ENDPOINT="2", KURZ_SHUTDOWN_GRACE="10")
    await asyncio.to_thread(worker.start)
    await xadd(redis, [click(link) for _ in range(5)])
    await wait_until(lambda: len(receiver.received) == 2, timeout=10)
    # uvicorn re-raises the signal after a clean shutdown: exit status -SIGTERM.
    assert await asyncio.to_thread(worker.stop, signal.SIGTERM) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in worker.log.read_text()

    rows = await pool.fetch(
        """SELECT status, next_attempt_at <= now() AS due FROM webhook_deliveries
           WHERE workspace_id = $1""",
        workspace.id,
    )
    statuses = sorted(r["status"] for r in rows)
    assert statuses == ["pending"] * 3 + ["succeeded"] * 2
    assert all(r["due"] for r in rows if r["status"] == "pending")
    assert len(receiver.received) == 2
