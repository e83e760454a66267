"""The aggregator service: an ASGI app whose lifespan runs the worker loop, and which
answers /healthz, /readyz and /metrics for operators."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz import redis_topology
from kurz.db import create_pool
from kurz.logs import log_as
from kurz.observability import OPERATOR_PATHS, serve_operator_path
from kurz.settings import Settings, load_settings
from kurz.stream import consumer_name

from kurz_aggregator.worker import Aggregator

log = logging.getLogger("kurz.aggregator")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class AggregatorApp:
    """Plain ASGI: three operator paths and a lifespan; nothing else is served."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workers: list[tuple[Aggregator, asyncio.Task[int]]] = []
        self._resources: contextlib.AsyncExitStack | None = None
        self._pool: asyncpg.Pool[Any] | None = None
        self._redis: aioredis.Redis | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] in OPERATOR_PATHS:
            await serve_operator_path(scope, send, self._ready, draining=self._draining)
        elif scope["type"] == "http":
            body = b'{"error":"not found"}'
            length = str(len(body)).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", length)]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    log.exception("aggregator failed to start")
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def start(self) -> None:
        settings = self.settings
        stack = contextlib.AsyncExitStack()
        concurrency = max(settings.aggregator.concurrency, 1)
        pool = await create_pool(settings.database.url, min_size=1, max_size=concurrency + 1)
        stack.push_async_callback(pool.close)
        redis = redis_topology.client(settings.redis.url)
        stack.push_async_callback(redis.aclose)
        self._resources, self._pool, self._redis = stack, pool, redis
        # Several consumers in one process: while one waits on Postgres, another decodes,
        # and Postgres gets a second core. Each has its own name, so its own pending entries.
        # As many on every shard of the click stream (a consumer group is per stream).
        base = settings.aggregator.consumer or consumer_name()
        for shard, stream in enumerate(settings.redis.click_streams):
            for i in range(concurrency):
                name = base if concurrency == 1 else f"{base}-{i}"
                worker = Aggregator(
                    pool, redis, settings.aggregator, consumer=name, stream=stream,
                    housekeeping=i == 0, upkeep=i == 0 and shard == 0,
                    stream_limits=settings.redis,
                )  # fmt: skip
                task = asyncio.create_task(worker.run(), name=f"aggregator-{shard}-{i}")
                task.add_done_callback(_report_exit)
                self.workers.append((worker, task))

    async def stop(self) -> None:
        """Stop reading, let the batches in flight commit and be acknowledged, then close."""
        for worker, _ in self.workers:
            worker.stop()
        tasks = [task for _, task in self.workers]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace)
            for task in late:
                log.error("batch still running at the end of the grace period; left pending")
                task.cancel()
        if self._resources is not None:
            await self._resources.aclose()

    async def _ready(self) -> None:
        if not self.workers or any(task.done() for _, task in self.workers):
            raise RuntimeError("aggregator loop is not running")
        assert self._pool is not None and self._redis is not None
        await self._pool.fetchval("SELECT 1")
        await self._redis.ping()
        for worker, _ in self.workers:
            worker.behind.check()  # told only on the loops that watch (one per shard)
            worker.failing.check()

    def _draining(self) -> bool:
        return any(worker.stopping for worker, _ in self.workers)


def _report_exit(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("aggregator loop stopped", exc_info=task.exception())


def create_app(settings: Settings | None = None) -> AggregatorApp:
    settings = settings or load_settings()
    log_as("aggregator", settings)
    return AggregatorApp(settings)
