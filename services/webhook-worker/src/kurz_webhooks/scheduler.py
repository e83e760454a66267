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

# Claims (leases) due deliveries: oldest first, at most `$3 - held` per endpoint, skipping
# endpoints whose share is full. The scan is bounded ($6 rows) so a long queue costs
# nothing per claim. The lease is the new next_attempt_at: a worker that dies mid-flight
# leaves its deliveries due again once the lease runs out.
_CLAIM = """
WITH due AS (
    SELECT id, endpoint_id, next_attempt_at FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= now() AND NOT (endpoint_id = ANY($7::bigint[]))
    ORDER BY next_attempt_at LIMIT $6
), ranked AS (
    SELECT d.id, d.next_attempt_at,
           row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS n,
           coalesce(busy.n, 0) AS busy
    FROM due d
    LEFT JOIN unnest($1::bigint[], $2::int[]) AS busy (endpoint_id, n) USING (endpoint_id)
), picked AS (
    SELECT id FROM webhook_deliveries
    WHERE id IN (SELECT id FROM ranked WHERE n <= $3 - busy ORDER BY next_attempt_at LIMIT $4)
      AND status = 'pending' AND next_attempt_at <= now()
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $5)
FROM picked WHERE d.id = picked.id
RETURNING d.id, d.workspace_id, d.endpoint_id, d.url, d.message_id, d.secret, d.payload,
          d.attempts, extract(epoch FROM d.created_at)::float8 AS created_at, d.signing
"""
MIN_CLAIM_GAP = 0.005  # claims come at most this often: slots freed meanwhile are claimed together
# Deliveries held per endpoint (sending or queued) = per_endpoint_concurrency x PREFETCH:
# the queue keeps a fast endpoint's slots busy between two claims.
PREFETCH = 4


class Scheduler:
    """Held deliveries wait for a slot of their endpoint first and only then for a slot
    of the process, so a queue behind a slow endpoint never holds a process-wide slot."""

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
        self._endpoint_share = settings.per_endpoint_concurrency * PREFETCH
        # As many held as there are sending slots to feed, each with its queue: endpoints
        # that fill their share take no more of the total than of the sending slots.
        self._max_held = settings.concurrency * PREFETCH
        # Long enough for a held delivery to wait out its endpoint's queue and be sent.
        self._lease = settings.timeout * (PREFETCH + 1) + 10.0
        self._sending = asyncio.Semaphore(settings.concurrency)
        self._endpoint_slots: dict[int, asyncio.Semaphore] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: dict[asyncio.Task[None], Claimed] = {}
        self._held: Counter[int] = Counter()
        self._handed_back: list[int] = []

    def wake(self) -> None:
        """New deliveries were committed, or a slot freed: claim now, not at the next poll."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def run(self) -> None:
        while not self._stopping:
            # Cleared before claiming: a wake-up that comes while the claim runs leads
            # straight to the next claim.
            self._wake.clear()
            room = self._max_held - len(self._tasks)
            claimed: list[Claimed] = []
            if room > 0:
                try:
                    claimed = await self._claim(room)
                except Exception:  # the database, or a bug: keep the scheduler alive
                    log.exception("could not claim due deliveries")
                    await asyncio.sleep(1)
                for delivery in claimed:
                    self._start(delivery)
            if not (claimed and len(claimed) == room):  # else more may be due: claim again
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_INTERVAL)
            await asyncio.sleep(MIN_CLAIM_GAP)

    async def _claim(self, room: int) -> list[Claimed]:
        share = self._endpoint_share
        held = list(self._held.items())
        rows = await self._pool.fetch(
            _CLAIM,
            [e for e, _ in held],
            [n for _, n in held],
            share,
            room,
            self._lease,
            max(4 * room, 500),
            [e for e, n in held if n >= share],
        )
        return [Claimed(**dict(r)) for r in rows]

    def _start(self, delivery: Claimed) -> None:
        self._held[delivery.endpoint_id] += 1
        task = asyncio.create_task(self._deliver(delivery))
        self._tasks[task] = delivery
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        delivery = self._tasks.pop(task)
        endpoint = delivery.endpoint_id
        self._held[endpoint] -= 1
        if self._held[endpoint] <= 0:
            del self._held[endpoint]
            self._endpoint_slots.pop(endpoint, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery task failed", exc_info=task.exception())
        self._wake.set()

    async def _deliver(self, delivery: Claimed) -> None:
        slots = self._endpoint_slots.get(delivery.endpoint_id)
        if slots is None:
            slots = asyncio.Semaphore(self._settings.per_endpoint_concurrency)
            self._endpoint_slots[delivery.endpoint_id] = slots
        async with slots, self._sending:
            if self._stopping:
                self._handed_back.append(delivery.id)  # never started: due again at once
                return
            metrics.IN_FLIGHT.inc()
            try:
                result = await attempt(
                    self._session,
                    url=delivery.url,
                    message_id=delivery.message_id,
                    secret=delivery.secret,
                    payload=delivery.payload,
                    settings=self._settings,
                    signing=delivery.signing,
                    organization=delivery.workspace_id,
                )
            finally:
                metrics.IN_FLIGHT.dec()
        if result.ok:
            self._recorder.succeeded(delivery, result.status or 200)
        else:
            await self._recorder.failed(delivery, result)

    async def drain(self, horizon: float = 0.0) -> int:
        """Burst mode: send every delivery due now, and those that fall due within
        `horizon` seconds (retries on a short schedule), until none is left in that
        window; then return how many attempts were made."""
        attempts = 0
        while True:
            room = self._max_held - len(self._tasks)
            claimed = await self._claim(room) if room > 0 else []
            for delivery in claimed:
                self._start(delivery)
            attempts += len(claimed)
            if self._tasks:
                await asyncio.wait(list(self._tasks), return_when=asyncio.FIRST_COMPLETED)
                continue
            if claimed:
                continue
            await self._recorder.flush()  # successes are batched: record them first
            wait = await self._pool.fetchval(
                """SELECT extract(epoch FROM min(next_attempt_at) - now())::float8
                   FROM webhook_deliveries WHERE status = 'pending'"""
            )
            if wait is None or wait > horizon:
                return attempts
            await asyncio.sleep(max(wait, 0.0) + MIN_CLAIM_GAP)

    async def stop(self, grace: float) -> None:
        """Take no new work; let deliveries being sent finish within `grace` seconds; hand
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
        back = unfinished + self._handed_back
        if back:
            await self._pool.execute(
                """UPDATE webhook_deliveries SET next_attempt_at = now()
                   WHERE id = ANY($1) AND status = 'pending'""",
                back,
            )
