"""Deliveries through the native API: a receiver that fails until its URL is disabled,
then the listing (status, attempts, last error, pages), the replay refused while the URL
is disabled, re-enabling it, and the replay arriving with the same webhook-id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
import standardwebhooks
from aiohttp import web

from tests.conftest import Workspace
from tests.integration.webhooks.conftest import Received, click, make_link, wait_until, xadd


async def test_list_replay_and_enable(
    native: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Any]],
    worker_factory: Callable[..., Awaitable[Any]],
) -> None:
    healthy = {"now": False}

    async def behaviour(got: Received, n: int) -> web.StreamResponse:
        return web.Response(status=204 if healthy["now"] else 500, text="down")

    receiver = await receivers(behaviour)
    link = await make_link(pool, workspace.id)
    created = await native.post("/api/v1/webhooks", json={"url": receiver.url, "linkId": link.id})
    hook = created.json()["webhook"]
    base = f"/api/v1/webhooks/{hook['id']}"
    # One dead delivery disables the URL: the rest become dead letters at once.
    await worker_factory(KURZ_WEBHOOK_DISABLE_AFTER="1")
    events = [click(link) for _ in range(3)]
    await xadd(redis, events)

    async def all_dead() -> bool:
        page = (await native.get(f"{base}/deliveries", params={"status": "dead"})).json()
        return len(page["deliveries"]) == 3

    await wait_until(all_dead, timeout=20)
    page = (await native.get(f"{base}/deliveries")).json()
    deliveries = page["deliveries"]
    assert [d["id"] for d in deliveries] == sorted((d["id"] for d in deliveries), reverse=True)
    assert {d["messageId"] for d in deliveries} == {f"evt_{e.id}" for e in events}
    tried = [d for d in deliveries if d["attempts"] == 4]  # 1 try + 3 retries, then dead
    assert tried and tried[0]["lastStatus"] == 500 and tried[0]["lastError"]
    assert all(d["nextAttemptAt"] is None and d["webhookId"] == hook["id"] for d in deliveries)
    assert page["nextBefore"] is None

    first = await native.get(f"{base}/deliveries", params={"limit": 2})
    assert [d["id"] for d in first.json()["deliveries"]] == [d["id"] for d in deliveries[:2]]
    rest = await native.get(
        f"{base}/deliveries", params={"limit": 2, "before": first.json()["nextBefore"]}
    )
    assert [d["id"] for d in rest.json()["deliveries"]] == [deliveries[2]["id"]]
    assert rest.json()["nextBefore"] is None
    assert (await native.get(f"{base}/deliveries?status=succeeded")).json()["deliveries"] == []
    assert (await native.get(f"{base}/deliveries?status=lost")).status_code == 400

    state = (await native.get(base)).json()["webhook"]
    assert state["active"] is False and state["disabledReason"]
    notes = (await native.get("/api/v1/notifications")).json()["notifications"]
    assert [n["kind"] for n in notes] == ["webhook.endpoint_disabled"]

    target = tried[0]
    replay = f"{base}/deliveries/{target['id']}/replay"
    refused = await native.post(replay)
    assert refused.status_code == 409 and "enable" in refused.json()["error"]

    enabled = await native.post(f"{base}/enable")
    assert enabled.status_code == 200 and enabled.json()["reenabled"] is True
    assert enabled.json()["webhook"]["active"] is True
    assert (await native.post(f"{base}/enable")).json()["reenabled"] is False

    healthy["now"] = True
    before = len(receiver.received)
    replayed = await native.post(replay)
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["delivery"]["status"] == "pending"
    assert replayed.json()["delivery"]["attempts"] == 0
    await wait_until(lambda: len(receiver.received) > before, timeout=10)
    got = receiver.received[-1]
    assert got.message_id == target["messageId"]  # the same id: receivers de-duplicate
    payload = standardwebhooks.Webhook(hook["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "link.clicked" and payload["data"]["link"]["id"] == link.id

    async def succeeded() -> bool:
        found = (await native.get(f"{base}/deliveries?status=succeeded")).json()["deliveries"]
        return [d["id"] for d in found] == [target["id"]]

    await wait_until(succeeded, timeout=10)


async def test_replay_checks_the_webhook_it_names(
    native: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    """A delivery of another webhook (same workspace) is not found under this one."""
    link = await make_link(pool, workspace.id)
    one = (await native.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/a"})).json()
    two = (await native.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/b"})).json()
    endpoint_id = await pool.fetchval(
        """INSERT INTO webhook_endpoints (workspace_id, url) VALUES ($1, $2) RETURNING id""",
        workspace.id,
        "http://127.0.0.1:9/a",
    )
    delivery_id = await pool.fetchval(
        """INSERT INTO webhook_deliveries (workspace_id, endpoint_id, webhook_id, source,
               link_id, event_type, message_id, url, secret, payload, status, attempts)
           VALUES ($1, $2, $3, 'webhook', $4, 'link.clicked', 'evt_x', $5, 's', '{}', 'dead', 4)
           RETURNING id""",
        workspace.id,
        endpoint_id,
        one["webhook"]["id"],
        link.id,
        "http://127.0.0.1:9/a",
    )
    wrong = await native.post(
        f"/api/v1/webhooks/{two['webhook']['id']}/deliveries/{delivery_id}/replay"
    )
    assert wrong.status_code == 404
    status = await pool.fetchval("SELECT status FROM webhook_deliveries WHERE id = $1", delivery_id)
    assert status == "dead"  # untouched
    right = await native.post(
        f"/api/v1/webhooks/{one['webhook']['id']}/deliveries/{delivery_id}/replay"
    )
    assert right.status_code == 202
    assert right.json()["delivery"]["id"] == delivery_id
