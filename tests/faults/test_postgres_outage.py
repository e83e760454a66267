"""Postgres away: the edge keeps serving the links it has, every API family answers 503
in its own error format, and nothing is half-written when the database returns.

The first test stops the fault suite's Postgres for real (a fast shutdown); the second
puts a TCP proxy between the management service and Postgres, slows it down so a bulk
create is caught inside its transaction, and cuts it there."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
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
from tests.faults.kit import BROWSER, in_thread
from tests.support.tcpproxy import TcpProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


async def _family_answers(management: str, tenant: Workspace, slug: str) -> None:
    """Each family's create and read while Postgres is down: 503, in its own format."""
    async with httpx.AsyncClient(base_url=management, timeout=30) as client:
        native = await client.post(
            "/api/v1/links", headers=tenant.bearer,
            json={"url": "https://example.com/during", "customSlug": slug},
        )  # fmt: skip
        assert native.status_code == 503, native.text
        assert set(native.json()) == {"error"} and native.json()["error"]
        listed = await client.get("/api/v1/links", headers=tenant.bearer)
        assert listed.status_code == 503 and listed.json()["error"]

        vivoldi = await client.post(
            "/api/link/v2/create", headers={"Authorization": f"APIKey {tenant.key}"},
            json={"url": "https://example.com/during", "brandLinkId": slug + "v"},
        )  # fmt: skip
        assert vivoldi.status_code == 503, vivoldi.text
        envelope = vivoldi.json()
        assert envelope["code"] != 0 and envelope["message"] and envelope["result"] is None

        linkly = await client.post(
            "/api/v1/link", headers={"X-API-KEY": tenant.key},
            json={"url": "https://example.com/during", "slug": slug + "l",
                  "workspace_id": tenant.id},
        )  # fmt: skip
        assert linkly.status_code == 503, linkly.text
        assert isinstance(linkly.json()["error"], str) and linkly.json()["error"]

        assert (await client.get("/readyz")).status_code == 503


async def test_postgres_stopped_edge_serves_and_apis_answer_503(
    fault_servers: FaultServers,
    services: ServiceFactory,
    fault_pool: asyncpg.Pool[Any],
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    stack = services()
    management = stack.add("management")
    # A short local cache life: the visits below go to Redis, not only to process memory.
    redirector = add_redirector(stack, fault_servers, KURZ_EDGE_CACHE_TTL="0.2")
    await asyncio.gather(in_thread(management.start), in_thread(redirector.start))
    async with api(management, tenant) as client:
        links = await create_links(client, 3)
    slug = "outage-" + uuid.uuid4().hex[:8]

    await in_thread(fault_servers.stop_postgres)
    try:
        async with httpx.AsyncClient(timeout=10, headers={"User-Agent": BROWSER}) as visitor:
            for _ in range(3):
                await asyncio.sleep(0.25)
                for link in links:
                    answer = await visitor.get(link["shortUrl"])
                    assert answer.status_code == 302, answer.text
                    assert answer.headers["location"] == link["url"]
            # An address neither Redis nor Postgres can vouch for: "try again", not 404.
            unknown = await visitor.get(f"http://{fault_servers.edge_host}/{slug}")
            assert unknown.status_code == 503 and unknown.headers["retry-after"]
        await _family_answers(management.url, tenant, slug)
    finally:
        await in_thread(fault_servers.start_postgres)

    async with api(management, tenant) as client:

        async def created() -> bool:
            answer = await client.post("/api/v1/links", json={"url": "https://example.com/after"})
            assert answer.status_code in (201, 503), answer.text
            return answer.status_code == 201

        await wait_for(created, 20, "the API writes again once Postgres is back")
    # Nothing the refused requests carried was written, in Postgres or at the edge.
    stored = await fault_pool.fetch(
        "SELECT slug FROM links WHERE workspace_id = $1 ORDER BY id", tenant.id
    )
    assert len(stored) == len(links) + 1
    assert not [r["slug"] for r in stored if r["slug"].startswith(slug)]
    assert not await fault_redis.keys(f"*{slug}*")


async def test_bulk_create_cut_mid_transaction_writes_nothing(
    fault_servers: FaultServers,
    services: ServiceFactory,
    proxies: Callable[[int], TcpProxy],
    fault_pool: asyncpg.Pool[Any],
    fault_redis: aioredis.Redis,
    tenant: Workspace,
) -> None:
    proxy = proxies(fault_servers.postgres.port)
    stack = services(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{proxy.port}/kurz", DATABASE_POOL_MAX="2"
    )
    management = stack.add("management")
    await in_thread(management.start)
    prefix = "bulk-" + uuid.uuid4().hex[:6]
    body = {
        "links": [
            {"url": f"https://example.com/bulk/{i}", "customSlug": f"{prefix}-{i}"}
            for i in range(1000)
        ]
    }

    async def in_transaction() -> bool:
        """The management's session holds an open transaction that has inserted links."""
        count = await fault_pool.fetchval(
            """SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()
               AND xact_start IS NOT NULL AND query ILIKE '%INSERT INTO links%'"""
        )
        return bool(count)

    async with api(management, tenant) as client:
        proxy.latency = 0.05  # every chunk each way: the transaction takes seconds
        request = asyncio.create_task(client.post("/api/v1/links/bulk", json=body))
        await wait_for(in_transaction, 30, "the bulk insert is inside its transaction", 0.01)
        proxy.cut()
        answer = await request
        assert answer.status_code == 503, answer.text
        assert set(answer.json()) == {"error"}
        proxy.latency = 0.0
        proxy.restore()

        written = await fault_pool.fetchval(
            "SELECT count(*) FROM links WHERE workspace_id = $1", tenant.id
        )
        assert written == 0
        assert not await fault_redis.exists(*(keys.link(fault_servers.edge_host, f"{prefix}-{i}")
                                              for i in range(1000)))  # fmt: skip

        async def retried() -> httpx.Response | None:
            again = await client.post("/api/v1/links/bulk", json=body)
            return again if again.status_code != 503 else None

        again = await wait_for(retried, 20, "the same bulk goes through once Postgres is back")
        assert again.status_code == 201, again.text
        assert len(again.json()["links"]) == 1000
    written = await fault_pool.fetchval(
        "SELECT count(*) FROM links WHERE workspace_id = $1", tenant.id
    )
    assert written == 1000
