"""Both consumers stopped while visits pile up in the click stream, then restarted one
after the other: the stream is trimmed only below what both groups acknowledged, so
every click is counted once and every webhook delivered, and each consumer exports its
own group's lag, zero again once it caught up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz import keys

from tests.conftest import Workspace
from tests.faults.conftest import FaultServers, ServiceFactory
from tests.faults.kit import events_by_request, in_thread, metric
from tests.faults.pipeline import pending, totals, visited_pipeline
from tests.support.tcpproxy import TcpProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

VISITS = 3000


def _metrics(url: str) -> str:
    return httpx.get(url + "/metrics", timeout=10).text


async def _still_in_stream(redis: aioredis.Redis, request_ids: set[str]) -> int:
    return len(await events_by_request(redis, request_ids))


async def test_a_stopped_group_holds_the_stream_until_it_caught_up(
    fault_servers: FaultServers,
    services: ServiceFactory,
    proxies: Callable[[int], TcpProxy],
    fault_pool: asyncpg.Pool[Any],
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    pipe = await visited_pipeline(
        services, fault_servers, tenant, fault_redis, proxies, visits=VISITS, receiver_delay=0
    )
    try:
        expected = pipe.expected_totals()
        wanted = pipe.webhook_ids()
        request_ids = {e.request_id for e in pipe.events if e.request_id}
        # The aggregator alone catches up; it trims, but not what the webhooks still need.
        await in_thread(pipe.aggregator.start)

        async def counted() -> bool:
            return await totals(fault_pool, pipe.link_ids) == expected

        await wait_for(counted, 60, f"totals reach {expected}", 0.2)

        async def aggregator_lag_zero() -> bool:
            text = await asyncio.to_thread(_metrics, pipe.aggregator.url)
            return metric(text, "kurz_stream_lag", group=keys.AGGREGATOR_GROUP) == 0 and (
                metric(text, "kurz_stream_entries", stream=keys.CLICK_STREAM) > 0
            )

        await wait_for(aggregator_lag_zero, 20, "the aggregator exports its caught-up lag", 0.2)
        text = await asyncio.to_thread(_metrics, pipe.aggregator.url)
        assert 'group="webhooks"' not in text  # each consumer exports its own group
        assert await _still_in_stream(fault_redis, request_ids) == len(request_ids)

        # The webhook worker comes back: it finds every event it has not handled.
        await in_thread(pipe.worker.start)
        await wait_for(lambda: set(pipe.receiver.ids) >= wanted, 60, "every webhook arrives", 0.2)

        async def trimmed() -> bool:
            return await _still_in_stream(fault_redis, request_ids) == 0

        await wait_for(trimmed, 30, "the stream trimmed once both groups acknowledged", 0.2)

        async def worker_lag_zero() -> bool:
            text = await asyncio.to_thread(_metrics, pipe.worker.url)
            return (
                metric(text, "kurz_stream_lag", group=keys.WEBHOOK_GROUP) == 0
                and metric(text, "kurz_stream_pending", group=keys.WEBHOOK_GROUP) == 0
            )

        await wait_for(worker_lag_zero, 20, "the webhook worker exports its caught-up lag", 0.2)
    finally:
        await pipe.receiver.stop()
    assert await totals(fault_pool, pipe.link_ids) == expected
    stored = await fault_pool.fetchval(
        "SELECT count(*) FROM clicks WHERE link_id = ANY($1)", pipe.link_ids
    )
    assert stored == VISITS
    assert set(pipe.receiver.ids) == wanted
    assert await pending(fault_redis, keys.WEBHOOK_GROUP) == 0
    trimmed_total = metric(_metrics(pipe.aggregator.url), "kurz_stream_trimmed_total")
    trimmed_total += metric(_metrics(pipe.worker.url), "kurz_stream_trimmed_total")
    assert trimmed_total > 0
