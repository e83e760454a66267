"""Webhook test kit: local receivers on 127.0.0.1, links and groups in Postgres, click
events on the real stream, and the worker running in this process."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from kurz import keys
from kurz.events import FIELD, ClickEvent, encode_event, new_event_id
from kurz.settings import Settings, load_settings
from kurz_webhooks.app import Worker

from tests.integration.redirector.conftest import redirector  # noqa: F401  (fixture)
from tests.support.local_http import serve_locally
from tests.support.push_service import VAPID_PRIVATE
from tests.support.rows import insert_row

Behaviour = Callable[["Received", int], Awaitable[web.StreamResponse]]


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]


async def _ok(received: Received, n: int) -> web.StreamResponse:
    return web.Response(status=204)


@dataclass
class Receiver:
    """An HTTP endpoint that records every request and answers as `behaviour` says
    (called with the request and its 1-based number)."""

    behaviour: Behaviour = _ok
    path: str = "/hook"
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        got = Received(time.time(), dict(request.headers), await request.read())
        self.received.append(got)
        return await self.behaviour(got, len(self.received))

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner, self.port = await serve_locally(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def ids(self) -> list[str]:
        return [r.message_id for r in self.received]


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    started: list[Receiver] = []

    async def make(behaviour: Behaviour = _ok) -> Receiver:
        receiver = await Receiver(behaviour).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()


def worker_settings(database_url: str, redis_url: str, **env: str) -> Settings:
    base = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "KURZ_WEBHOOK_ALLOW_PRIVATE": "true",
        "KURZ_WEBHOOK_RETRY_SCHEDULE": "0.2,0.4,0.8",
        "KURZ_WEBHOOK_TIMEOUT": "2",
        "KURZ_SHUTDOWN_GRACE": "5",
        "KURZ_LOG_LEVEL": "WARNING",
        "KURZ_VAPID_PRIVATE_KEY": VAPID_PRIVATE,
    }
    return load_settings({**base, **env})


@pytest.fixture(autouse=True)
async def _retire_pending(pool: asyncpg.Pool[Any], workspace: Any) -> AsyncIterator[None]:
    """Retire this test's unfinished deliveries at teardown (after its worker stopped), so
    a later test's worker never sends them to a receiver that reuses the port."""
    yield
    await pool.execute(
        """UPDATE webhook_deliveries SET status = 'dead'
           WHERE workspace_id = $1 AND status = 'pending'""",
        workspace.id,
    )


@pytest.fixture
async def worker_factory(
    database_url: str, redis_url: str
) -> AsyncIterator[Callable[..., Awaitable[Worker]]]:
    """Start the worker in this event loop; stopped at teardown."""
    workers: list[Worker] = []

    async def make(**env: str) -> Worker:
        worker = Worker(worker_settings(database_url, redis_url, **env))
        await worker.start()
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        if not worker.draining:
            await worker.stop()


@pytest.fixture
async def burst(
    database_url: str, redis_url: str
) -> AsyncIterator[Callable[..., Awaitable[tuple[int, int]]]]:
    """Run the worker in burst mode: everything on the stream fanned out and every due
    delivery attempted, then return (entries, attempts). Tests wait on it, not on time."""
    worker = Worker(worker_settings(database_url, redis_url))
    await worker.start(burst=True)

    async def run(horizon: float = 0.0) -> tuple[int, int]:
        return await worker.burst(horizon)

    yield run
    await worker.close()


@dataclass(frozen=True)
class Link:
    id: int
    workspace_id: int
    host: str
    slug: str
    group_id: int | None


async def make_link(
    pool: asyncpg.Pool[Any],
    workspace_id: int,
    *,
    webhook_urls: list[str] | None = None,
    group_id: int | None = None,
    url: str = "https://example.com/landing",
) -> Link:
    slug = uuid.uuid4().hex[:10]
    link_id = await pool.fetchval(
        """INSERT INTO links (workspace_id, host, slug, url, title, webhook_urls, group_id)
           VALUES ($1, 'kurz.test', $2, $3, 'A title', $4, $5) RETURNING id""",
        workspace_id,
        slug,
        url,
        webhook_urls or [],
        group_id,
    )
    return Link(link_id, workspace_id, "kurz.test", slug, group_id)


async def make_group(pool: asyncpg.Pool[Any], workspace_id: int, **columns: Any) -> int:
    values = {"workspace_id": workspace_id, "name": "Campaign", **columns}
    return await insert_row(pool, "link_groups", values)


def click(link: Link, **overrides: Any) -> ClickEvent:
    fields: dict[str, Any] = {
        "id": new_event_id(),
        "at": time.time(),
        "workspace_id": link.workspace_id,
        "link_id": link.id,
        "group_id": link.group_id,
        "host": link.host,
        "slug": link.slug,
        "destination": "https://example.com/landing",
        "rule": None,
        "outcome": "redirect",
        "visitor": uuid.uuid4().hex,
        "country": "DE",
        "referrer": None,
        "user_agent": "Mozilla/5.0",
    }
    fields.update(overrides)
    return ClickEvent(**fields)


async def xadd(redis: aioredis.Redis, events: list[ClickEvent]) -> None:
    pipe = redis.pipeline(transaction=False)
    for event in events:
        pipe.xadd(keys.CLICK_STREAM, {FIELD: encode_event(event)})
    await pipe.execute()


async def wait_until(
    predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


async def workspace_secret(pool: asyncpg.Pool[Any], workspace_id: int) -> str:
    secret: str = await pool.fetchval(
        "SELECT webhook_secret FROM workspaces WHERE id = $1", workspace_id
    )
    return secret
