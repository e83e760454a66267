"""The redirector SIGKILLed under load while Redis is away, then Redis and the redirector
back: every visit it answered reaches the stream from its write-ahead spool, and the
aggregator counts each exactly once."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz import keys
from redis.exceptions import ResponseError

from tests.conftest import Workspace
from tests.faults.conftest import FaultServers, ServiceFactory, add_redirector, api, create_links
from tests.faults.kit import Load, events_by_request, in_thread, metric
from tests.support.tcpproxy import TcpProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

REQUESTS = 2000


async def test_sigkill_while_redis_is_away_loses_no_answered_click(
    fault_servers: FaultServers,
    services: ServiceFactory,
    proxies: Callable[[int], TcpProxy],
    fault_pool: asyncpg.Pool[Any],
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    proxy = proxies(fault_servers.redis.port)
    stack = services(KURZ_AGGREGATOR_BLOCK_MS="100")
    management = stack.add("management")
    redirector = add_redirector(stack, fault_servers, REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0")
    aggregator = stack.add("aggregator")
    await asyncio.gather(in_thread(management.start), in_thread(redirector.start))
    async with api(management, tenant) as client:
        links = await create_links(client, 3)
    link_ids = [int(link["id"]) for link in links]
    # The webhook group stays where the visits begin: it holds them in the stream.
    for group in (keys.AGGREGATOR_GROUP, keys.WEBHOOK_GROUP):
        try:
            await fault_redis.xgroup_create(keys.CLICK_STREAM, group, id="$", mkstream=True)
        except ResponseError:
            await fault_redis.xgroup_setid(keys.CLICK_STREAM, group, "$")
    await in_thread(aggregator.start)
    load = Load([link["shortUrl"] for link in links], REQUESTS, concurrency=16)

    async def away_then_kill() -> None:
        await wait_for(lambda: load.done >= REQUESTS // 5, 60, "the load got going")
        proxy.cut()
        await wait_for(lambda: load.done >= REQUESTS // 2, 60, "visits answered in the outage")
        text = await asyncio.to_thread(lambda: httpx.get(redirector.url + "/metrics").text)
        assert metric(text, "kurz_click_events_total", state="buffered") > 0
        assert await in_thread(redirector.stop, signal.SIGKILL) == -signal.SIGKILL

    await asyncio.gather(load.run(), away_then_kill())
    answered = load.ids(302)
    assert len(answered) >= REQUESTS // 2 and set(load.tally()) <= {302, 0}

    proxy.restore()
    await in_thread(redirector.start)  # the same spool directory: it replays at start

    async def all_in_stream() -> bool:
        return set(await events_by_request(fault_redis, answered)) == answered

    await wait_for(all_in_stream, 60, "every answered visit's event reached the stream")
    found = await events_by_request(fault_redis, answered)
    answered_events = {e.id for events in found.values() for e in events}
    assert len(answered_events) == len(answered)

    async def redis_value() -> list[str]:
        rows = await fault_pool.fetch(
            "SELECT event_id FROM clicks WHERE link_id = ANY($1)", link_ids
        )
        return [r["event_id"] for r in rows]

    async def all_counted() -> bool:
        return answered_events <= set(await redis_value())

    await wait_for(all_counted, 60, "every answered click stored by the aggregator")
    ids = await redis_value()
    assert len(ids) == len(set(ids))  # replayed or not, each event once
    counted = await fault_pool.fetchval(
        "SELECT sum(clicks)::int FROM link_daily WHERE link_id = ANY($1)", link_ids
    )
    assert counted == len(ids)
    text = await asyncio.to_thread(lambda: httpx.get(redirector.url + "/metrics").text)
    assert metric(text, "kurz_click_events_total", state="dropped") == 0
    assert metric(text, "kurz_click_event_buffer") == 0
