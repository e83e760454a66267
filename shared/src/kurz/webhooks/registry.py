"""Webhook use cases for the management API: register (SSRF-checked), list, remove,
list deliveries, replay one, re-enable an endpoint, list notifications.

Every function is scoped to a workspace: an id from another workspace is "not found".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from kurz.settings import WebhookSettings
from kurz.webhooks.payloads import FORMATS
from kurz.webhooks.signing import generate_secret
from kurz.webhooks.ssrf import Resolver, check_url


class WebhookNotFound(LookupError):
    """No such webhook, link or delivery in this workspace."""


class EndpointDisabled(RuntimeError):
    """The endpoint was disabled after repeated failures; enable it before replaying."""


class Webhook(msgspec.Struct, frozen=True):
    id: int
    workspace_id: int
    link_id: int | None  # None: fires for every link of the workspace
    url: str
    secret: str
    format: str
    enabled: bool
    created_at: datetime


class Delivery(msgspec.Struct, frozen=True):
    id: int
    workspace_id: int
    webhook_id: int | None
    source: str  # link (links.webhook_urls) | webhook (registered) | group
    link_id: int | None
    group_id: int | None
    event_type: str
    message_id: str  # the webhook-id header: the same on every attempt
    url: str
    status: str  # pending | succeeded | dead
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class Notification(msgspec.Struct, frozen=True):
    id: int
    kind: str
    channel: str
    status: str
    subject: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None


_WEBHOOK_COLUMNS = "id, workspace_id, link_id, url, secret, format, enabled, created_at"
_DELIVERY_COLUMNS = """id, workspace_id, webhook_id, source, link_id, group_id, event_type,
    message_id, url, status, attempts,
    CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at,
    last_status, last_error, created_at, finished_at"""


def _struct(cls: type[Any], row: asyncpg.Record) -> Any:
    return cls(**dict(row))


async def register_webhook(
    conn: asyncpg.Connection[Any],
    workspace_id: int,
    url: str,
    *,
    settings: WebhookSettings,
    link_id: int | None = None,
    format: str = "standard",
    resolver: Resolver | None = None,
) -> Webhook:
    """Register a webhook for a link (or the whole workspace) with a fresh secret.
    Raises UnsafeTarget (a ValueError) for a URL it may not call, ValueError for an
    unknown format, WebhookNotFound for a link outside the workspace."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(sorted(FORMATS))}")
    await check_url(url, allow_private=settings.allow_private_targets, resolver=resolver)
    if link_id is not None and not await conn.fetchval(
        "SELECT 1 FROM links WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL",
        link_id,
        workspace_id,
    ):
        raise WebhookNotFound(f"no link {link_id} in this workspace")
    row = await conn.fetchrow(
        f"""INSERT INTO webhooks (workspace_id, link_id, url, secret, format)
            VALUES ($1, $2, $3, $4, $5) RETURNING {_WEBHOOK_COLUMNS}""",
        workspace_id,
        link_id,
        url.strip(),
        generate_secret(),
        format,
    )
    return _struct(Webhook, row)  # type: ignore[no-any-return]


async def list_webhooks(
    conn: asyncpg.Connection[Any],
    workspace_id: int,
    *,
    link_id: int | None = None,
    workspace_level: bool = False,
) -> list[Webhook]:
    """A link's webhooks (`link_id`), the workspace-level ones (`workspace_level`), or all."""
    condition = ""
    args: list[object] = [workspace_id]
    if link_id is not None:
        condition, args = " AND link_id = $2", [workspace_id, link_id]
    elif workspace_level:
        condition = " AND link_id IS NULL"
    rows = await conn.fetch(
        f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1{condition} ORDER BY id",
        *args,
    )
    return [_struct(Webhook, r) for r in rows]


async def remove_webhook(conn: asyncpg.Connection[Any], workspace_id: int, webhook_id: int) -> None:
    """Remove a registered webhook; deliveries already made keep their history."""
    status: str = await conn.execute(
        "DELETE FROM webhooks WHERE id = $1 AND workspace_id = $2", webhook_id, workspace_id
    )
    if status.endswith(" 0"):
        raise WebhookNotFound(f"no webhook {webhook_id} in this workspace")


async def list_deliveries(
    conn: asyncpg.Connection[Any],
    workspace_id: int,
    *,
    webhook_id: int | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """Newest first; page on with `before_id` = the last id seen."""
    rows = await conn.fetch(
        f"""SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries
            WHERE workspace_id = $1 AND ($2::bigint IS NULL OR webhook_id = $2)
              AND ($3::text IS NULL OR status = $3) AND ($4::bigint IS NULL OR id < $4)
            ORDER BY id DESC LIMIT $5""",
        workspace_id,
        webhook_id,
        status,
        before_id,
        max(1, min(limit, 500)),
    )
    return [_struct(Delivery, r) for r in rows]


async def replay_delivery(
    conn: asyncpg.Connection[Any], workspace_id: int, delivery_id: int
) -> Delivery:
    """Send a delivery again from its first try, same body and webhook-id (receivers
    de-duplicate on it). Works for dead and succeeded deliveries alike."""
    async with conn.transaction():
        found = await conn.fetchrow(
            """SELECT e.disabled_at FROM webhook_deliveries d
               JOIN webhook_endpoints e ON e.id = d.endpoint_id
               WHERE d.id = $1 AND d.workspace_id = $2 FOR UPDATE OF d""",
            delivery_id,
            workspace_id,
        )
        if found is None:
            raise WebhookNotFound(f"no delivery {delivery_id} in this workspace")
        if found["disabled_at"] is not None:
            raise EndpointDisabled(
                "the endpoint is disabled after repeated failures; enable it first"
            )
        await conn.execute("DELETE FROM webhook_dead_letters WHERE delivery_id = $1", delivery_id)
        row = await conn.fetchrow(
            f"""UPDATE webhook_deliveries SET status = 'pending', attempts = 0,
                    next_attempt_at = now(), finished_at = NULL
                WHERE id = $1 RETURNING {_DELIVERY_COLUMNS}""",
            delivery_id,
        )
    return _struct(Delivery, row)  # type: ignore[no-any-return]


async def enable_endpoint(conn: asyncpg.Connection[Any], workspace_id: int, url: str) -> bool:
    """Let a disabled endpoint receive deliveries again; False when it was not disabled."""
    status: str = await conn.execute(
        """UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL,
               consecutive_failures = 0
           WHERE workspace_id = $1 AND url = $2 AND disabled_at IS NOT NULL""",
        workspace_id,
        url,
    )
    return status.endswith(" 1")


async def list_notifications(
    conn: asyncpg.Connection[Any], workspace_id: int, *, limit: int = 50
) -> list[Notification]:
    rows = await conn.fetch(
        """SELECT id, kind, channel, status, subject, body, data, created_at, sent_at
           FROM notifications WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2""",
        workspace_id,
        max(1, min(limit, 500)),
    )
    return [_struct(Notification, r) for r in rows]
