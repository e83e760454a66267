"""A group made through the Vivoldi family delivers its webhooks as Vivoldi does, and a
receiver written only from Vivoldi's webhook guide (en.vivoldi.com/url/api/webhook/
developer-guide) verifies them; native webhooks keep Standard Webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import redis.asyncio as aioredis
import standardwebhooks
from aiohttp import web

from tests.conftest import Workspace, plan_workspace
from tests.integration.webhooks.conftest import Received, Receiver, click, make_link, xadd
from tests.support.inprocess import management_client


def verify_as_vivoldis_guide_says(got: Received, secret: str) -> dict[str, Any]:
    """What the guide asks a receiver to check, and nothing of kurz's own code: the
    body's SHA-256 in X-Content-SHA256; X-Vivoldi-Signature `t=<timestamp>,v1=<hex
    HMAC-SHA256>,alg=hmac-sha256`, t equal to X-Vivoldi-Timestamp and within a minute;
    the HMAC keyed by the group's webhookSecretKey over "<t>.<body>"."""
    headers = {k.lower(): v for k, v in got.headers.items()}
    assert hashlib.sha256(got.body).hexdigest() == headers["x-content-sha256"]
    parts = dict(p.split("=", 1) for p in headers["x-vivoldi-signature"].split(","))
    assert parts["alg"] == "hmac-sha256" and parts["t"] == headers["x-vivoldi-timestamp"]
    assert abs(int(parts["t"]) / 1000 - time.time()) < 60  # milliseconds, as its example
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + got.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"])
    assert headers["x-vivoldi-webhook-type"] == "GROUP"
    assert headers["x-vivoldi-resource-type"] == "URL"
    assert headers["x-vivoldi-action-type"] == "NONE"
    assert headers["x-vivoldi-comp-idx"].isdigit()
    decoded: dict[str, Any] = json.loads(got.body)
    return decoded


async def _fails_first(got: Received, n: int) -> web.StreamResponse:
    return web.Response(status=500 if n == 1 else 200)


async def test_a_vivoldi_group_webhook_verifies_as_vivoldis_guide_says(
    database_url: str, redis_url: str, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    receivers: Callable[..., Awaitable[Receiver]],
    burst: Callable[..., Awaitable[tuple[int, int]]],
) -> None:  # fmt: skip
    ws: Workspace = await plan_workspace(pool, "enterprise")
    receiver = await receivers(_fails_first)
    async with management_client(database_url, redis_url) as api:
        made = await api.post(
            "/api/link-group/v1/create",
            headers={"Authorization": f"APIKey {ws.key}"},
            json={"nm": "Vivoldi hooks", "webhookEnableYn": "Y",
                  "webhookCallbackUrl": receiver.url, "webhookMetric": "C",
                  "webhookFrequency": 1},
        )  # fmt: skip
    body = made.json()
    assert body["code"] == 0, body
    group_id, secret = body["result"]["grpIdx"], body["result"]["webhookSecretKey"]
    link = await make_link(pool, ws.id, group_id=group_id)
    await xadd(redis, [click(link)])
    await burst(horizon=5)  # the retry after the receiver's first 500 included
    first, second = receiver.received
    for got in (first, second):
        verify_as_vivoldis_guide_says(got, secret)
    # The event id stays across the retry; each request has its own id.
    assert first.headers["X-Vivoldi-Event-Id"] == second.headers["X-Vivoldi-Event-Id"]
    assert first.headers["X-Vivoldi-Request-Id"] != second.headers["X-Vivoldi-Request-Id"]
    # A wrong key does not verify.
    try:
        verify_as_vivoldis_guide_says(second, secret + "x")
    except AssertionError:
        pass
    else:
        raise AssertionError("a wrong secret verified")
    # Not Standard Webhooks: those headers are absent.
    assert "webhook-signature" not in {k.lower() for k in second.headers}


async def test_a_native_group_keeps_standard_webhooks(
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    burst: Callable[..., Awaitable[tuple[int, int]]],
) -> None:  # fmt: skip
    from kurz.webhooks.signing import generate_secret

    from tests.integration.webhooks.conftest import make_group

    receiver = await receivers()
    secret = generate_secret()
    group_id = await make_group(
        pool, workspace.id, webhook_enabled=True, webhook_url=receiver.url,
        webhook_metric="C", webhook_frequency=1, webhook_secret=secret,
    )  # fmt: skip
    link = await make_link(pool, workspace.id, group_id=group_id)
    await xadd(redis, [click(link)])
    await burst()
    [got] = receiver.received
    standardwebhooks.Webhook(secret).verify(got.body, got.headers)
    assert "x-vivoldi-signature" not in {k.lower() for k in got.headers}
