"""A Redis outage: cached links keep redirecting, events wait in the edge's spool on disk
and reach the stream once Redis is back; a restart in between loses nothing spooled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from kurz.dev.servers import Redis, free_port
from kurz.edge_cache import EdgeCache
from kurz.events import entry_events
from kurz.models import EdgeLink
from kurz.passwords import hash_password

from tests.integration.redirector.conftest import HOST, new_slug, redirector_env
from tests.support.services import Service, Stack
from tests.support.streams import stream_entries


async def _stream_events(client: aioredis.Redis) -> list[str]:
    entries = await stream_entries(client)
    return [e.id for _, f in entries for e in entry_events(f).events]


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or (line.startswith(name + "{") and line.split()[0] == name):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in metrics")


async def test_outage_buffers_events_then_flushes_them(
    edge: Service, own_redis: Redis, own_client: aioredis.Redis
) -> None:
    # Only in Redis (not in Postgres): it can be served during the outage only from the
    # redirector's own cache.
    link = EdgeLink(id=10**9, workspace_id=1, url="https://example.com/kept", host=HOST,
                    slug=new_slug())  # fmt: skip
    await EdgeCache(own_client).put_links([link])
    async with httpx.AsyncClient(base_url=edge.url, headers={"Host": HOST}, timeout=10) as http:
        assert (await http.get(f"/{link.slug}")).status_code == 302
        assert len(await _stream_events(own_client)) == 1
        await own_client.aclose()
        own_redis.stop()
        for _ in range(20):
            response = await http.get(f"/{link.slug}")
            assert response.status_code == 302
            assert response.headers["location"] == link.url
        # Still ready: it keeps serving cached links, so it stays in the load balancer;
        # the outage shows in the metrics instead.
        assert (await http.get("/readyz")).status_code == 200
        metrics = (await http.get("/metrics")).text
        assert _metric(metrics, 'kurz_click_events_total{state="buffered"}') == 20
        assert _metric(metrics, "kurz_click_event_buffer") == 20
        assert _metric(metrics, "kurz_redis_up") == 0
        own_redis.start()  # same port, empty: the events must come from the spool
        fresh = aioredis.Redis.from_url(own_redis.url)
        try:
            for _ in range(100):
                if len(await _stream_events(fresh)) == 20:
                    break
                await asyncio.sleep(0.1)
            assert len(await _stream_events(fresh)) == 20
            metrics = (await http.get("/metrics")).text
            assert _metric(metrics, "kurz_click_event_buffer") == 0
            assert _metric(metrics, "kurz_redis_up") == 1
            assert _metric(metrics, 'kurz_click_events_total{state="dropped"}') == 0
            # Healed: the next visit is written before its response again.
            await EdgeCache(fresh).put_links([link])
            assert (await http.get(f"/{link.slug}")).status_code == 302
            assert len(await _stream_events(fresh)) == 21
        finally:
            await fresh.aclose()


async def test_spool_bound_drops_are_counted_and_shutdown_flushes(
    own_redis: Redis, database_url: str, tmp_path: Path
) -> None:
    # Room for a few events (each about 300 bytes on disk), not for eight.
    env = redirector_env(database_url, own_redis.url, KURZ_EDGE_CACHE_TTL="600",
                         KURZ_EDGE_SPOOL_BYTES="1500")  # fmt: skip
    stack = Stack(env, tmp_path)
    edge = stack.add("redirector").start()
    client = aioredis.Redis.from_url(own_redis.url)
    link = EdgeLink(id=10**9 + 1, workspace_id=1, url="https://example.com/x", host=HOST,
                    slug=new_slug())  # fmt: skip
    await EdgeCache(client).put_links([link])
    await client.aclose()
    try:
        async with httpx.AsyncClient(base_url=edge.url, headers={"Host": HOST}, timeout=10) as http:
            assert (await http.get(f"/{link.slug}")).status_code == 302
            own_redis.stop()
            for _ in range(8):
                assert (await http.get(f"/{link.slug}")).status_code == 302
            metrics = (await http.get("/metrics")).text
            dropped = _metric(metrics, 'kurz_click_events_total{state="dropped"}')
            spooled = _metric(metrics, 'kurz_click_events_total{state="buffered"}')
            assert dropped > 0 and spooled > 0 and dropped + spooled == 8
            own_redis.start()
            # Stop at once: shutdown writes the spool before the process exits.
            edge.stop()
    finally:
        stack.stop()
    log = (tmp_path / "redirector.log").read_text()
    assert log.count("click events dropped") == 1  # one line, not one per visit
    fresh = aioredis.Redis.from_url(own_redis.url)
    try:
        assert len(await _stream_events(fresh)) == spooled
    finally:
        await fresh.aclose()


async def test_the_password_form_answers_503_while_redis_is_away(
    edge: Service, own_redis: Redis, own_client: aioredis.Redis
) -> None:
    """Attempts are counted in Redis: without it none can be checked, and the visitor
    is told to retry soon (503), not that it guessed too often (429)."""
    link = EdgeLink(id=10**9 + 3, workspace_id=1, url="https://example.com/p", host=HOST,
                    slug=new_slug(), password_hash=hash_password("right"))  # fmt: skip
    await EdgeCache(own_client).put_links([link])
    async with httpx.AsyncClient(base_url=edge.url, headers={"Host": HOST}, timeout=10) as http:
        assert (await http.get(f"/{link.slug}")).status_code == 200  # the form, cached now
        await own_client.aclose()
        own_redis.stop()
        answer = await http.post(f"/{link.slug}", data={"password": "right"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "2"
    assert answer.headers["content-type"].startswith("text/html")


async def test_limited_visits_in_an_outage_log_one_line_not_one_each(
    edge: Service, own_redis: Redis, own_client: aioredis.Redis, tmp_path: Path
) -> None:
    link = EdgeLink(id=10**9 + 4, workspace_id=1, url="https://example.com/l", host=HOST,
                    slug=new_slug(), max_clicks=1000)  # fmt: skip
    await EdgeCache(own_client).put_links([link])
    async with httpx.AsyncClient(base_url=edge.url, headers={"Host": HOST}, timeout=10) as http:
        assert (await http.get(f"/{link.slug}")).status_code == 302
        await own_client.aclose()
        own_redis.stop()
        statuses = [(await http.get(f"/{link.slug}")).status_code for _ in range(20)]
    assert statuses == [503] * 20  # no shared counter, no exact limit: refused
    log = (tmp_path / "redirector.log").read_text()
    assert log.count("click limit unavailable") == 1


async def test_postgres_away_links_in_redis_still_redirect(
    own_redis: Redis, own_client: aioredis.Redis, tmp_path: Path
) -> None:
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/kurz"
    stack = Stack(redirector_env(closed, own_redis.url), tmp_path)
    edge = stack.add("redirector").start()
    link = EdgeLink(id=10**9 + 2, workspace_id=1, url="https://example.com/r", host=HOST,
                    slug=new_slug())  # fmt: skip
    await EdgeCache(own_client).put_links([link])
    try:
        async with httpx.AsyncClient(base_url=edge.url, headers={"Host": HOST}, timeout=10) as http:
            assert (await http.get(f"/{link.slug}")).headers["location"] == link.url
            # Unknown to Redis and Postgres cannot be asked: not a 404, a retryable 503.
            for _ in range(3):
                response = await http.get(f"/{new_slug()}")
                assert response.status_code == 503 and response.headers["retry-after"]
    finally:
        stack.stop()
