"""Redis behind Sentinel, failed over under load: every service reaches the master
through `REDIS_URL=redis+sentinel://…/kurz/0` and follows it to the new one.

A master, a replica and a Sentinel, all real. Management, redirector and aggregator run
against the Sentinel. Visits are answered and counted; the master is failed over (the
old one is demoted to a replica, so a connection still open to it answers READONLY);
more visits follow. The aggregator counts every visit of both halves, each once, and the
redirector dropped nothing.

Redis replicates asynchronously: a write acknowledged by the old master in the instant
before the replica was promoted is not on the new master. The first half therefore ends
with the replica caught up, as a planned failover does; what is tested is that no
service keeps writing to the demoted node or loses what it holds while it moves."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Workspace
from tests.faults.conftest import FaultServers, ServiceFactory, add_redirector, api, create_links
from tests.faults.kit import Load, in_thread, metric
from tests.support.redis_sentinel import SentinelSet
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

HALF = 400


@pytest.fixture
def sentinel_set(tmp_path: Path) -> Iterator[SentinelSet]:
    started = SentinelSet(tmp_path / "sentinel").start()
    yield started
    started.stop()


async def test_every_service_follows_a_failover_and_loses_nothing(
    fault_servers: FaultServers, services: ServiceFactory, sentinel_set: SentinelSet,
    tenant: Workspace, fault_pool: asyncpg.Pool[Any],
) -> None:  # fmt: skip
    stack = services(REDIS_URL=sentinel_set.url())
    management = stack.add("management")
    redirector = add_redirector(stack, fault_servers)
    aggregator = stack.add("aggregator")
    await asyncio.gather(*(in_thread(s.start) for s in (management, redirector, aggregator)))
    async with api(management, tenant) as client:
        links = await create_links(client, 3)
    urls = [link["shortUrl"] for link in links]

    before = await Load(urls, HALF, concurrency=16).run()

    await wait_for(lambda: in_thread(sentinel_set.in_sync), 20, "the replica caught up")
    new_master = await in_thread(sentinel_set.fail_over)
    assert new_master == sentinel_set.replica.port
    after = await Load(urls, HALF, concurrency=16).run()

    assert before.tally() == after.tally() == {302: HALF}
    # Every visit counted once, per link: the redirector wrote each event to the master
    # of its moment, and the aggregator read them from both (it trims what it has read).
    visits = Counter(url for load in (before, after) for rid, url in _urls_of(load, urls).items())
    wanted = {int(link["id"]): visits[link["shortUrl"]] for link in links}

    async def counted() -> dict[int, int]:
        rows = await fault_pool.fetch(
            "SELECT link_id, count(*) AS n FROM clicks WHERE link_id = ANY($1::bigint[]) "
            "AND counted GROUP BY link_id",
            list(wanted),
        )
        return {r["link_id"]: r["n"] for r in rows}

    async def all_counted() -> bool:
        return await counted() == wanted

    with contextlib.suppress(AssertionError):
        await wait_for(all_counted, 60, "the aggregator counted every visit once")
    assert await counted() == wanted
    metrics = httpx.get(redirector.url + "/metrics").text
    assert metric(metrics, "kurz_click_events_total", state="dropped") == 0
    assert metric(metrics, "kurz_click_event_buffer") == 0


def _urls_of(load: Load, urls: list[str]) -> dict[str, str]:
    """Each request of a load and the short URL it visited (Load spreads its requests
    over `urls` in turn: request n visits urls[n % len(urls)])."""
    return {rid: urls[int(rid.rsplit("-", 1)[1]) % len(urls)] for rid in load.statuses}
