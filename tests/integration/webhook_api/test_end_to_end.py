"""End to end: webhooks registered through the native and the Linkly endpoints, clicks
on the stream, and the real webhook-worker process delivering to local receivers;
every delivery is verified with the `standardwebhooks` package."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
import standardwebhooks

from tests.conftest import Workspace
from tests.integration.webhooks.conftest import click, make_link, wait_until, xadd
from tests.support.services import Service, Stack, service_env

pytestmark = pytest.mark.slow


@pytest.fixture
def worker_process(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Service]:
    stack = Stack(service_env(database_url, redis_url, KURZ_WEBHOOK_TIMEOUT="2"), tmp_path)
    yield stack.add("webhook-worker")
    stack.stop()


async def test_worker_process_delivers_to_registered_webhooks(
    native: httpx.AsyncClient,
    linkly: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Any]],
    worker_process: Service,
) -> None:
    standard_receiver = await receivers()
    linkly_receiver = await receivers()
    link = await make_link(pool, workspace.id)
    other_link = await make_link(pool, workspace.id)
    native_hook = await native.post("/api/v1/webhooks", json={"url": standard_receiver.url})
    assert native_hook.status_code == 201
    linkly_hook = await linkly.post(
        f"/api/v1/link/{link.id}/webhooks", json={"url": linkly_receiver.url}
    )
    assert linkly_hook.status_code == 200
    await asyncio.to_thread(worker_process.start)

    events = [click(link) for _ in range(3)] + [click(other_link)]
    await xadd(redis, events)
    await wait_until(
        lambda: len(standard_receiver.received) == 4 and len(linkly_receiver.received) == 3,
        timeout=30,
    )

    # Workspace-level: every link's clicks, in the standard format.
    standard = standardwebhooks.Webhook(native_hook.json()["webhook"]["secret"])
    bodies = [standard.verify(r.body, r.headers) for r in standard_receiver.received]
    assert {b["id"] for b in bodies} == {f"evt_{e.id}" for e in events}
    assert {b["data"]["link"]["id"] for b in bodies} == {link.id, other_link.id}
    assert all(b["type"] == "link.clicked" for b in bodies)

    # Link-level, registered through Linkly: only that link, in Linkly's payload shape.
    linkly_verifier = standardwebhooks.Webhook(linkly_hook.json()["secret"])
    bodies = [linkly_verifier.verify(r.body, r.headers) for r in linkly_receiver.received]
    assert {b["id"] for b in bodies} == {f"evt_{e.id}" for e in events[:3]}
    assert all(b["event"] == "click" and b["link"]["id"] == link.id for b in bodies)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standard.verify(linkly_receiver.received[0].body, linkly_receiver.received[0].headers)

    # The API shows what the worker did.
    hook_id = native_hook.json()["webhook"]["id"]

    async def all_succeeded() -> bool:
        page = (await native.get(f"/api/v1/webhooks/{hook_id}/deliveries")).json()
        return [d["status"] for d in page["deliveries"]] == ["succeeded"] * 4

    await wait_until(all_succeeded, timeout=10)
