"""Graceful shutdown (SIGTERM, as Kubernetes stops a pod): requests in flight finish,
buffered click events are flushed, consumers finish their batch, every process exits 0
within its grace period, and after a restart nothing is lost or counted twice."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz import keys

from tests.conftest import Workspace
from tests.faults.conftest import (
    FaultServers,
    ServiceFactory,
    add_redirector,
    api,
    create_links,
)
from tests.faults.kit import Load, events_by_request, in_thread
from tests.faults.pipeline import (
    CONSUMER_ENV,
    pending,
    restart_and_catch_up,
    totals,
    visited_pipeline,
)
from tests.support.tcpproxy import TcpProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

REQUESTS = 4000
GRACE = float(CONSUMER_ENV["KURZ_SHUTDOWN_GRACE"])


async def test_sigterm_redirector_under_load_flushes_every_event_and_exits_0(
    fault_servers: FaultServers,
    services: ServiceFactory,
    proxies: Callable[[int], TcpProxy],
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    """Redis is cut shortly before the SIGTERM and comes back within the grace period:
    the events buffered meanwhile still reach the stream on the way out."""
    proxy = proxies(fault_servers.redis.port)
    stack = services(KURZ_SHUTDOWN_GRACE=str(GRACE))
    management = stack.add("management")
    redirector = add_redirector(stack, fault_servers, REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0")
    await asyncio.gather(in_thread(management.start), in_thread(redirector.start))
    async with api(management, tenant) as client:
        links = await create_links(client, 3)
    load = Load([link["shortUrl"] for link in links], REQUESTS, concurrency=32)
    stopped: list[int | None] = []

    async def stop_under_load() -> None:
        await wait_for(lambda: load.done >= REQUESTS // 4, 60, "the load got going")
        proxy.cut()
        await wait_for(lambda: load.done >= REQUESTS // 2, 60, "visits answered while cut")
        started = time.monotonic()
        exiting = asyncio.create_task(in_thread(redirector.stop, signal.SIGTERM, GRACE + 5))
        await asyncio.sleep(0.5)
        proxy.restore()
        stopped.append(await exiting)
        assert time.monotonic() - started < GRACE

    await asyncio.gather(load.run(), stop_under_load())

    assert stopped == [0], redirector.log.read_text()[-2000:]
    tally = load.tally()
    # Answered visits are whole redirects; the rest found the server gone (no answer).
    assert set(tally) <= {302, 0} and tally[302] >= REQUESTS // 2, tally
    answered = load.ids(302)
    found = await events_by_request(fault_redis, answered)
    assert set(found) == answered, f"{len(answered - set(found))} answered visits have no event"
    assert "click events lost" not in redirector.log.read_text()


async def test_sigterm_consumers_mid_batch_exit_0_and_restart_loses_nothing(
    fault_servers: FaultServers,
    services: ServiceFactory,
    proxies: Callable[[int], TcpProxy],
    fault_pool: asyncpg.Pool[Any],
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    pipe = await visited_pipeline(
        services, fault_servers, tenant, fault_redis, proxies, visits=2000, receiver_delay=0.05
    )
    try:
        await asyncio.gather(in_thread(pipe.aggregator.start), in_thread(pipe.worker.start))

        async def mid_batch() -> bool:
            done = sum(c for c, _ in (await totals(fault_pool, pipe.link_ids)).values())
            return done > 0 and len(pipe.receiver.ids) >= 20

        await wait_for(mid_batch, 60, "both consumers are at work", 0.005)
        started = time.monotonic()
        codes = await asyncio.gather(
            in_thread(pipe.aggregator.stop, signal.SIGTERM, GRACE + 5),
            in_thread(pipe.worker.stop, signal.SIGTERM, GRACE + 5),
        )
        assert list(codes) == [0, 0], (pipe.aggregator.log.read_text()[-1500:],
                                 pipe.worker.log.read_text()[-1500:])  # fmt: skip
        assert time.monotonic() - started < GRACE
        # The aggregator finished its batch and acknowledged it: nothing left held.
        assert await pending(fault_redis, keys.AGGREGATOR_GROUP) == 0
        expected = pipe.expected_totals()
        assert await totals(fault_pool, pipe.link_ids) != expected  # stopped mid-stream
        wanted = pipe.webhook_ids()
        assert len(pipe.receiver.ids) < len(wanted)

        await restart_and_catch_up(pipe, fault_pool, tenant.id, expected, wanted)
    finally:
        await pipe.receiver.stop()
    stored = await fault_pool.fetchval(
        "SELECT count(*) FROM clicks WHERE link_id = ANY($1)", pipe.link_ids
    )
    assert stored == len(pipe.events)
    # A drained worker recorded what it had sent: nothing is sent twice.
    assert set(pipe.receiver.ids) == wanted and pipe.receiver.duplicates == 0
