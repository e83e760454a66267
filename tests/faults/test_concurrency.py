"""Races through the real processes: a click limit under 2,000 concurrent visits, and 50
concurrent updates of one link, which must leave one consistent record everywhere."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.edge_records import SELECT_LINK, edge_link_from_row
from kurz.models import decode_link

from tests.conftest import Workspace
from tests.faults.conftest import (
    FaultServers,
    ServiceFactory,
    add_redirector,
    api,
    create_links,
)
from tests.faults.kit import Load, events_by_request, in_thread
from tests.support.streams import as_bytes, redis_value
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

VISITS = 2000
LIMIT = 100
UPDATES = 50


async def test_click_limit_is_exact_under_2000_concurrent_visits(
    fault_servers: FaultServers,
    services: ServiceFactory,
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    stack = services()
    management = stack.add("management")
    redirector = add_redirector(stack, fault_servers)
    await asyncio.gather(in_thread(management.start), in_thread(redirector.start))
    async with api(management, tenant) as client:
        (link,) = await create_links(client, 1, maxClicks=LIMIT)

    # Every visit in flight at once (one connection each), from the client's side.
    load = await Load([link["shortUrl"]], VISITS, concurrency=VISITS, timeout=60).run()

    tally = load.tally()
    assert 0 not in tally, tally
    through = {rid for rid in load.ids(302) if load.locations[rid] == link["url"]}
    assert len(through) == LIMIT, tally
    assert int(await redis_value(fault_redis, keys.click_counter(link["id"]))) == LIMIT
    # The stream agrees: exactly LIMIT visits went through, the rest were refused.
    events = await events_by_request(fault_redis, set(load.statuses))
    outcomes = [e.outcome for found in events.values() for e in found]
    assert outcomes.count("redirect") == LIMIT
    assert outcomes.count("limited") == VISITS - LIMIT


async def test_fifty_concurrent_updates_leave_one_consistent_record(
    fault_servers: FaultServers,
    services: ServiceFactory,
    fault_pool: asyncpg.Pool[Any],
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    stack = services()
    management = stack.add("management")
    redirector = add_redirector(stack, fault_servers)
    await asyncio.gather(in_thread(management.start), in_thread(redirector.start))
    async with api(management, tenant) as client:
        (link,) = await create_links(client, 1)
        async with httpx.AsyncClient() as visitor:  # the edge holds the link in memory
            assert (await visitor.get(link["shortUrl"])).status_code == 302

        async def update(i: int) -> httpx.Response:
            return await client.patch(
                f"/api/v1/links/{link['id']}",
                json={"url": f"https://example.com/v{i}", "title": f"version {i}",
                      "utmSource": f"source{i}"},
            )  # fmt: skip

        answers = await asyncio.gather(*(update(i) for i in range(UPDATES)))
    assert [a.status_code for a in answers] == [200] * UPDATES, answers[0].text

    row = await fault_pool.fetchrow(SELECT_LINK, link["domain"], link["slug"])
    # One update won whole: no field of one mixed with another's.
    version = row["url"].rsplit("/v", 1)[1]
    assert row["title"] == f"version {version}" and row["utm_source"] == f"source{version}"
    # The edge record decodes to exactly what Postgres holds.
    raw = await fault_redis.get(keys.link(link["domain"], link["slug"]))
    assert decode_link(as_bytes(raw)) == edge_link_from_row(row)

    async def edge_follows() -> bool:
        async with httpx.AsyncClient() as visitor:
            answer = await visitor.get(link["shortUrl"])
        expected = f"https://example.com/v{version}?utm_source=source{version}"
        return bool(answer.headers.get("location") == expected)

    await wait_for(edge_follows, 5, "the redirector answers the final version")
