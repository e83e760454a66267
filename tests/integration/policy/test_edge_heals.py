"""Writes made while Redis is away reach the edge by themselves once it returns: every
change committed to Postgres (created, changed, moved to a new slug, deleted links, a
group's settings and a workspace's branding) is in the edge cache within seconds, with
no command run."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.branding import decode_workspace
from kurz.db import create_pool
from kurz.dev.servers import Postgres, Redis, free_port
from kurz.models import decode_group, decode_link

from tests.conftest import DEFAULT_DOMAIN, new_workspace
from tests.support.inprocess import management_client
from tests.support.streams import as_bytes
from tests.support.waiting import wait_for


@pytest.fixture
def own_redis(tmp_path: Any) -> Iterator[Redis]:
    """A Redis that keeps its data across a restart, so stale records would stay."""
    server = Redis(tmp_path / "redis", free_port(), options=("--appendonly", "yes")).start()
    yield server
    server.stop()


async def _create(http: httpx.AsyncClient, headers: dict[str, str], slug: str) -> int:
    body = {"url": f"https://example.com/{slug}", "customSlug": slug}
    answer = await http.post("/api/v1/links", headers=headers, json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["link"]["id"])


@pytest.fixture
async def own_pool(own_postgres: Postgres) -> AsyncIterator[asyncpg.Pool[Any]]:
    """This package's own Postgres: another process's healer, on another Redis, would
    apply this test's outbox rows there."""
    pool = await create_pool(own_postgres.url, max_size=2)
    yield pool
    await pool.close()


async def test_writes_during_a_redis_outage_reach_the_edge_by_themselves(
    own_redis: Redis, own_pool: asyncpg.Pool[Any], own_postgres: Postgres
) -> None:
    pool, database_url = own_pool, own_postgres.url
    tenant = await new_workspace(pool)
    bearer, apikey = tenant.bearer, {"Authorization": f"APIKey {tenant.key}"}
    tag = uuid.uuid4().hex[:8]
    changed, moved, deleted, created = (f"{name}-{tag}" for name in "cmdn")
    env = {"KURZ_DEFAULT_DOMAIN": DEFAULT_DOMAIN}
    async with management_client(database_url, own_redis.url, **env) as http:
        ids = {slug: await _create(http, bearer, slug) for slug in (changed, moved, deleted)}
        made = await http.post("/api/link-group/v1/create", headers=apikey, json={"nm": tag})
        group_id = made.json()["result"]["grpIdx"]

        own_redis.stop()
        patched = {"url": "https://example.com/changed"}
        writes = [
            http.patch(f"/api/v1/links/{ids[changed]}", headers=bearer, json=patched),
            http.patch(
                f"/api/v1/links/{ids[moved]}", headers=bearer, json={"customSlug": moved + "2"}
            ),
            http.delete(f"/api/v1/links/{ids[deleted]}", headers=bearer),
            http.put(
                "/api/link-group/v1/update", headers=apikey,
                json={"grpIdx": group_id, "acesMaxCnt": 7},
            ),
            http.patch(
                "/api/v1/workspace", headers=bearer, json={"branding": {"name": "Healed"}}
            ),
        ]  # fmt: skip
        for write in writes:
            answer = await write
            assert answer.status_code in (200, 204), answer.text
        await _create(http, bearer, created)

        own_redis.start()
        returned = time.monotonic()
        async with aioredis.Redis.from_url(own_redis.url) as edge:

            async def healed() -> bool:
                raw = await edge.mget(
                    keys.link(DEFAULT_DOMAIN, changed), keys.link(DEFAULT_DOMAIN, moved),
                    keys.link(DEFAULT_DOMAIN, moved + "2"), keys.link(DEFAULT_DOMAIN, deleted),
                    keys.link(DEFAULT_DOMAIN, created), keys.group(group_id),
                    keys.workspace(tenant.id),
                )  # fmt: skip
                now_changed, old_moved, new_moved, now_deleted, now_created, group, site = raw
                return (
                    now_changed is not None
                    and decode_link(as_bytes(now_changed)).url == "https://example.com/changed"
                    and old_moved is None
                    and new_moved is not None
                    and now_deleted is None
                    and now_created is not None
                    and group is not None
                    and decode_group(as_bytes(group)).max_clicks == 7
                    and site is not None
                    and decode_workspace(as_bytes(site)).brand_name == "Healed"
                )

            await wait_for(healed, 5, "every change made while Redis was away, at the edge")
        assert time.monotonic() - returned < 5
    left = await pool.fetchval(
        "SELECT count(*) FROM edge_outbox WHERE link_id = ANY($1) OR group_id = $2",
        list(ids.values()),
        group_id,
    )
    assert left == 0
