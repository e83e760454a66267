"""The whole path as real processes: a link created through the native API with
`webhookUrls`, a visit through the redirector, a verified delivery at the receiver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import standardwebhooks

from tests.conftest import Workspace
from tests.integration.webhooks.conftest import Receiver, wait_until, workspace_secret
from tests.support.services import Stack, edge_addressed_stack

pytestmark = pytest.mark.slow


@pytest.fixture
def pipeline(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    stack = edge_addressed_stack(database_url, redis_url, tmp_path, "webhook-worker")
    yield stack
    stack.stop()


async def test_a_visit_reaches_the_links_webhook(
    pipeline: Stack,
    pool: asyncpg.Pool[Any],
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
) -> None:
    receiver = await receivers()
    async with httpx.AsyncClient(
        base_url=pipeline["management"].url, headers=workspace.bearer, timeout=10
    ) as client:
        created = await client.post(
            "/api/v1/links",
            json={"url": "https://example.com/landing", "webhookUrls": receiver.url},
        )
    assert created.status_code == 201, created.text
    link = created.json()["link"]
    async with httpx.AsyncClient(timeout=10) as visitor:
        visit = await visitor.get(
            link["shortUrl"],
            headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"},
        )
        assert visit.status_code == 302
        bot = await visitor.get(link["shortUrl"], headers={"User-Agent": "Googlebot/2.1"})
        assert bot.status_code == 302

    await wait_until(lambda: len(receiver.received) >= 1, timeout=15)
    await asyncio.sleep(0.5)
    assert len(receiver.received) == 1  # the bot's visit is not a counted click
    got = receiver.received[0]
    secret = await workspace_secret(pool, workspace.id)
    body = standardwebhooks.Webhook(secret).verify(got.body, got.headers)
    assert body == json.loads(got.body)
    assert body["type"] == "link.clicked"
    assert body["data"]["link"]["id"] == int(link["id"])
    assert body["data"]["click"]["destination"] == "https://example.com/landing"
