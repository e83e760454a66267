"""The use cases the management API calls: register (SSRF-checked), list, remove, list
deliveries, replay; all scoped to a workspace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz.settings import WebhookSettings
from kurz.webhooks import registry
from kurz.webhooks.ssrf import UnsafeTarget

from tests.conftest import Workspace
from tests.integration.webhooks.conftest import Receiver, click, make_link, xadd

STRICT = WebhookSettings(allow_private_targets=False)
OPEN = WebhookSettings(allow_private_targets=True)


async def public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


async def internal(host: str, port: int) -> list[str]:
    return ["93.184.215.14", "10.1.2.3"]


async def test_register_list_and_remove(pool: asyncpg.Pool[Any], workspace: Workspace) -> None:
    link = await make_link(pool, workspace.id)
    async with pool.acquire() as conn:
        on_link = await registry.register_webhook(
            conn,
            workspace.id,
            "https://hooks.example.com/a",
            link_id=link.id,
            settings=STRICT,
            resolver=public,
        )
        on_ws = await registry.register_webhook(
            conn,
            workspace.id,
            "https://hooks.example.com/b",
            format="linkly",
            settings=STRICT,
            resolver=public,
        )
        assert on_link.secret.startswith("whsec_") and on_link.secret != on_ws.secret
        assert (on_link.link_id, on_link.format) == (link.id, "standard")
        assert [h.id for h in await registry.list_webhooks(conn, workspace.id)] == [
            on_link.id,
            on_ws.id,
        ]
        assert [
            h.id for h in await registry.list_webhooks(conn, workspace.id, link_id=link.id)
        ] == [on_link.id]
        assert [
            h.id for h in await registry.list_webhooks(conn, workspace.id, workspace_level=True)
        ] == [on_ws.id]
        await registry.remove_webhook(conn, workspace.id, on_link.id)
        assert [h.id for h in await registry.list_webhooks(conn, workspace.id)] == [on_ws.id]
        with pytest.raises(registry.WebhookNotFound):
            await registry.remove_webhook(conn, workspace.id, on_link.id)


@pytest.mark.parametrize(
    ("url", "resolver", "message"),
    [
        ("http://127.0.0.1:8080/x", None, "loopback"),
        ("http://localhost/x", None, "loopback"),
        ("http://[::ffff:10.0.0.1]/x", None, "private"),
        ("http://169.254.169.254/latest/meta-data", None, "metadata"),
        ("https://rebind.example/x", internal, "10.1.2.3"),
        ("ftp://example.com/x", None, "http"),
        ("https://user:pw@example.com/x", None, "credentials"),
        ("https:///nohost", None, "no host"),
        ("https://example.com:99999/x", None, "malformed"),
    ],
)
async def test_register_refuses_unsafe_urls_and_writes_nothing(
    pool: asyncpg.Pool[Any], workspace: Workspace, url: str, resolver: Any, message: str
) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(UnsafeTarget, match=message):
            await registry.register_webhook(
                conn, workspace.id, url, settings=STRICT, resolver=resolver
            )
        assert await registry.list_webhooks(conn, workspace.id) == []


async def test_register_refuses_bad_format_and_foreign_links(
    pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    async with pool.acquire() as conn:
        other_ws = await conn.fetchval(
            "INSERT INTO workspaces (name) VALUES ('other') RETURNING id"
        )
    foreign = await make_link(pool, other_ws)
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="format must be one of"):
            await registry.register_webhook(
                conn, workspace.id, "https://e.com", format="xml", settings=OPEN
            )
        with pytest.raises(registry.WebhookNotFound):
            await registry.register_webhook(
                conn,
                workspace.id,
                "https://e.com",
                link_id=foreign.id,
                settings=OPEN,
                resolver=public,
            )
        assert await registry.list_webhooks(conn, workspace.id) == []


async def test_private_targets_register_when_allowed(
    pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    async with pool.acquire() as conn:
        hook = await registry.register_webhook(
            conn, workspace.id, "http://127.0.0.1:9/x", settings=OPEN
        )
    assert hook.url == "http://127.0.0.1:9/x"


async def test_list_deliveries_and_replay(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    burst: Callable[..., Awaitable[tuple[int, int]]],
) -> None:
    receiver = await receivers()
    link = await make_link(pool, workspace.id)
    async with pool.acquire() as conn:
        hook = await registry.register_webhook(
            conn, workspace.id, receiver.url, link_id=link.id, settings=OPEN
        )
    events = [click(link) for _ in range(3)]
    await xadd(redis, events)
    await burst()
    assert len(receiver.received) == 3
    async with pool.acquire() as conn:
        found = await registry.list_deliveries(conn, workspace.id, webhook_id=hook.id)
    assert len(found) == 3 and all(d.status == "succeeded" for d in found)
    async with pool.acquire() as conn:
        first_page = await registry.list_deliveries(conn, workspace.id, limit=2)
        second_page = await registry.list_deliveries(
            conn, workspace.id, before_id=first_page[-1].id
        )
        assert len(first_page) == 2 and len(second_page) == 1
        assert await registry.list_deliveries(conn, workspace.id, status="dead") == []
        replayed = await registry.replay_delivery(conn, workspace.id, second_page[0].id)
        assert (replayed.status, replayed.attempts) == ("pending", 0)
        with pytest.raises(registry.WebhookNotFound):
            await registry.replay_delivery(conn, workspace.id + 10_000, second_page[0].id)
    await burst()
    assert len(receiver.received) == 4
    assert receiver.received[3].message_id == second_page[0].message_id
    await burst()  # nothing more is due: replayed once, sent once
    assert len(receiver.received) == 4
