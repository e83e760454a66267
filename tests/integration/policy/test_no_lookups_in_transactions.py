"""A link write resolves its webhook host names before it opens a transaction or takes
a lock: a slow DNS answer never holds rows or advisory locks.

DNS cannot be slowed here, so the test stands in for the system resolver with one that
waits for the test's word, and looks at Postgres meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz.db import create_pool
from kurz.edge_cache import EdgeCache
from kurz.models import LinkSpec
from kurz.settings import load_settings
from kurz_management.context import AppContext
from kurz_management.core import webhook_targets
from kurz_management.core.auth import Principal
from kurz_management.core.links import service

from tests.conftest import new_workspace

APP = "kurz-lookup-test"


@pytest.fixture
async def app_pool(database_url: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    """The write's own pool, named so that only its sessions are looked at."""
    named = await create_pool(f"{database_url}?application_name={APP}", max_size=4)
    yield named
    await named.close()


async def test_webhook_names_resolve_outside_any_transaction_or_lock(
    pool: asyncpg.Pool[Any],
    app_pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await new_workspace(pool)
    settings = load_settings({"KURZ_WEBHOOK_ALLOW_PRIVATE": "false"})
    ctx = AppContext(settings, app_pool, redis, EdgeCache(redis))
    principal = Principal(tenant.id, "selfhosted", {}, "UTC", 0)
    link = await service.create_link(ctx, principal, LinkSpec(url="https://example.com/"))

    resolving, answer = asyncio.Event(), asyncio.Event()

    async def slow_resolver(host: str, port: int) -> list[str]:
        resolving.set()
        await answer.wait()
        return ["93.184.215.14"]

    monkeypatch.setattr(webhook_targets, "system_resolver", slow_resolver)
    spec = LinkSpec(webhook_urls=["https://hooks.example.org/in"])
    write = asyncio.create_task(service.update_link(ctx, principal, link.id, spec))
    await asyncio.wait_for(resolving.wait(), 10)
    try:
        held = await pool.fetchval(
            """SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
               WHERE a.application_name = $1
                 AND (l.locktype = 'advisory' OR a.state LIKE 'idle in transaction%')""",
            APP,
        )
        assert held == 0
    finally:
        answer.set()
    updated = await asyncio.wait_for(write, 10)
    assert updated.webhook_urls == ["https://hooks.example.org/in"]
