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
from kurz.db import create_pool
from kurz.logs import configure_logging
from kurz.observability import OPERATOR_PATHS, serve_operator_path
from kurz.settings import Settings, load_settings

from kurz_aggregator.worker import Aggregator

log = logging.getLogger("kurz.aggregator")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class AggregatorApp:
    """Plain ASGI: three operator paths and a lifespan; nothing else is served."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.worker: Aggregator | None = None
        self.task: asyncio.Task[int] | None = None
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
        pool = await create_pool(settings.database.url, min_size=1, max_size=2)
        stack.push_async_callback(pool.close)
        redis = aioredis.Redis.from_url(settings.redis.url)
        stack.push_async_callback(redis.aclose)
        self._resources = stack
        self.worker = Aggregator(pool, redis, settings.aggregator)
        self.task = asyncio.create_task(self.worker.run(), name="aggregator")
        self.task.add_done_callback(_report_exit)
        self._pool, self._redis = pool, redis

    async def stop(self) -> None:
        """Stop reading, let the batch in flight commit and be acknowledged, then close."""
        if self.worker is not None and self.task is not None:
            self.worker.stop()
            try:
                await asyncio.wait_for(asyncio.shield(self.task), self.settings.shutdown_grace)
            except TimeoutError:
                log.error("batch still running at the end of the grace period; left pending")
                self.task.cancel()
            except Exception:
                log.debug("aggregator loop ended with an error (reported when it ended)")
        if self._resources is not None:
            await self._resources.aclose()

    async def _ready(self) -> None:
        if self.task is None or self.task.done() or self._pool is None or self._redis is None:
            raise RuntimeError("aggregator loop is not running")
        await self._pool.fetchval("SELECT 1")
        await self._redis.ping()

    def _draining(self) -> bool:
        return self.worker is not None and self.worker.stopping


def _report_exit(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("aggregator loop stopped", exc_info=task.exception())


def create_app(settings: Settings | None = None) -> AggregatorApp:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    return AggregatorApp(settings)
