"""Pick due deliveries from Postgres and send them, with bounded concurrency overall and
per endpoint, so a slow or dead endpoint only ever occupies its own few slots."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

import aiohttp
import asyncpg
from kurz.settings import WebhookSettings

from kurz_webhooks import metrics
from kurz_webhooks.outcomes import Claimed, Recorder
from kurz_webhooks.transport import attempt

log = logging.getLogger(__name__)
POLL_INTERVAL = 0.25  # how often retries that became due are looked for

# Claims (leases) due deliveries: at most `room` per endpoint beyond what is in flight,
# oldest first. The lease is the new next_attempt_at: a worker that dies mid-flight
# leaves its deliveries due again once the lease runs out.
_CLAIM = """
WITH ranked AS (
    SELECT d.id, d.next_attempt_at,
           row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS n,
           coalesce(busy.n, 0) AS busy
    FROM webhook_deliveries d
    LEFT JOIN unnest($1::bigint[], $2::int[]) AS busy (endpoint_id, n) USING (endpoint_id)
    WHERE d.status = 'pending' AND d.next_attempt_at <= now()
), picked AS (
    SELECT id FROM webhook_deliveries
    WHERE id IN (SELECT id FROM ranked WHERE n <= $3 - busy ORDER BY next_attempt_at LIMIT $4)
      AND status = 'pending' AND next_attempt_at <= now()
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $5)
FROM picked WHERE d.id = picked.id
RETURNING d.id, d.workspace_id, d.endpoint_id, d.url, d.message_id, d.secret, d.payload,
          d.attempts, extract(epoch FROM d.created_at)::float8 AS created_at
"""


class Scheduler:
    def __init__(
        self,
        pool: asyncpg.Pool[Any],
        session: aiohttp.ClientSession,
        recorder: Recorder,
        settings: WebhookSettings,
    ) -> None:
        self._pool = pool
        self._session = session
        self._recorder = recorder
        self._settings = settings
        self._lease = settings.timeout + 5.0
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: dict[asyncio.Task[None], Claimed] = {}
        self._per_endpoint: Counter[int] = Counter()

    def wake(self) -> None:
        """New deliveries were committed: look now rather than at the next poll."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def run(self) -> None:
        while not self._stopping:
            room = self._settings.concurrency - len(self._tasks)
            claimed: list[Claimed] = []
            if room > 0:
                try:
                    claimed = await self._claim(room)
                except (OSError, asyncpg.PostgresError):
                    log.exception("could not claim due deliveries")
                    await asyncio.sleep(1)
                for delivery in claimed:
                    self._start(delivery)
            if claimed and len(claimed) == room:
                await asyncio.sleep(0)  # there may be more due: claim again at once
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_INTERVAL)

    async def _claim(self, room: int) -> list[Claimed]:
        busy = [(e, n) for e, n in self._per_endpoint.items() if n > 0]
        rows = await self._pool.fetch(
            _CLAIM,
            [e for e, _ in busy],
            [n for _, n in busy],
            self._settings.per_endpoint_concurrency,
            room,
            self._lease,
        )
        return [Claimed(**dict(r)) for r in rows]

    def _start(self, delivery: Claimed) -> None:
        self._per_endpoint[delivery.endpoint_id] += 1
        task = asyncio.create_task(self._deliver(delivery))
        self._tasks[task] = delivery
        metrics.IN_FLIGHT.inc()
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        delivery = self._tasks.pop(task)
        metrics.IN_FLIGHT.dec()
        self._per_endpoint[delivery.endpoint_id] -= 1
        if self._per_endpoint[delivery.endpoint_id] <= 0:
            del self._per_endpoint[delivery.endpoint_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery task failed", exc_info=task.exception())
        self._wake.set()

    async def _deliver(self, delivery: Claimed) -> None:
        result = await attempt(
            self._session,
            url=delivery.url,
            message_id=delivery.message_id,
            secret=delivery.secret,
            payload=delivery.payload,
            settings=self._settings,
        )
        if result.ok:
            self._recorder.succeeded(delivery, result.status or 200)
        else:
            await self._recorder.failed(delivery, result)

    async def stop(self, grace: float) -> None:
        """Take no new work; let deliveries in flight finish within `grace` seconds; hand
        the rest back to Postgres as due now (another worker, or this one restarted,
        sends them)."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        unfinished = [d.id for t, d in self._tasks.items() if not t.done()]
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if unfinished:
            await self._pool.execute(
                """UPDATE webhook_deliveries SET next_attempt_at = now()
                   WHERE id = ANY($1) AND status = 'pending'""",
                unfinished,
            )
