"""Resolve, redirect and record: the redirector's core, against a real process."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from kurz import keys
from kurz.edge_cache import EdgeCache
from kurz.models import decode_link

from tests.conftest import Workspace
from tests.integration.redirector.conftest import (
    create_link,
    events_of,
    insert_link,
    new_slug,
)
from tests.support.streams import as_bytes


async def test_redirects_with_the_link_status_and_records_the_click_before_answering(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    found = await create_link(pool, redis, workspace.id, url="https://example.com/a")
    moved = await create_link(
        pool, redis, workspace.id, url="https://example.com/b", redirect_type=301
    )
    for link, status in ((found, 302), (moved, 301)):
        response = await client.get(f"/{link.slug}", headers={"X-Request-Id": "req-42"})
        assert response.status_code == status
        assert response.headers["location"] == link.url
        # No waiting: the event is in the stream by the time the response arrives.
        (event,) = await events_of(redis, link.id)
        assert event.outcome == "redirect" and event.destination == link.url
        assert event.workspace_id == workspace.id and event.slug == link.slug
        assert event.request_id == "req-42" and event.method == "GET" and not event.bot
        assert event.counted
        assert "127.0.0.1" not in event.visitor and len(event.visitor) == 32


async def test_every_redirect_type(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    for status in (301, 302, 307, 308):
        link = await create_link(pool, redis, workspace.id, redirect_type=status)
        response = await client.get(f"/{link.slug}")
        assert response.status_code == status
        assert response.headers["location"] == link.url


async def test_unknown_slug_is_a_404_page_until_the_link_appears(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    slug = new_slug()
    response = await client.get(f"/{slug}")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    # The negative entry goes with the invalidation the write publishes.
    link = await create_link(pool, redis, workspace.id, slug=slug)
    for _ in range(50):
        response = await client.get(f"/{slug}")
        if response.status_code == 302:
            break
        await asyncio.sleep(0.05)
    assert response.status_code == 302
    assert response.headers["location"] == link.url


async def test_a_link_only_in_postgres_is_served_and_refills_redis(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await insert_link(pool, workspace.id, url="https://example.com/from-postgres")
    assert await redis.get(keys.link(link.host, link.slug)) is None
    response = await client.get(f"/{link.slug}")
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/from-postgres"
    stored = await redis.get(keys.link(link.host, link.slug))
    assert stored is not None and decode_link(as_bytes(stored)).id == link.id


async def test_an_update_reaches_the_edge_through_invalidation(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(pool, redis, workspace.id, url="https://example.com/old")
    assert (await client.get(f"/{link.slug}")).headers["location"] == "https://example.com/old"
    import msgspec

    await EdgeCache(redis).put_links([msgspec.structs.replace(link, url="https://example.com/new")])
    for _ in range(50):
        location = (await client.get(f"/{link.slug}")).headers["location"]
        if location.endswith("/new"):
            break
        await asyncio.sleep(0.05)
    assert location == "https://example.com/new"
    await EdgeCache(redis).drop_links([(link.host, link.slug)])
    await pool.execute("UPDATE links SET deleted_at = now() WHERE id = $1", link.id)
    for _ in range(50):
        status = (await client.get(f"/{link.slug}")).status_code
        if status == 404:
            break
        await asyncio.sleep(0.05)
    assert status == 404


async def test_head_and_bots_are_marked_and_not_counted(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(pool, redis, workspace.id)
    assert (await client.head(f"/{link.slug}")).status_code == 302
    bot_ua = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert (await client.get(f"/{link.slug}", headers={"User-Agent": bot_ua})).status_code == 302
    head, bot = await events_of(redis, link.id)
    assert head.method == "HEAD" and not head.counted
    assert head.request_id == head.id  # none was sent: the event id stands in
    assert bot.bot and not bot.counted and bot.user_agent == bot_ua


async def test_operator_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    metrics = (await client.get("/metrics")).text
    assert "kurz_redirect_seconds_bucket" in metrics
    assert "kurz_edge_cache_lookups_total" in metrics
    assert "kurz_click_events_total" in metrics


async def test_other_methods_and_paths(client: httpx.AsyncClient) -> None:
    assert (await client.put("/abc")).status_code == 405
    assert (await client.get("/")).status_code == 404
    assert (await client.get("/a/b/c")).status_code == 404
