"""Group writes reach the edge: one record per group in Redis, one invalidation per
write, and a deleted group's links rewritten without it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import redis.asyncio as aioredis
from kurz import keys
from kurz.edge_cache import EdgeCache
from kurz.edge_records import SELECT_LINK, edge_link_from_row
from kurz.models import decode_group, decode_link
from kurz.passwords import verify_password

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.integration.vivoldi.test_groups import create, ok
from tests.support.streams import redis_value


async def insert_link(
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace_id: int, group_id: int | None
) -> tuple[str, str]:
    slug = uuid.uuid4().hex[:10]
    async with pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO links (workspace_id, host, slug, url, group_id, max_clicks)
               VALUES ($1, $2, $3, 'https://example.com/own', $4, 99)""",
            workspace_id,
            DEFAULT_DOMAIN,
            slug,
            group_id,
        )
        row = await conn.fetchrow(SELECT_LINK, DEFAULT_DOMAIN, slug)
    await EdgeCache(redis).put_links([edge_link_from_row(row)])
    return DEFAULT_DOMAIN, slug


async def test_update_rewrites_the_single_group_record_and_publishes(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any], redis: aioredis.Redis
) -> None:
    grp_idx = await create(api)
    addresses = [await insert_link(pool, redis, workspace.id, grp_idx) for _ in range(3)]
    links_before = [await redis.get(keys.link(h, s)) for h, s in addresses]
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.INVALIDATION_CHANNEL)
    try:
        await pubsub.get_message(timeout=1)  # the subscribe confirmation
        ok(
            await api.put(
                "/api/link-group/v1/update",
                json={
                    "grpIdx": grp_idx,
                    "endYmdt": "2026-03-31 23:59:59",
                    "pwd": "open sesame",
                    "acesMaxCnt": 5,
                    "expireUrl": "https://example.com/over",
                },
            )
        )
        messages = []
        while (
            message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        ) is not None:
            messages.append(message["data"].decode())
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
    assert messages == [keys.group_invalidation(grp_idx)]  # one write, whatever the link count
    edge = decode_group(await redis_value(redis, keys.group(grp_idx)))
    assert edge.ends_at == datetime(2026, 3, 31, 23, 59, 59, tzinfo=ZoneInfo("UTC")).timestamp()
    assert edge.password_hash and verify_password(edge.password_hash, "open sesame")
    assert (edge.max_clicks, edge.expire_url) == (5, "https://example.com/over")
    # The links' own records are untouched: the group applies through its own record.
    assert [await redis.get(keys.link(h, s)) for h, s in addresses] == links_before
    # Clearing brings the group record back to "no setting".
    ok(
        await api.put(
            "/api/link-group/v1/update",
            json={"grpIdx": grp_idx, "endYmdt": "", "pwd": None, "acesMaxCnt": 0, "expireUrl": ""},
        )
    )
    edge = decode_group(await redis_value(redis, keys.group(grp_idx)))
    assert (edge.ends_at, edge.password_hash, edge.max_clicks, edge.expire_url) == (None,) * 4


async def test_delete_ungroups_links_and_drops_the_group_record(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any], redis: aioredis.Redis
) -> None:
    grp_idx = await create(api, acesMaxCnt=1)
    keep = await create(api, nm="other")
    grouped = [await insert_link(pool, redis, workspace.id, grp_idx) for _ in range(2)]
    elsewhere = await insert_link(pool, redis, workspace.id, keep)
    listed = ok(await api.get("/api/link-group/v1/list", params={"grpIdx": grp_idx}))
    assert listed[0]["linkCnt"] == 2
    response = await api.delete("/api/link-group/v1/delete", params={"grpIdx": grp_idx})
    assert response.json() == {"code": 0, "message": "", "result": None}
    assert await pool.fetchval("SELECT count(*) FROM link_groups WHERE id = $1", grp_idx) == 0
    assert await redis.get(keys.group(grp_idx)) is None
    for host, slug in grouped:
        row = await pool.fetchrow(SELECT_LINK, host, slug)
        assert row is not None and row["group_id"] is None  # the link stays, ungrouped
        edge = decode_link(await redis_value(redis, keys.link(host, slug)))
        assert edge.group_id is None and edge.max_clicks == 99  # its own limit applies again
    assert decode_link(await redis_value(redis, keys.link(*elsewhere))).group_id == keep
    again = await api.delete("/api/link-group/v1/delete", params={"grpIdx": grp_idx})
    assert again.json()["code"] == 404
