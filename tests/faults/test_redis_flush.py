"""Redis flushed entirely (FLUSHALL): links still resolve through the Postgres fallback,
which refills the edge records; `kurz cache rebuild` restores every record and the
click-limit counters, so a limit is not exceeded; the stream consumers make their
consumer groups again and go on."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.edge_records import (
    GROUP_COLUMNS,
    LINK_COLUMNS,
    edge_group_from_row,
    edge_link_from_row,
)
from kurz.models import decode_group, decode_link

from tests.conftest import Workspace
from tests.faults.conftest import (
    FaultServers,
    ServiceFactory,
    add_redirector,
    api,
    create_links,
)
from tests.faults.kit import BROWSER, Receiver, in_thread
from tests.support.services import Service, service_env
from tests.support.streams import as_bytes, redis_value
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

LIMIT = 10
USED = 6  # clicks of the limited link stored before the flush


def _rebuild(fault_servers: FaultServers) -> str:
    """`kurz cache rebuild`, as an operator runs it."""
    env = service_env(fault_servers.postgres.url, fault_servers.redis.url)
    done = subprocess.run(
        [sys.executable, "-m", "kurz.cli", "cache", "rebuild"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_flushall_then_fallback_and_rebuild_restore_every_record_and_limit(
    fault_servers: FaultServers,
    services: ServiceFactory,
    fault_pool: asyncpg.Pool[Any],
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    stack = services(KURZ_AGGREGATOR_BLOCK_MS="100", KURZ_AGGREGATOR_CLAIM_IDLE_MS="1000")
    management = stack.add("management")
    # A short local cache life, so that lookups after the flush really reach Redis.
    redirector = add_redirector(stack, fault_servers, KURZ_EDGE_CACHE_TTL="0.2")
    aggregator = stack.add("aggregator")
    worker = stack.add("webhook-worker")
    started = (management, redirector, aggregator, worker)
    await asyncio.gather(*(in_thread(s.start) for s in started))
    receiver = await Receiver().start()
    try:
        await _flush_and_rebuild(fault_servers, management, receiver, fault_pool, fault_redis,
                                 tenant)  # fmt: skip
    finally:
        await receiver.stop()


async def _flush_and_rebuild(
    fault_servers: FaultServers,
    management: Service,
    receiver: Receiver,
    fault_pool: asyncpg.Pool[Any],
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    async with api(management, tenant) as client:
        plain = await create_links(client, 3)
        (limited,) = await create_links(client, 1, maxClicks=LIMIT)
        (hooked,) = await create_links(client, 1, webhookUrls=[receiver.url])
    limited_id = int(limited["id"])

    # A browser: bots are neither counted nor take a slot of the limit.
    async with httpx.AsyncClient(timeout=10, headers={"User-Agent": BROWSER}) as visitor:
        for _ in range(USED):
            assert (await visitor.get(limited["shortUrl"])).status_code == 302
        await wait_for(
            lambda: _counted(fault_pool, limited_id, USED),
            20,
            "the first clicks aggregated",
        )

        await fault_redis.flushall()
        await asyncio.sleep(0.3)  # the redirector's own copies expire
        for link in plain:
            answer = await visitor.get(link["shortUrl"])
            assert answer.status_code == 302 and answer.headers["location"] == link["url"]
            # The Postgres fallback refilled the edge record.
            assert await fault_redis.exists(keys.link(link["domain"], link["slug"]))

        assert "rebuilt the edge cache" in await in_thread(_rebuild, fault_servers)
        await _assert_edge_matches_postgres(fault_pool, fault_redis)
        assert int(await redis_value(fault_redis, keys.click_counter(limited["id"]))) == USED

        # However many come at once, only the clicks left under the limit get through.
        answers = await asyncio.gather(
            *(visitor.get(limited["shortUrl"]) for _ in range(LIMIT * 2))
        )
    through = [
        a for a in answers if a.status_code == 302 and a.headers["location"] == limited["url"]
    ]
    assert len(through) == LIMIT - USED
    assert int(await redis_value(fault_redis, keys.click_counter(limited["id"]))) == LIMIT
    # The flush took the consumer groups with it; both consumers made theirs again.
    await wait_for(
        lambda: _counted(fault_pool, limited_id, LIMIT),
        20,
        "clicks after the flush aggregated",
    )
    async with httpx.AsyncClient(headers={"User-Agent": BROWSER}) as visitor:
        assert (await visitor.get(hooked["shortUrl"])).status_code == 302
    await wait_for(lambda: len(receiver.ids) == 1, 20, "a webhook after the flush delivered")


async def _counted(pool: asyncpg.Pool[Any], link_id: int, expected: int) -> bool:
    count = await pool.fetchval(
        "SELECT count(*) FROM clicks WHERE link_id = $1 AND counted", link_id
    )
    return bool(count == expected)


async def _assert_edge_matches_postgres(pool: asyncpg.Pool[Any], redis: aioredis.Redis) -> None:
    """Every live link and every group of Postgres, record for record, in Redis."""
    links = await pool.fetch(f"SELECT {LINK_COLUMNS} FROM links l WHERE l.deleted_at IS NULL")
    assert links
    stored = await redis.mget([keys.link(row["host"], row["slug"]) for row in links])
    for row, raw in zip(links, stored, strict=True):
        assert raw is not None, (row["host"], row["slug"])
        assert decode_link(as_bytes(raw)) == edge_link_from_row(row)
    groups = await pool.fetch(f"SELECT {GROUP_COLUMNS} FROM link_groups g")
    stored = await redis.mget([keys.group(row["id"]) for row in groups]) if groups else []
    for row, raw in zip(groups, stored, strict=True):
        assert raw is not None and decode_group(as_bytes(raw)) == edge_group_from_row(row)
