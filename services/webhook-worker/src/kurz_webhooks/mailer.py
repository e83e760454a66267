"""Send notification emails (group click milestones, disabled endpoints) over SMTP."""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import asyncpg
from kurz.settings import WebhookSettings

from kurz_webhooks import metrics
from kurz_webhooks.rounds import run_rounds

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
POLL_INTERVAL = 1.0
LEASE = 120.0

_CLAIM = """
UPDATE notifications n SET attempts = n.attempts + 1,
    next_attempt_at = now() + make_interval(secs => $1)
FROM (SELECT id FROM notifications
      WHERE status = 'pending' AND channel = 'mail' AND next_attempt_at <= now()
      ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED) due
WHERE n.id = due.id
RETURNING n.id, n.recipient, n.subject, n.body, n.attempts
"""


def build_message(
    settings: WebhookSettings, recipient: str, subject: str, body: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    return message


async def send_mail(settings: WebhookSettings, message: EmailMessage) -> None:
    """`smtp_tls` means implicit TLS on port 465 and STARTTLS on any other port."""
    implicit = settings.smtp_tls and settings.smtp_port == 465
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user,
        password=settings.smtp_password,
        use_tls=implicit,
        start_tls=settings.smtp_tls and not implicit,
        timeout=settings.timeout * 2,
    )


class Mailer:
    def __init__(self, pool: asyncpg.Pool[Any], settings: WebhookSettings) -> None:
        self._pool = pool
        self._settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        await run_rounds(stop, self.send_due, "notification", POLL_INTERVAL)

    async def send_due(self) -> int:
        rows = await self._pool.fetch(_CLAIM, LEASE)
        for row in rows:
            await self._send_one(row)
        return len(rows)

    async def _send_one(self, row: asyncpg.Record) -> None:
        try:
            await send_mail(
                self._settings,
                build_message(self._settings, row["recipient"], row["subject"], row["body"]),
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            metrics.NOTIFICATIONS.labels("failed").inc()
            final = row["attempts"] >= MAX_ATTEMPTS
            await self._pool.execute(
                """UPDATE notifications SET last_error = $2,
                       status = CASE WHEN $3 THEN 'failed' ELSE status END,
                       next_attempt_at = now() + make_interval(secs => $4)
                   WHERE id = $1""",
                row["id"],
                f"{type(exc).__name__}: {exc}"[:500],
                final,
                30.0 * 2 ** row["attempts"],
            )
            return
        metrics.NOTIFICATIONS.labels("sent").inc()
        await self._pool.execute(
            """UPDATE notifications SET status = 'sent', sent_at = now(), last_error = NULL
               WHERE id = $1""",
            row["id"],
        )
