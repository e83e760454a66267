"""The webhook worker as an ASGI app: its lifespan runs the stream consumer, the delivery
scheduler, the mailer and the web push sender; HTTP serves only /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from kurz import push, redis_topology
from kurz.db import create_pool
from kurz.logs import log_as
from kurz.observability import OPERATOR_PATHS, serve_operator_path
from kurz.settings import Settings, load_settings
from starlette.applications import Starlette
from starlette.routing import Route

from kurz_webhooks import maintenance
from kurz_webhooks.consumer import Consumer
from kurz_webhooks.mailer import Mailer
from kurz_webhooks.outcomes import Recorder
from kurz_webhooks.push import PushSender
from kurz_webhooks.scheduler import Scheduler
from kurz_webhooks.transport import create_session

log = logging.getLogger(__name__)


class Worker:
    """Everything that runs in the background, started and stopped as one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.draining = False
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, *, burst: bool = False) -> None:
        """Start the background loops; with `burst`, only make what `burst()` uses."""
        s = self.settings
        mail_configured = s.webhooks.smtp_host is not None
        self.pool = await create_pool(
            s.database.url, min_size=s.database.pool_min, max_size=max(s.database.pool_max, 4)
        )
        self.redis = redis_topology.client(s.redis.url)
        self.session = create_session(s.webhooks)
        self.recorder = Recorder(self.pool, s.webhooks, mail_configured)
        self.scheduler = Scheduler(self.pool, self.session, self.recorder, s.webhooks)
        self.consumer = Consumer(
            self.pool, self.redis, s, self.scheduler.wake, mail_configured=mail_configured
        )
        push.check_keys(s.push)
        private_key = push.private_key_b64url(s.push)
        self.pusher = (
            PushSender(self.pool, self.session, s.push, private_key, s.webhooks)
            if private_key
            else None
        )
        if burst:
            return
        self._consumer_task = asyncio.create_task(self.consumer.run(), name="consumer")
        self._scheduler_task = asyncio.create_task(self.scheduler.run(), name="scheduler")
        self._tasks = [
            asyncio.create_task(self.recorder.run_flusher(self._stop), name="flusher"),
            asyncio.create_task(maintenance.run(self.pool, self._stop), name="maintenance"),
        ]
        if self.pusher is not None:
            self._tasks.append(asyncio.create_task(self.pusher.run(self._stop), name="push"))
        if mail_configured:
            mailer = Mailer(self.pool, s.webhooks)
            self._tasks.append(asyncio.create_task(mailer.run(self._stop), name="mailer"))

    async def burst(self, horizon: float = 0.0) -> tuple[int, int]:
        """Run until nothing is left: every click event on the stream fanned out, every
        delivery due (or due within `horizon` seconds) attempted and its outcome
        recorded, and the same for web push. Returns (stream entries handled, delivery
        attempts). For tests and one-off catch-up runs; a failure raises."""
        entries = await self.consumer.drain()
        attempts = await self.scheduler.drain(horizon)
        if self.pusher is not None:
            attempts += await self.pusher.drain(horizon)
        await self.recorder.flush()
        return entries, attempts

    async def close(self) -> None:
        """After `burst()`: release what `start(burst=True)` made."""
        await self.session.close()
        await self.redis.aclose()
        await self.pool.close()

    async def ready(self) -> None:
        for task in (self._consumer_task, self._scheduler_task):
            if task.done():
                raise RuntimeError(f"the {task.get_name()} stopped")
        await self.pool.fetchval("SELECT 1")
        await self.redis.ping()
        self.consumer.check()

    async def stop(self) -> None:
        """Stop taking work; give deliveries in flight the grace period; record what
        finished; leave everything else due in Postgres."""
        self.draining = True
        grace = max(1.0, self.settings.shutdown_grace - 2.0)
        self.consumer.stop()
        # Both within the one grace period: the consumer commits its last batch (left due
        # in Postgres) while the scheduler lets its attempts finish.
        await asyncio.gather(_finish(self._consumer_task, grace), self.scheduler.stop(grace))
        await _finish(self._scheduler_task, 1.0)
        self._stop.set()
        for task in self._tasks:
            await _finish(task, 5.0)
        await self.recorder.flush()
        await self.session.close()
        await self.redis.aclose()
        await self.pool.close()


async def _finish(task: asyncio.Task[None], within: float) -> None:
    done, _ = await asyncio.wait([task], timeout=within)
    if not done:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    if task.done() and not task.cancelled() and task.exception() is not None:
        log.error("background task failed", exc_info=task.exception())


class _OperatorEndpoint:
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        worker: Worker = scope["app"].state.worker
        await serve_operator_path(scope, send, worker.ready, draining=lambda: worker.draining)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    log_as("webhook-worker", settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker = Worker(settings)
        await worker.start()
        app.state.worker = worker
        try:
            yield
        finally:
            await worker.stop()

    endpoint = _OperatorEndpoint()
    routes = [Route(path, endpoint, methods=["GET"]) for path in sorted(OPERATOR_PATHS)]
    return Starlette(routes=routes, lifespan=lifespan)
