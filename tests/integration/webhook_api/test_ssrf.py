"""With KURZ_WEBHOOK_ALLOW_PRIVATE=false, both families refuse targets on loopback,
private, link-local and metadata addresses with a 422 that says why, and store nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.conftest import Workspace
from tests.integration.webhook_api.conftest import linkly_client, native_client, webhook_count
from tests.support.inprocess import InProcessApp

REFUSED = [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://localhost/hook", "127.0.0.1"),  # a name is judged by what it resolves to
    ("http://localhost./hook", "localhost."),  # the same rule on every registration path
    ("http://[::1]/hook", "loopback"),
    ("http://10.1.2.3/hook", "private"),
    ("http://192.168.0.10/hook", "private"),
    ("http://169.254.169.254/latest/meta-data", "metadata"),
    ("http://[::ffff:10.0.0.1]/hook", "10.0.0.1"),
    ("http://does-not-resolve.invalid/hook", "does not resolve"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
async def test_native_refuses_private_targets(
    guarded_server: InProcessApp,
    pool: asyncpg.Pool[Any],
    workspace: Workspace,
    url: str,
    reason: str,
) -> None:
    async with native_client(guarded_server, workspace) as client:
        answer = await client.post("/api/v1/webhooks", json={"url": url})
    assert answer.status_code == 422, answer.text
    assert reason in answer.json()["error"]
    assert await webhook_count(pool, workspace.id) == 0


@pytest.mark.parametrize(("url", "reason"), REFUSED[:5])
async def test_linkly_refuses_private_targets(
    guarded_server: InProcessApp,
    pool: asyncpg.Pool[Any],
    workspace: Workspace,
    url: str,
    reason: str,
) -> None:
    async with linkly_client(guarded_server, workspace) as client:
        answer = await client.post(f"/api/v1/workspace/{workspace.id}/webhooks", json={"url": url})
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "url" and reason in answer.json()["error"]
    assert await webhook_count(pool, workspace.id) == 0


async def test_public_target_is_accepted(
    guarded_server: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    async with native_client(guarded_server, workspace) as client:
        answer = await client.post("/api/v1/webhooks", json={"url": "https://93.184.215.14/h"})
    assert answer.status_code == 201, answer.text
    assert await webhook_count(pool, workspace.id) == 1
