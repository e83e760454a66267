"""Redis away while the redirector is under load: links keep redirecting, click events
wait in the edge's buffer and reach the stream when Redis is back, none dropped.

Two outages, both real: a TCP proxy between the redirector and Redis drops every
connection and refuses new ones for a while ("cut"); or the Redis process itself is
stopped and started again ("restart"). The restarted Redis keeps an append-only file, as
a production Redis holding the click stream must: without persistence a restart loses
the stream's unconsumed entries, whatever the edge does."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz.dev.servers import Redis, _wait_port, free_port

from tests.conftest import Workspace
from tests.faults.conftest import (
    FaultServers,
    ServiceFactory,
    add_redirector,
    api,
    create_links,
)
from tests.faults.kit import Load, events_by_request, in_thread, metric
from tests.support.tcpproxy import TcpProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

REQUESTS = 3000


class DurableRedis(Redis):
    """A Redis that keeps its data across a restart (append-only file, fsync always)."""

    def start(self) -> DurableRedis:
        self.root.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.root),
             "--logfile", str(self.root / "redis.log")],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_port(self.port, 15)
        return self


@dataclass
class RedisOutage:
    server_url: str  # what the management service (and the checks) use
    edge_url: str  # what the redirector uses
    begin: Callable[[], object]
    end: Callable[[], object]


@pytest.fixture(params=["cut", "restart"])
async def outage(
    request: pytest.FixtureRequest,
    fault_servers: FaultServers,
    proxies: Callable[[int], TcpProxy],
    tmp_path: Path,
) -> AsyncIterator[RedisOutage]:
    if request.param == "cut":
        proxy = proxies(fault_servers.redis.port)
        edge = f"redis://127.0.0.1:{proxy.port}/0"
        yield RedisOutage(fault_servers.redis.url, edge, proxy.cut, proxy.restore)
        return
    durable = DurableRedis(tmp_path / "redis", free_port()).start()
    try:
        yield RedisOutage(durable.url, durable.url, durable.stop, durable.start)
    finally:
        durable.stop()


async def test_redis_outage_under_load_loses_no_click_event(
    fault_servers: FaultServers, services: ServiceFactory, outage: RedisOutage,
    tenant: Workspace,
) -> None:  # fmt: skip
    stack = services(REDIS_URL=outage.server_url)
    management = stack.add("management")
    redirector = add_redirector(stack, fault_servers, REDIS_URL=outage.edge_url)
    await asyncio.gather(in_thread(management.start), in_thread(redirector.start))
    async with api(management, tenant) as client:
        links = await create_links(client, 5)
    load = Load([link["shortUrl"] for link in links], REQUESTS, concurrency=32)

    async def away_and_back() -> None:
        await wait_for(lambda: load.done >= REQUESTS // 5, 60, "the load got going")
        await in_thread(outage.begin)
        # Long enough for many visits to be answered while Redis is away.
        await wait_for(lambda: load.done >= REQUESTS // 2, 60, "visits answered in the outage")
        await asyncio.sleep(0.3)
        await in_thread(outage.end)

    await asyncio.gather(load.run(), away_and_back())

    # Every visit was answered with its redirect, Redis or not.
    assert load.tally() == {302: REQUESTS}, load.tally()
    answered = load.ids(302)
    redis = aioredis.Redis.from_url(outage.server_url)
    try:

        async def all_in_stream() -> bool:
            return set(await events_by_request(redis, answered)) == answered

        await wait_for(all_in_stream, 20, "every answered redirect's event reached the stream")
        found = await events_by_request(redis, answered)
    finally:
        await redis.aclose()
    assert all(e.outcome == "redirect" for events in found.values() for e in events)
    assert {e.link_id for events in found.values() for e in events} == {
        int(link["id"]) for link in links
    }

    metrics = httpx.get(redirector.url + "/metrics").text
    assert metric(metrics, "kurz_click_events_total", state="dropped") == 0
    # The outage was felt: events went through the buffer, which is empty again.
    assert metric(metrics, "kurz_click_events_total", state="buffered") > 0
    assert metric(metrics, "kurz_click_event_buffer") == 0


async def test_redis_away_from_the_api_every_family_still_writes(
    fault_servers: FaultServers,
    services: ServiceFactory,
    proxies: Callable[[int], TcpProxy],
    fault_pool: asyncpg.Pool[Any],
    tenant: Workspace,
) -> None:
    """Postgres is the truth: with Redis cut off, rate limits fail open and the edge
    write is left to heal, so every family's create succeeds; the redirector, which
    still reaches Redis, finds the new links through its Postgres fallback."""
    proxy = proxies(fault_servers.redis.port)
    stack = services()
    management = stack.add("management", REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0")
    redirector = add_redirector(stack, fault_servers)
    await asyncio.gather(in_thread(management.start), in_thread(redirector.start))
    proxy.cut()
    async with httpx.AsyncClient(base_url=management.url, timeout=30) as client:
        native = await client.post(
            "/api/v1/links", headers=tenant.bearer, json={"url": "https://example.com/n"}
        )
        assert native.status_code == 201, native.text
        vivoldi = await client.post(
            "/api/link/v2/create", headers={"Authorization": f"APIKey {tenant.key}"},
            json={"url": "https://example.com/v"},
        )  # fmt: skip
        assert vivoldi.status_code == 200 and vivoldi.json()["code"] == 0, vivoldi.text
        linkly = await client.post(
            "/api/v1/link", headers={"X-API-KEY": tenant.key},
            json={"url": "https://example.com/l", "workspace_id": tenant.id},
        )  # fmt: skip
        assert linkly.status_code == 200, linkly.text
    rows = await fault_pool.fetch(
        "SELECT host, slug, url FROM links WHERE workspace_id = $1", tenant.id
    )
    assert sorted(r["url"] for r in rows) == [f"https://example.com/{c}" for c in "lnv"]
    async with httpx.AsyncClient() as visitor:
        for row in rows:
            answer = await visitor.get(f"http://{row['host']}/{row['slug']}")
            assert answer.status_code == 302 and answer.headers["location"] == row["url"]
