"""The whole click pipeline as real processes, for the crash and shutdown tests: links made
through the management API, visits through the redirector, then the aggregator and the
webhook worker started on a backlog so a signal can catch them mid-batch.

The aggregator reaches Postgres through a TCP proxy that delays every chunk, so each of
its batches takes a while and a signal lands inside one rather than after the last."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz import keys
from kurz.events import ClickEvent
from redis.exceptions import ResponseError

from tests.conftest import Workspace
from tests.faults.conftest import FaultServers, ServiceFactory, add_redirector, api, create_links
from tests.faults.kit import Load, Receiver, events_by_request, in_thread
from tests.support.services import Service
from tests.support.tcpproxy import TcpProxy
from tests.support.waiting import wait_for

PER_ENDPOINT = 4  # deliveries in flight to one endpoint

CONSUMER_ENV = {
    "KURZ_AGGREGATOR_BATCH": "100",
    "KURZ_AGGREGATOR_BLOCK_MS": "100",
    "KURZ_AGGREGATOR_CLAIM_IDLE_MS": "1000",
    "KURZ_WEBHOOK_CLAIM_IDLE_MS": "1000",
    "KURZ_WEBHOOK_TIMEOUT": "1",
    "KURZ_WEBHOOK_PER_ENDPOINT": str(PER_ENDPOINT),
    "KURZ_SHUTDOWN_GRACE": "8",
}


DB_LATENCY = 0.01  # seconds per chunk each way between the aggregator and Postgres


@dataclass
class Pipeline:
    aggregator: Service
    db_proxy: TcpProxy
    worker: Service
    receiver: Receiver
    links: list[dict[str, Any]]  # the last one has a webhook to `receiver`
    events: list[ClickEvent]  # what the visits put in the stream

    @property
    def link_ids(self) -> list[int]:
        return [int(link["id"]) for link in self.links]

    def webhook_ids(self) -> set[str]:
        """The `webhook-id` of every delivery the visits must cause."""
        hooked = int(self.links[-1]["id"])
        return {f"evt_{e.id}" for e in self.events if e.link_id == hooked}

    def expected_totals(self) -> dict[int, tuple[int, int]]:
        """Per link: counted clicks, and each UTC day's distinct visitors summed over
        the days (what `link_daily` holds for a workspace in UTC)."""
        clicks: Counter[int] = Counter()
        seen: dict[int, set[tuple[int, str]]] = {}
        for e in self.events:
            if e.counted:
                clicks[e.link_id] += 1
                seen.setdefault(e.link_id, set()).add((int(e.at // 86400), e.visitor))
        return {link: (clicks[link], len(seen[link])) for link in clicks}


async def _start_groups_from_now(redis: aioredis.Redis) -> None:
    """Earlier tests' entries are not this test's business: both consumer groups start
    at the stream's end (entries pending on a dead consumer stay pending)."""
    for group in (keys.AGGREGATOR_GROUP, keys.WEBHOOK_GROUP):
        try:
            await redis.xgroup_create(keys.CLICK_STREAM, group, id="$", mkstream=True)
        except ResponseError:
            await redis.xgroup_setid(keys.CLICK_STREAM, group, "$")


async def visited_pipeline(
    services: ServiceFactory,
    fault_servers: FaultServers,
    tenant: Workspace,
    redis: aioredis.Redis,
    proxies: Callable[[int], TcpProxy],
    *,
    visits: int,
    receiver_delay: float,
) -> Pipeline:
    """Links, `visits` clicks in the stream, consumers not started yet."""
    stack = services(**CONSUMER_ENV)
    management = stack.add("management")
    redirector = add_redirector(stack, fault_servers)
    await asyncio.gather(in_thread(management.start), in_thread(redirector.start))
    receiver = await Receiver(delay=receiver_delay).start()
    async with api(management, tenant) as client:
        links = await create_links(client, 3)
        links += await create_links(client, 1, webhookUrls=[receiver.url])
    await _start_groups_from_now(redis)
    load = await Load([link["shortUrl"] for link in links], visits).run()
    assert load.tally() == {302: visits}, load.tally()
    found = await events_by_request(redis, load.ids(302))
    events = [e for got in found.values() for e in got]
    assert len(events) == visits
    db_proxy = proxies(fault_servers.postgres.port)
    db_proxy.latency = DB_LATENCY
    aggregator = stack.add(
        "aggregator", DATABASE_URL=f"postgresql://postgres@127.0.0.1:{db_proxy.port}/kurz"
    )
    return Pipeline(aggregator, db_proxy, stack.add("webhook-worker"), receiver, links, events)


async def totals(pool: asyncpg.Pool[Any], link_ids: list[int]) -> dict[int, tuple[int, int]]:
    rows = await pool.fetch(
        """SELECT link_id, sum(clicks)::int AS c, sum(visitors)::int AS v FROM link_daily
           WHERE link_id = ANY($1) GROUP BY link_id""",
        link_ids,
    )
    return {r["link_id"]: (r["c"], r["v"]) for r in rows}


async def pending(redis: aioredis.Redis, group: str) -> int:
    summary = await redis.xpending(keys.CLICK_STREAM, group)
    return int(summary["pending"])


async def delivery_states(pool: asyncpg.Pool[Any], workspace_id: int) -> Counter[str]:
    rows = await pool.fetch(
        "SELECT status FROM webhook_deliveries WHERE workspace_id = $1", workspace_id
    )
    return Counter(r["status"] for r in rows)


async def restart_and_catch_up(
    pipe: Pipeline,
    pool: asyncpg.Pool[Any],
    workspace_id: int,
    expected: dict[int, tuple[int, int]],
    wanted: set[str],
) -> None:
    """Both consumers started again, Postgres fast again: wait until every click is
    counted (`expected` totals), every webhook in `wanted` arrived, and every delivery
    is recorded as succeeded."""
    pipe.db_proxy.latency = 0.0
    await asyncio.gather(in_thread(pipe.aggregator.start), in_thread(pipe.worker.start))

    async def counted_exactly() -> bool:
        return await totals(pool, pipe.link_ids) == expected

    await wait_for(counted_exactly, 60, f"totals reach {expected}", 0.2)
    await wait_for(lambda: set(pipe.receiver.ids) >= wanted, 60, "every webhook arrives", 0.2)

    async def all_succeeded() -> bool:
        return await delivery_states(pool, workspace_id) == {"succeeded": len(wanted)}

    await wait_for(all_succeeded, 20, "every delivery recorded as succeeded", 0.2)
