"""Web push use cases: send a notification to the subscribers of a link or a group, and
read what was sent, to whom, and how it went. The webhook worker delivers.

Another workspace's link, group or message is "not found", as everywhere in kurz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from kurz import push

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.links.guard import database_available
from kurz_management.core.links.service import LinkError

DELIVERY_STATUSES = ("pending", "sent", "failed", "gone")


class MessageView(msgspec.Struct, frozen=True):
    id: int
    link_id: int | None
    group_id: int | None
    source: str
    title: str
    body: str
    url: str | None
    recipients: int
    by_status: dict[str, int]
    created_at: datetime


class DeliveryView(msgspec.Struct, frozen=True):
    id: int
    subscription_id: int | None
    push_service: str  # the endpoint's origin: the rest identifies the browser
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None


class SubscriptionView(msgspec.Struct, frozen=True):
    id: int
    link_id: int | None
    group_id: int | None
    audience: str
    push_service: str
    user_agent: str | None
    created_at: datetime


@asynccontextmanager
async def _connection(ctx: AppContext) -> AsyncIterator[asyncpg.Connection[Any]]:
    with database_available():
        async with ctx.pool.acquire() as conn:
            yield conn


def origin(endpoint: str) -> str:
    scheme, _, rest = endpoint.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _require_push(ctx: AppContext) -> None:
    if push.public_key(ctx.settings.push) is None:
        raise LinkError("conflict", "web push is not configured on this server (VAPID keys)")


async def send(
    ctx: AppContext,
    principal: Principal,
    *,
    link_id: int | None,
    group_id: int | None,
    title: str,
    body: str,
    url: str | None,
) -> tuple[int, int]:
    """Queue a notification for every subscription of the link (its visitors) or of the
    group (the visitors of its links): (message id, recipients)."""
    _require_push(ctx)
    if (link_id is None) == (group_id is None):
        raise LinkError("invalid", "give exactly one of linkId and groupId", field="linkId")
    table, target = ("links", link_id) if link_id is not None else ("link_groups", group_id)
    async with _connection(ctx) as conn, conn.transaction():
        found = await conn.fetchval(
            f"SELECT 1 FROM {table} WHERE id = $1 AND workspace_id = $2",
            target,
            principal.workspace_id,
        )
        if found is None:
            kind = "link" if link_id is not None else "group"
            raise LinkError("not_found", f"no {kind} with id {target}")
        message = push.Message(
            principal.workspace_id, title, body, url, link_id=link_id, group_id=group_id
        )
        created = await push.create_message(conn, message)
    assert created is not None  # only milestones carry a dedupe key
    return created


_MESSAGE = """
SELECT m.id, m.link_id, m.group_id, m.source, m.title, m.body, m.url, m.recipients,
       m.created_at,
       coalesce((SELECT jsonb_object_agg(status, n) FROM (
           SELECT status, count(*) AS n FROM push_deliveries d WHERE d.message_id = m.id
           GROUP BY status) s), '{}') AS by_status
FROM push_messages m
"""


def _message(row: asyncpg.Record) -> MessageView:
    counts = row["by_status"]
    counts = msgspec.json.decode(counts) if isinstance(counts, str) else counts
    return MessageView(
        row["id"], row["link_id"], row["group_id"], row["source"], row["title"], row["body"],
        row["url"], row["recipients"], {s: int(counts.get(s, 0)) for s in DELIVERY_STATUSES},
        row["created_at"],
    )  # fmt: skip


async def messages(
    ctx: AppContext, principal: Principal, *, before: int | None, limit: int
) -> list[MessageView]:
    async with _connection(ctx) as conn:
        rows = await conn.fetch(
            _MESSAGE + "WHERE m.workspace_id = $1 AND ($2::bigint IS NULL OR m.id < $2) "
            "ORDER BY m.id DESC LIMIT $3",
            principal.workspace_id, before, limit,
        )  # fmt: skip
    return [_message(r) for r in rows]


async def message(ctx: AppContext, principal: Principal, message_id: int) -> MessageView:
    async with _connection(ctx) as conn:
        row = await conn.fetchrow(
            _MESSAGE + "WHERE m.workspace_id = $1 AND m.id = $2",
            principal.workspace_id,
            message_id,
        )
    if row is None:
        raise LinkError("not_found", f"no push message with id {message_id}")
    return _message(row)


async def deliveries(
    ctx: AppContext,
    principal: Principal,
    message_id: int,
    *,
    status: str | None,
    before: int | None,
    limit: int,
) -> list[DeliveryView]:
    await message(ctx, principal, message_id)  # 404 for another workspace's message
    async with _connection(ctx) as conn:
        rows = await conn.fetch(
            """SELECT id, subscription_id, endpoint, status, attempts, last_status,
                      last_error, next_attempt_at, created_at, sent_at
               FROM push_deliveries WHERE message_id = $1
                 AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR id < $3)
               ORDER BY id DESC LIMIT $4""",
            message_id, status, before, limit,
        )  # fmt: skip
    return [
        DeliveryView(
            r["id"],
            r["subscription_id"],
            origin(r["endpoint"]),
            r["status"],
            r["attempts"],
            r["last_status"],
            r["last_error"],
            r["next_attempt_at"] if r["status"] == "pending" else None,
            r["created_at"],
            r["sent_at"],
        )
        for r in rows
    ]


async def subscriptions(
    ctx: AppContext,
    principal: Principal,
    *,
    link_id: int | None,
    group_id: int | None,
    before: int | None,
    limit: int,
) -> list[SubscriptionView]:
    async with _connection(ctx) as conn:
        rows = await conn.fetch(
            """SELECT id, link_id, group_id, audience, endpoint, user_agent, created_at
               FROM push_subscriptions WHERE workspace_id = $1
                 AND ($2::bigint IS NULL OR link_id = $2)
                 AND ($3::bigint IS NULL OR group_id = $3)
                 AND ($4::bigint IS NULL OR id < $4)
               ORDER BY id DESC LIMIT $5""",
            principal.workspace_id, link_id, group_id, before, limit,
        )  # fmt: skip
    return [
        SubscriptionView(
            r["id"],
            r["link_id"],
            r["group_id"],
            r["audience"],
            origin(r["endpoint"]),
            r["user_agent"],
            r["created_at"],
        )
        for r in rows
    ]


async def unsubscribe(ctx: AppContext, principal: Principal, subscription_id: int) -> None:
    async with _connection(ctx) as conn:
        status = await conn.execute(
            "DELETE FROM push_subscriptions WHERE id = $1 AND workspace_id = $2",
            subscription_id,
            principal.workspace_id,
        )
    if status == "DELETE 0":
        raise LinkError("not_found", f"no push subscription with id {subscription_id}")
