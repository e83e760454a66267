"""Send web push deliveries: each message encrypted for its subscription (RFC 8291,
aes128gcm), signed with kurz's VAPID key (RFC 8292), POSTed to the browser's push
service (RFC 8030). Claimed from Postgres like webhook deliveries and retried on the
same schedule; a push service's 404 or 410 means the browser unsubscribed, so that
subscription is deleted."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
import asyncpg
from kurz.settings import PushSettings, WebhookSettings
from kurz.webhooks.retry import parse_retry_after
from kurz.webhooks.ssrf import UnsafeTarget, check_addresses, ip_literal, parse_target
from py_vapid import Vapid
from pywebpush import WebPusher

from kurz_webhooks import metrics
from kurz_webhooks.rounds import run_rounds

log = logging.getLogger(__name__)
POLL_INTERVAL = 1.0
BATCH = 50
LEASE = 120.0  # seconds a claimed delivery is left alone before another round retries it
_GONE = frozenset({404, 410})

_CLAIM = """
UPDATE push_deliveries d SET attempts = d.attempts + 1,
    next_attempt_at = now() + make_interval(secs => $1)
FROM (SELECT pd.id FROM push_deliveries pd
      WHERE pd.status = 'pending' AND pd.next_attempt_at <= now() + make_interval(secs => $3)
      ORDER BY pd.next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) due,
     push_messages m, push_subscriptions s
WHERE d.id = due.id AND m.id = d.message_id AND s.id = d.subscription_id
RETURNING d.id, d.attempts, d.subscription_id, s.endpoint, s.p256dh, s.auth,
          m.id AS message_id, m.title, m.body, m.url
"""
# A delivery whose subscription is gone (deleted after it was queued) has nothing to go
# to: it ends as 'gone' instead of waiting for ever.
_ORPHANS = """
UPDATE push_deliveries SET status = 'gone', last_error = 'subscription removed'
WHERE status = 'pending' AND subscription_id IS NULL
"""


def payload(row: asyncpg.Record) -> bytes:
    """What the service worker receives (kurz's push-sw.js reads these members)."""
    return json.dumps(
        {"title": row["title"], "body": row["body"], "url": row["url"], "id": row["message_id"]},
        separators=(",", ":"),
    ).encode()


class PushSender:
    def __init__(
        self,
        pool: asyncpg.Pool[Any],
        session: aiohttp.ClientSession,
        push: PushSettings,
        private_key: str,
        webhooks: WebhookSettings,
    ) -> None:
        self._pool = pool
        self._session = session
        self._push = push
        self._vapid = Vapid.from_string(private_key=private_key)
        self._webhooks = webhooks
        self._claims: dict[str, dict[str, str | int]] = {}  # per push service origin

    async def run(self, stop: asyncio.Event) -> None:
        await run_rounds(stop, self.send_due, "push", POLL_INTERVAL)

    async def send_due(self, horizon: float = 0.0) -> int:
        """Attempt every delivery due (within `horizon` seconds); how many were tried."""
        await self._pool.execute(_ORPHANS)
        rows = await self._pool.fetch(_CLAIM, LEASE, BATCH, horizon)
        await asyncio.gather(*(self._send_one(row) for row in rows))
        return len(rows)

    async def drain(self, horizon: float = 0.0) -> int:
        attempts = 0
        while tried := await self.send_due(horizon):
            attempts += tried
        return attempts

    def _vapid_headers(self, endpoint: str) -> dict[str, str]:
        """The VAPID Authorization header for the endpoint's push service (its origin is
        the token's audience), reused until an hour before it expires."""
        scheme, _, rest = endpoint.partition("://")
        audience = f"{scheme}://{rest.split('/', 1)[0]}"
        claims = self._claims.get(audience)
        if claims is None or int(claims["exp"]) - time.time() < 3600:
            claims = {"aud": audience, "sub": self._push.vapid_subject,
                      "exp": int(time.time()) + 12 * 3600}  # fmt: skip
            self._claims[audience] = claims
        headers: dict[str, str] = self._vapid.sign(dict(claims))
        return headers

    async def _send_one(self, row: asyncpg.Record) -> None:
        endpoint: str = row["endpoint"]
        subscription = {
            "endpoint": endpoint,
            "keys": {"p256dh": row["p256dh"], "auth": row["auth"]},
        }
        status: int | None = None
        retry_after: float | None = None
        try:
            host, port = parse_target(endpoint)
            if ip_literal(host) is not None:
                # aiohttp skips the guarded resolver for IP literals: check them here.
                await check_addresses(
                    host, port, allow_private=self._webhooks.allow_private_targets
                )
            headers = {
                **self._vapid_headers(endpoint),
                "content-type": "application/octet-stream",
                "urgency": "normal",
            }
            pusher = WebPusher(subscription, aiohttp_session=self._session)
            response = await pusher.send_async(
                payload(row), headers, ttl=self._push.ttl, timeout=self._webhooks.timeout
            )
            assert isinstance(response, aiohttp.ClientResponse)
            status = response.status
            retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except UnsafeTarget as exc:
            error = f"refused: {exc}"
        except TimeoutError:
            error = f"no answer within {self._webhooks.timeout:g}s"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        await self._record(row, status, error, retry_after)

    async def _record(
        self, row: asyncpg.Record, status: int | None, error: str | None, retry_after: float | None
    ) -> None:
        if error is None:
            metrics.PUSH.labels("sent").inc()
            await self._pool.execute(
                """UPDATE push_deliveries SET status = 'sent', sent_at = now(),
                       last_status = $2, last_error = NULL WHERE id = $1""",
                row["id"], status,
            )  # fmt: skip
            return
        if status in _GONE:
            metrics.PUSH.labels("gone").inc()
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    """UPDATE push_deliveries SET status = 'gone', last_status = $2,
                           last_error = $3 WHERE id = $1""",
                    row["id"], status, error,
                )  # fmt: skip
                await conn.execute(
                    "DELETE FROM push_subscriptions WHERE id = $1", row["subscription_id"]
                )
            return
        schedule = self._webhooks.retry_schedule
        final = row["attempts"] > len(schedule)
        wait = schedule[min(row["attempts"], len(schedule)) - 1] if schedule else 60.0
        if retry_after is not None:
            wait = max(wait, retry_after)
        metrics.PUSH.labels("failed" if final else "retrying").inc()
        await self._pool.execute(
            """UPDATE push_deliveries SET last_status = $2, last_error = $3,
                   status = CASE WHEN $4 THEN 'failed' ELSE status END,
                   next_attempt_at = now() + make_interval(secs => $5)
               WHERE id = $1""",
            row["id"], status, error, final, wait,
        )  # fmt: skip
