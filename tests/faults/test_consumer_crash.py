"""The aggregator and the webhook worker die by SIGKILL in the middle of their work and
come back as new processes: every click is counted exactly once, every webhook arrives.

Webhooks are at-least-once: a delivery the dead worker had sent, or had seen
succeed without recording it yet, is sent again under the same `webhook-id`. So the
receiver may see an id twice, but only for those: at most the deliveries in flight at
the kill plus the successes of one unflushed recording interval, never more than twice."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz import keys

from tests.conftest import Workspace
from tests.faults.conftest import FaultServers, ServiceFactory
from tests.faults.kit import in_thread
from tests.faults.pipeline import (
    PER_ENDPOINT,
    Pipeline,
    pending,
    restart_and_catch_up,
    totals,
    visited_pipeline,
)
from tests.support.tcpproxy import TcpProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

VISITS = 2000
# In flight at the kill (PER_ENDPOINT) plus what one flush interval (50 ms) can finish at
# the receiver's pace, with room for a slow machine.
MAX_REPEATS = PER_ENDPOINT + 20


async def _kill_aggregator_mid_batch(
    pipe: Pipeline, pool: asyncpg.Pool[Any], redis: aioredis.Redis
) -> int:
    """SIGKILL once some batches are committed and one is held; return what it held."""

    async def mid_batch() -> bool:
        done = sum(c for c, _ in (await totals(pool, pipe.link_ids)).values())
        return done > 0 and await pending(redis, keys.AGGREGATOR_GROUP) > 0

    await wait_for(mid_batch, 60, "the aggregator committed a batch and holds another", 0.005)
    assert await in_thread(pipe.aggregator.stop, signal.SIGKILL) == -signal.SIGKILL
    return await pending(redis, keys.AGGREGATOR_GROUP)


async def _kill_worker_mid_delivery(pipe: Pipeline) -> int:
    await wait_for(lambda: len(pipe.receiver.ids) >= 40, 60, "webhooks arriving", 0.005)
    assert await in_thread(pipe.worker.stop, signal.SIGKILL) == -signal.SIGKILL
    return len(pipe.receiver.ids)


async def test_sigkill_mid_batch_then_restart_counts_and_delivers_everything(
    fault_servers: FaultServers,
    services: ServiceFactory,
    proxies: Callable[[int], TcpProxy],
    fault_pool: asyncpg.Pool[Any],
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    pipe = await visited_pipeline(
        services, fault_servers, tenant, fault_redis, proxies, visits=VISITS, receiver_delay=0.02
    )
    try:
        await asyncio.gather(in_thread(pipe.aggregator.start), in_thread(pipe.worker.start))
        held, delivered = await asyncio.gather(
            _kill_aggregator_mid_batch(pipe, fault_pool, fault_redis),
            _kill_worker_mid_delivery(pipe),
        )
        expected = pipe.expected_totals()
        assert held > 0 and await totals(fault_pool, pipe.link_ids) != expected
        wanted = pipe.webhook_ids()
        assert delivered < len(wanted)

        # New processes, new consumer names: the dead ones' entries are reclaimed.
        await restart_and_catch_up(pipe, fault_pool, tenant.id, expected, wanted)
    finally:
        await pipe.receiver.stop()
    # Each click stored once, whatever was replayed.
    stored = await fault_pool.fetchval(
        "SELECT count(*) FROM clicks WHERE link_id = ANY($1)", pipe.link_ids
    )
    assert stored == VISITS
    assert await pending(fault_redis, keys.AGGREGATOR_GROUP) == 0
    assert set(pipe.receiver.ids) == wanted
    assert pipe.receiver.duplicates <= MAX_REPEATS, pipe.receiver.duplicates
    assert max(pipe.receiver.ids.values()) <= 2
