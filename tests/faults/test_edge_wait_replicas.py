"""KURZ_EDGE_WAIT_REPLICAS: the redirector answers a visit once a Redis replica holds its
click event (WAIT), so a failover to that replica keeps every answered click; when no
replica confirms in time the answer still goes out, counted as unreplicated."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz.dev.servers import Redis, free_port

from tests.conftest import new_workspace
from tests.faults.kit import BROWSER, events_by_request, in_thread, metric
from tests.support.services import Stack, service_env
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow
VISITS = 20


async def test_answers_wait_for_a_replica_to_hold_the_event(
    database_url: str, pool: asyncpg.Pool[Any], tmp_path: Path
) -> None:
    quick = ("--repl-diskless-sync-delay", "0")  # the first full sync at once
    master = Redis(tmp_path / "master", free_port(), options=quick).start()
    follow = ("--replicaof", "127.0.0.1", str(master.port))
    replica = Redis(tmp_path / "replica", free_port(), options=follow).start()
    edge = f"127.0.0.1:{free_port()}"
    env = service_env(database_url, master.url, KURZ_DEFAULT_DOMAIN=edge)
    stack = Stack(env, tmp_path)
    management = stack.add("management")
    redirector = stack.add("redirector", KURZ_EDGE_WAIT_REPLICAS="1", KURZ_EDGE_WAIT_MS="300")
    redirector.port = int(edge.rsplit(":", 1)[1])
    on_replica = aioredis.Redis(port=replica.port)
    try:
        await asyncio.gather(in_thread(management.start), in_thread(redirector.start))
        leader = aioredis.Redis(port=master.port)

        async def replica_online() -> bool:
            info: dict[str, Any] = await leader.info("replication")
            return bool(info.get("slave0", {}).get("state") == "online")

        await wait_for(replica_online, 20, "the replica is in sync")
        await leader.aclose()
        tenant = await new_workspace(pool)
        async with httpx.AsyncClient(base_url=management.url, headers=tenant.bearer) as api:
            made = await api.post("/api/v1/links", json={"url": "https://example.com/w"})
        short_url = made.json()["link"]["shortUrl"]

        async def visits(prefix: str) -> set[str]:
            ids = {f"{prefix}-{n}" for n in range(VISITS)}
            async with httpx.AsyncClient() as visitor:
                for rid in sorted(ids):
                    answer = await visitor.get(
                        short_url, headers={"X-Request-Id": rid, "User-Agent": BROWSER}
                    )
                    assert answer.status_code == 302
            return ids

        # Each answer came after the replica had its event: all there, no waiting.
        answered = await visits("replicated")
        assert set(await events_by_request(on_replica, answered)) == answered
        assert metric(_metrics(redirector.url), "kurz_click_events_total",
                      state="unreplicated") == 0  # fmt: skip

        # The replica frozen: answers still go out (after WAIT's 300 ms), counted.
        assert replica.process is not None
        os.kill(replica.process.pid, signal.SIGSTOP)
        try:
            await visits("unreplicated")
        finally:
            os.kill(replica.process.pid, signal.SIGCONT)
        assert metric(_metrics(redirector.url), "kurz_click_events_total",
                      state="unreplicated") == VISITS  # fmt: skip
    finally:
        await on_replica.aclose()
        stack.stop()
        replica.stop()
        master.stop()


def _metrics(url: str) -> str:
    return httpx.get(url + "/metrics").text
