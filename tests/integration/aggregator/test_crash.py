"""The aggregator as a real process: SIGKILL it mid-batch, restart it, and the totals are
still exact, the dead process's pending entries reclaimed; SIGTERM drains and exits 0.

It gets a Redis of its own: the service reads the fixed `clicks` stream, which other
tests of the session write to."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.dev.servers import Redis, free_port
from kurz.events import ClickEvent

from tests.conftest import Workspace
from tests.integration.aggregator.conftest import BROWSER, GOOGLEBOT, add, click, new_link_id
from tests.support.services import Service, Stack, service_env

pytestmark = pytest.mark.slow


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[aioredis.Redis]:
    server = Redis(tmp_path / "redis", free_port()).start()
    client = aioredis.Redis.from_url(server.url)
    client.url = server.url  # type: ignore[attr-defined]
    yield client
    await client.aclose()
    server.stop()


def _events(workspace_id: int, links: list[int], n: int, seed: int) -> list[ClickEvent]:
    rng = random.Random(seed)
    start = time.time() - 3 * 3600
    out = []
    for i in range(n):
        bot = rng.random() < 0.05
        out.append(click(
            workspace_id, rng.choice(links), at=start + i * 0.5,
            visitor=f"visitor-{rng.randrange(3000)}",
            user_agent=GOOGLEBOT if bot else BROWSER,
            method="HEAD" if rng.random() < 0.02 else "GET",
        ))  # fmt: skip
    return out


def _expected(events: list[ClickEvent]) -> dict[int, tuple[int, int]]:
    """Per link: clicks, and the sum over (UTC) days of each day's distinct visitors."""
    clicks: dict[int, int] = {}
    visitors: dict[tuple[int, int], set[str]] = {}
    for e in events:
        if e.counted and e.user_agent != GOOGLEBOT:
            clicks[e.link_id] = clicks.get(e.link_id, 0) + 1
            visitors.setdefault((e.link_id, int(e.at // 86400)), set()).add(e.visitor)
    unique = {link: 0 for link in clicks}
    for (link, _), seen in visitors.items():
        unique[link] += len(seen)
    return {link: (clicks[link], unique[link]) for link in clicks}


async def _totals(pool: asyncpg.Pool[Any], links: list[int]) -> dict[int, tuple[int, int]]:
    rows = await pool.fetch(
        "SELECT link_id, sum(clicks)::int AS c, sum(visitors)::int AS v FROM link_daily "
        "WHERE link_id = ANY($1) GROUP BY link_id",
        links,
    )
    return {r["link_id"]: (r["c"], r["v"]) for r in rows}


async def _pending(redis: aioredis.Redis) -> int:
    summary = await redis.xpending(keys.CLICK_STREAM, keys.AGGREGATOR_GROUP)
    return int(summary["pending"])


async def _wait(predicate: Any, timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(step)
    return False


def _start(stack: Stack, service: Service | None = None) -> Service:
    service = service or stack.add("aggregator")
    return service.start(timeout=60)


async def test_sigkill_mid_batch_then_restart_counts_everything_exactly_once(
    pool: asyncpg.Pool[Any],
    database_url: str,
    own_redis: aioredis.Redis,
    workspace: Workspace,
    tmp_path: Path,
) -> None:
    links = [new_link_id() for _ in range(5)]
    events = _events(workspace.id, links, 30_000, seed=7)
    for i in range(0, len(events), 5000):
        await add(own_redis, keys.CLICK_STREAM, events[i : i + 5000])
    env = service_env(
        database_url, own_redis.url,  # type: ignore[attr-defined]
        KURZ_AGGREGATOR_BATCH="500", KURZ_AGGREGATOR_CLAIM_IDLE_MS="1000",
    )  # fmt: skip
    stack = Stack(env, tmp_path)
    aggregator = _start(stack)
    try:

        async def mid_batch() -> bool:
            done = sum(c for c, _ in (await _totals(pool, links)).values())
            return done > 0 and await _pending(own_redis) > 0

        assert await _wait(mid_batch, 60), "the aggregator made no progress"
        aggregator.stop(signal.SIGKILL)
        held = await _pending(own_redis)
        partial = await _totals(pool, links)
        expected = _expected(events)
        assert held > 0 and partial != expected

        _start(stack, aggregator)  # a new process: a new consumer name

        async def caught_up() -> bool:
            return await _totals(pool, links) == expected and await _pending(own_redis) == 0

        assert await _wait(caught_up, 90, step=0.2), (await _totals(pool, links), expected)
        assert httpx.get(aggregator.url + "/healthz").status_code == 200
        assert httpx.get(aggregator.url + "/readyz").json() == {"status": "ready"}
        assert httpx.get(aggregator.url + "/elsewhere").status_code == 404
        lag_line = 'kurz_stream_lag{group="aggregator",stream="clicks"} 0.0'

        async def lag_reported() -> bool:
            return lag_line in httpx.get(aggregator.url + "/metrics").text

        assert await _wait(lag_reported, 10, step=0.5)  # refreshed every 2 s
        metrics = httpx.get(aggregator.url + "/metrics").text
        assert 'kurz_aggregator_events_total{result="new"}' in metrics
        reclaimed = next(
            float(line.split()[-1]) for line in metrics.splitlines()
            if line.startswith("kurz_aggregator_reclaimed_total")
        )  # fmt: skip
        assert reclaimed >= held
        rows = await pool.fetchval("SELECT count(*) FROM clicks WHERE link_id = ANY($1)", links)
        assert rows == len(events)

        # SIGTERM mid-stream: the batch in flight is committed and acknowledged, exit 0.
        more = _events(workspace.id, links, 20_000, seed=8)
        await add(own_redis, keys.CLICK_STREAM, more)
        await asyncio.sleep(0.3)
        assert aggregator.stop(signal.SIGTERM) == 0
        assert await _pending(own_redis) == 0
        _start(stack, aggregator)
        expected = _expected(events + more)
        assert await _wait(caught_up, 90, step=0.2), (await _totals(pool, links), expected)
    finally:
        stack.stop()
