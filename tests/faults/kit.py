"""What the fault tests share: a bounded visitor load on the redirector, the click
stream read back by request id, Prometheus numbers, and a webhook receiver.

Every request of a load carries its own `X-Request-Id`; the redirector copies it into
the click event, so "every answered redirect has its event" is checked id by id."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import asyncpg
import httpx
import redis.asyncio as aioredis
from aiohttp import web
from kurz import keys
from kurz.events import ClickEvent, entry_events
from prometheus_client.parser import text_string_to_metric_families

from tests.support.local_http import serve_locally
from tests.support.waiting import wait_for

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"


@dataclass
class Load:
    """`total` GETs spread over `urls`, at most `concurrency` at a time. `statuses` maps
    each request id to its status (0: no answer, e.g. the server had stopped)."""

    urls: list[str]
    total: int
    concurrency: int = 32
    timeout: float = 15.0
    statuses: dict[str, int] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)
    started: int = 0

    @property
    def done(self) -> int:
        return len(self.statuses)

    def ids(self, status: int) -> set[str]:
        return {rid for rid, got in self.statuses.items() if got == status}

    def tally(self) -> Counter[int]:
        return Counter(self.statuses.values())

    async def run(self) -> Load:
        prefix = uuid.uuid4().hex[:8]
        connector = aiohttp.TCPConnector(limit=self.concurrency, force_close=False)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def worker(lane: int) -> None:
                while self.started < self.total:
                    n = self.started
                    self.started += 1
                    await self._one(session, f"{prefix}-{n}", self.urls[n % len(self.urls)], n)

            await asyncio.gather(*(worker(i) for i in range(self.concurrency)))
        return self

    async def _one(self, session: aiohttp.ClientSession, rid: str, url: str, n: int) -> None:
        # A user agent per visitor keeps visitor ids apart (they hash IP and user agent).
        headers = {"X-Request-Id": rid, "User-Agent": f"{BROWSER} v{n % 97}"}
        try:
            async with session.get(url, headers=headers, allow_redirects=False) as answer:
                await answer.read()
                self.statuses[rid] = answer.status
                self.locations[rid] = answer.headers.get("location", "")
        except (aiohttp.ClientError, TimeoutError, OSError):
            self.statuses[rid] = 0


async def stream_events(redis: aioredis.Redis, stream: str = keys.CLICK_STREAM) -> list[ClickEvent]:
    """Every click event in the stream, oldest first."""
    events: list[ClickEvent] = []
    start = "-"
    while True:
        batch = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            await redis.xrange(stream, min=start, max="+", count=5000),
        )
        if not batch:
            return events
        events += [e for _, fields in batch for e in entry_events(fields).events]
        last = batch[-1][0].decode()
        ms, seq = last.split("-")
        start = f"{ms}-{int(seq) + 1}"


async def events_by_request(
    redis: aioredis.Redis, request_ids: set[str]
) -> dict[str, list[ClickEvent]]:
    """The stream's events of these requests, by request id (a list: a retried write
    could have stored one twice, which consumers deduplicate by event id)."""
    found: dict[str, list[ClickEvent]] = {}
    for event in await stream_events(redis):
        if event.request_id in request_ids:
            found.setdefault(event.request_id, []).append(event)
    return found


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus exposition; 0 when absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1 that answers 200 after `delay` seconds and counts
    every request by its `webhook-id` header."""

    delay: float = 0.0
    ids: Counter[str] = field(default_factory=Counter)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.ids.values())

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.ids[request.headers.get("webhook-id", "")] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=200)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner, self.port = await serve_locally(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def in_thread(work: Callable[..., Any], *args: Any) -> Any:
    """Blocking process control (start, stop, wait) off the event loop."""
    return await asyncio.to_thread(work, *args)


async def counted(pool: asyncpg.Pool[Any], link_ids: list[int]) -> dict[int, int]:
    """Counted clicks per link, as the aggregator stored them."""
    rows = await pool.fetch(
        "SELECT link_id, count(*) AS n FROM clicks WHERE link_id = ANY($1::bigint[]) "
        "AND counted GROUP BY link_id",
        link_ids,
    )
    return {r["link_id"]: r["n"] for r in rows}


async def delivered(pool: asyncpg.Pool[Any], workspace_id: int) -> int:
    """The workspace's webhook deliveries that succeeded."""
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE workspace_id = $1 "
            "AND status = 'succeeded'",
            workspace_id,
        )
    )


async def group_with_webhook(management_url: str, key: str, receiver: Receiver) -> int:
    """A Vivoldi group whose every click is posted to the receiver."""
    async with httpx.AsyncClient(
        base_url=management_url, headers={"Authorization": f"APIKey {key}"}, timeout=60
    ) as vivoldi:
        answer = await vivoldi.post(
            "/api/link-group/v1/create",
            json={"nm": "webhooked", "webhookEnableYn": "Y", "webhookCallbackUrl": receiver.url,
                  "webhookMetric": "C", "webhookFrequency": 1},
        )  # fmt: skip
    body = answer.json()
    assert answer.status_code == 200 and body["code"] == 0, body
    return int(body["result"]["grpIdx"])


async def assert_each_visit_counted_once_and_delivered(
    pool: asyncpg.Pool[Any],
    load: Load,
    links: list[dict[str, Any]],
    edge_url: str,
    workspace_id: int,
    receiver: Receiver,
) -> None:
    """After `load` over the links' short URLs (the last one's group posts every click
    to `receiver`): each answered visit counted exactly once, none dropped at the edge,
    and each click of the grouped link delivered (fan-out is idempotent on event id)."""
    urls = load.urls
    visits = Counter(urls[int(rid.rsplit("-", 1)[1]) % len(urls)] for rid in load.ids(302))
    wanted = {int(link["id"]): visits[link["shortUrl"]] for link in links}

    async def all_counted() -> bool:
        return await counted(pool, list(wanted)) == wanted

    with contextlib.suppress(AssertionError):
        await wait_for(all_counted, 120, "the aggregator counted every visit once")
    assert await counted(pool, list(wanted)) == wanted
    edge = httpx.get(edge_url + "/metrics").text
    assert metric(edge, "kurz_click_events_total", state="dropped") == 0
    grouped_visits = visits[urls[-1]]

    async def all_delivered() -> bool:
        return await delivered(pool, workspace_id) == grouped_visits

    with contextlib.suppress(AssertionError):
        await wait_for(all_delivered, 120, "every webhook delivered", 0.2)
    assert await delivered(pool, workspace_id) == grouped_visits
    assert sum(receiver.ids.values()) >= grouped_visits
