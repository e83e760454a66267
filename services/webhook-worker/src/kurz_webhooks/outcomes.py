"""Record what an attempt did: success (batched), a retry at its scheduled time, or a
dead letter; and disable an endpoint that keeps failing, telling its workspace."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, NamedTuple

import asyncpg
from kurz.settings import WebhookSettings
from kurz.webhooks.retry import retry_delay

from kurz_webhooks import metrics
from kurz_webhooks.transport import Attempt

log = logging.getLogger(__name__)
FLUSH_INTERVAL = 0.05


class Claimed(NamedTuple):
    id: int
    workspace_id: int
    endpoint_id: int
    url: str
    message_id: str
    secret: str
    payload: bytes
    attempts: int  # tries made before this one
    created_at: float  # Unix seconds
    signing: str = "standard"  # standard | vivoldi


class Recorder:
    """Successes are written in batches (one UPDATE per flush): at thousands of
    deliveries a second a round trip each would be the bottleneck. A crash before the
    flush only means those deliveries are sent again: at-least-once."""

    def __init__(
        self, pool: asyncpg.Pool[Any], settings: WebhookSettings, mail_configured: bool
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._mail_configured = mail_configured
        self._succeeded: list[tuple[Claimed, int]] = []
        self._flushed = asyncio.Event()

    def succeeded(self, claimed: Claimed, status: int) -> None:
        self._succeeded.append((claimed, status))
        metrics.SUCCEEDED.inc()
        metrics.DELAY.observe(max(0.0, time.time() - claimed.created_at))

    async def flush(self) -> None:
        batch, self._succeeded = self._succeeded, []
        if not batch:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """UPDATE webhook_deliveries d SET status = 'succeeded', attempts = d.attempts + 1,
                       last_status = s.status, last_error = NULL, finished_at = now()
                   FROM unnest($1::bigint[], $2::int[]) AS s (id, status)
                   WHERE d.id = s.id AND d.status = 'pending'""",
                [c.id for c, _ in batch],
                [s for _, s in batch],
            )
            await conn.execute(
                """UPDATE webhook_endpoints SET consecutive_failures = 0
                   WHERE id = ANY($1) AND consecutive_failures <> 0""",
                sorted({c.endpoint_id for c, _ in batch}),
            )

    async def run_flusher(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FLUSH_INTERVAL)
            try:
                await self.flush()
            except (OSError, asyncpg.PostgresError):
                log.exception("could not record successful deliveries; retrying")
                await asyncio.sleep(1)

    async def failed(self, claimed: Claimed, result: Attempt) -> None:
        attempts = claimed.attempts + 1
        delay = retry_delay(self._settings.retry_schedule, attempts, result.retry_after)
        async with self._pool.acquire() as conn, conn.transaction():
            if delay is not None:
                metrics.DELIVERIES.labels("retry").inc()
                await conn.execute(
                    """UPDATE webhook_deliveries SET attempts = $2, last_status = $3,
                           last_error = $4, next_attempt_at = now() + make_interval(secs => $5)
                       WHERE id = $1 AND status = 'pending'""",
                    claimed.id,
                    attempts,
                    result.status,
                    result.error,
                    delay,
                )
                return
            metrics.DELIVERIES.labels("dead").inc()
            await conn.execute(
                """UPDATE webhook_deliveries SET status = 'dead', attempts = $2, last_status = $3,
                       last_error = $4, finished_at = now()
                   WHERE id = $1 AND status = 'pending'""",
                claimed.id,
                attempts,
                result.status,
                result.error,
            )
            await conn.execute(
                """INSERT INTO webhook_dead_letters (delivery_id, workspace_id, reason)
                   VALUES ($1, $2, $3) ON CONFLICT DO NOTHING""",
                claimed.id,
                claimed.workspace_id,
                f"no success after {attempts} attempts: {result.error}",
            )
            await self._count_endpoint_failure(conn, claimed)

    async def _count_endpoint_failure(
        self, conn: asyncpg.Connection[Any], claimed: Claimed
    ) -> None:
        failures = await conn.fetchval(
            """UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1
               WHERE id = $1 AND disabled_at IS NULL RETURNING consecutive_failures""",
            claimed.endpoint_id,
        )
        if failures is not None and failures >= self._settings.disable_after:
            await disable_endpoint(conn, claimed.endpoint_id, failures, self._mail_configured)


async def disable_endpoint(
    conn: asyncpg.Connection[Any], endpoint_id: int, failures: int, mail_configured: bool
) -> None:
    """Stop delivering to an endpoint: its waiting deliveries become dead letters (to
    replay once it is fixed and enabled again) and the workspace gets a notification."""
    reason = f"{failures} deliveries in a row failed"
    row = await conn.fetchrow(
        """UPDATE webhook_endpoints e SET disabled_at = now(), disabled_reason = $2
           FROM workspaces w WHERE e.id = $1 AND w.id = e.workspace_id AND e.disabled_at IS NULL
           RETURNING e.workspace_id, e.url, e.disabled_at, w.owner_email""",
        endpoint_id,
        reason,
    )
    if row is None:
        return
    metrics.ENDPOINTS_DISABLED.inc()
    await conn.execute(
        """WITH dead AS (
               UPDATE webhook_deliveries SET status = 'dead', last_error = 'endpoint disabled',
                   finished_at = now()
               WHERE endpoint_id = $1 AND status = 'pending' RETURNING id, workspace_id)
           INSERT INTO webhook_dead_letters (delivery_id, workspace_id, reason)
           SELECT id, workspace_id, 'endpoint disabled' FROM dead ON CONFLICT DO NOTHING""",
        endpoint_id,
    )
    problem = (
        "the workspace has no owner email"
        if not row["owner_email"]
        else None
        if mail_configured
        else "SMTP is not configured"
    )
    await conn.execute(
        """INSERT INTO notifications (workspace_id, kind, channel, dedupe_key, recipient,
               subject, body, data, status, last_error)
           VALUES ($1, 'webhook.endpoint_disabled', 'mail', $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT DO NOTHING""",
        row["workspace_id"],
        f"endpoint:{endpoint_id}:{row['disabled_at'].timestamp():.0f}",
        row["owner_email"],
        "kurz: a webhook endpoint was disabled",
        f"Webhook deliveries to {row['url']} stopped: {reason}. Fix the endpoint, enable it "
        "again, and replay its dead letters.\n",
        {"endpoint_id": endpoint_id, "url": row["url"], "failures": failures},
        "skipped" if problem else "pending",
        problem,
    )
    log.warning(
        "webhook endpoint disabled", extra={"endpoint_id": endpoint_id, "failures": failures}
    )
