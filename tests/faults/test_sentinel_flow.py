"""kurz on Redis behind three Sentinels (quorum two), as production runs it: every
service reaches the master through `REDIS_URL=redis+sentinel://s1,s2,s3/kurz/0`.

The flow runs whole (a link made, redirected, counted, a group webhook delivered, a
click limit exact under concurrency); then the master is killed outright under a steady
load: the Sentinels agree, promote the replica, and every service follows. Redirects go
on, every visit answered is counted once and every group webhook is delivered. With
`KURZ_EDGE_WAIT_REPLICAS=1` a batch is answered only once the replica holds it, so the
promoted replica has every event a visitor was answered for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Workspace
from tests.faults.conftest import FaultServers, ServiceFactory, api, create_links, start_pipeline
from tests.faults.kit import (
    BROWSER,
    Load,
    Receiver,
    assert_each_visit_counted_once_and_delivered,
    counted,
    delivered,
    group_with_webhook,
    in_thread,
)
from tests.support.redis_sentinel import SentinelSet
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

LIMIT = 25


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    started = SentinelSet(tmp_path / "sentinels", sentinels=3).start()
    yield started
    started.stop()


async def test_flow_behind_three_sentinels(
    fault_servers: FaultServers, services: ServiceFactory, sentinels: SentinelSet,
    tenant: Workspace, fault_pool: asyncpg.Pool[Any],
) -> None:  # fmt: skip
    receiver = await Receiver().start()
    stack = services(REDIS_URL=sentinels.url())
    management, _ = await start_pipeline(stack, fault_servers)
    group = await group_with_webhook(management.url, tenant.key, receiver)
    async with api(management, tenant) as client:
        (grouped,) = await create_links(client, 1, groupId=group)
        (limited,) = await create_links(client, 1, maxClicks=LIMIT)

    async with httpx.AsyncClient(headers={"User-Agent": BROWSER}) as visitor:
        answer = await visitor.get(grouped["shortUrl"])
        assert answer.status_code == 302 and answer.headers["location"] == grouped["url"]
    await wait_for(lambda: bool(receiver.ids), 60, "the group webhook arrives", 0.2)

    # Exact under concurrency: LIMIT of 100 racing visits go through, the rest are refused.
    load = await Load([limited["shortUrl"]], 100, concurrency=100, timeout=60).run()
    through = {r for r in load.ids(302) if load.locations[r] == limited["url"]}
    assert 0 not in load.tally(), load.tally()
    assert len(through) == LIMIT, load.tally()

    wanted = {int(grouped["id"]): 1, int(limited["id"]): LIMIT}

    async def all_counted() -> bool:
        return await counted(fault_pool, list(wanted)) == wanted

    with contextlib.suppress(AssertionError):
        await wait_for(all_counted, 60, "the aggregator counted every visit once")
    assert await counted(fault_pool, list(wanted)) == wanted
    assert len(receiver.ids) == 1 and receiver.duplicates == 0
    assert await delivered(fault_pool, tenant.id) == 1
    await receiver.stop()


async def test_the_master_killed_under_load_and_every_answered_visit_counts_once(
    fault_servers: FaultServers, services: ServiceFactory, sentinels: SentinelSet,
    tenant: Workspace, fault_pool: asyncpg.Pool[Any],
) -> None:  # fmt: skip
    receiver = await Receiver().start()
    stack = services(REDIS_URL=sentinels.url(), KURZ_EDGE_WAIT_REPLICAS="1",
                     KURZ_EDGE_WAIT_MS="2000", KURZ_WEBHOOK_CLAIM_IDLE_MS="3000")  # fmt: skip
    management, redirector = await start_pipeline(stack, fault_servers)
    group = await group_with_webhook(management.url, tenant.key, receiver)
    async with api(management, tenant) as client:
        links = await create_links(client, 2)
        links += await create_links(client, 1, groupId=group)  # a webhook for every click
    urls = [link["shortUrl"] for link in links]

    load = Load(urls, 1200, concurrency=8, timeout=30)
    running = asyncio.create_task(load.run())
    await wait_for(lambda: load.done >= 300, 60, "visits under way", 0.05)
    done_at_kill = load.done
    killed = await in_thread(sentinels.kill_master)
    await wait_for(lambda: in_thread(lambda: sentinels.master_port() != killed), 60,
                   "the Sentinels promoted the replica", 0.2)  # fmt: skip
    await running
    assert done_at_kill < load.total  # the kill came while visits were under way
    assert sentinels.master_port() == sentinels.replica.port

    assert load.tally() == {302: 1200}
    await assert_each_visit_counted_once_and_delivered(
        fault_pool, load, links, redirector.url, tenant.id, receiver
    )
    await receiver.stop()
