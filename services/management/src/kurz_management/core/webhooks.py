"""The webhook use cases as every API family calls them: the plan gate, the workspace
scope and the registry's errors turned into LinkError, which each family already renders
in its own envelope (invalid → 422, not_found → 404, conflict → 409, forbidden → 403).

Another workspace's webhook, link or delivery is "not found", never "forbidden": an id
must not reveal that it exists elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from kurz.plans import entitlements
from kurz.validation import InvalidLink, normalize_web_url
from kurz.webhooks import registry
from kurz.webhooks.registry import Delivery, Notification, Webhook
from kurz.webhooks.ssrf import UnsafeTarget, system_resolver

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.links.guard import database_available
from kurz_management.core.links.service import LinkError

RESOLVE_TIMEOUT = 5.0  # a registration never hangs on a slow DNS server
PLAN_MESSAGE = "webhooks need the Enterprise plan"
DELIVERY_STATUSES = ("pending", "succeeded", "dead")


class EndpointHealth(msgspec.Struct, frozen=True):
    """Whether the webhook's URL still gets deliveries (the worker disables a URL whose
    deliveries keep dying), and why not."""

    disabled_at: datetime | None = None
    disabled_reason: str | None = None


class WebhookView(msgspec.Struct, frozen=True):
    webhook: Webhook
    health: EndpointHealth


def require_plan(principal: Principal) -> None:
    if not entitlements(principal.entitlements).webhooks:
        raise LinkError("forbidden", PLAN_MESSAGE)


@asynccontextmanager
async def _connection(ctx: AppContext) -> AsyncIterator[asyncpg.Connection[Any]]:
    with database_available():
        async with ctx.pool.acquire() as conn:
            yield conn


async def _bounded_resolver(host: str, port: int) -> list[str]:
    # TimeoutError is an OSError: the guard reports the host as not resolving.
    async with asyncio.timeout(RESOLVE_TIMEOUT):
        return await system_resolver(host, port)


async def register(
    ctx: AppContext,
    principal: Principal,
    url: str,
    *,
    link_id: int | None = None,
    format: str = "standard",
) -> Webhook:
    """A new webhook with its secret (shown to the caller this once)."""
    require_plan(principal)
    async with _connection(ctx) as conn:
        try:
            return await registry.register_webhook(
                conn,
                principal.workspace_id,
                url,
                settings=ctx.settings.webhooks,
                link_id=link_id,
                format=format,
                resolver=_bounded_resolver,
            )
        except registry.WebhookNotFound:
            raise LinkError("not_found", f"no link {link_id} in this workspace") from None
        except UnsafeTarget as exc:
            raise LinkError("invalid", str(exc), field="url") from None


async def list_for(
    ctx: AppContext, principal: Principal, *, link_id: int | None = None, workspace_level: bool
) -> list[Webhook]:
    async with _connection(ctx) as conn:
        return await registry.list_webhooks(
            conn, principal.workspace_id, link_id=link_id, workspace_level=workspace_level
        )


async def get(
    ctx: AppContext, principal: Principal, webhook_id: int, *, link_id: int | None = None
) -> Webhook:
    """One webhook of the workspace; with `link_id`, only one of that link's."""
    hooks = await list_for(ctx, principal, link_id=link_id, workspace_level=False)
    for hook in hooks:
        if hook.id == webhook_id:
            return hook
    raise LinkError("not_found", f"no webhook {webhook_id} in this workspace")


async def of_url(
    ctx: AppContext, principal: Principal, url: str, *, link_id: int | None
) -> list[Webhook]:
    """The webhooks of `url` at one level: a link's, or the workspace's when `link_id`
    is None."""
    hooks = await list_for(ctx, principal, link_id=link_id, workspace_level=link_id is None)
    wanted = _comparable(url)
    return [h for h in hooks if _comparable(h.url) == wanted]


async def unsubscribe_url(
    ctx: AppContext, principal: Principal, url: str, *, link_id: int | None
) -> list[Webhook]:
    """Remove every webhook of `url` at one level, as clients that key webhooks by URL
    unsubscribe; the removed ones, or not_found when there is none."""
    found = await of_url(ctx, principal, url, link_id=link_id)
    if not found:
        where = f"link {link_id}" if link_id is not None else "this workspace"
        raise LinkError("not_found", f"no webhook for {url} on {where}")
    for hook in found:
        await remove(ctx, principal, hook)
    return found


def _comparable(url: str) -> str:
    """A URL as registration stores it (scheme and host normalised), else as given."""
    try:
        return normalize_web_url(url.strip())
    except InvalidLink:
        return url.strip()


async def views(ctx: AppContext, principal: Principal, hooks: list[Webhook]) -> list[WebhookView]:
    """The webhooks with the health of their URLs, in one query."""
    async with _connection(ctx) as conn:
        rows = await conn.fetch(
            """SELECT url, disabled_at, disabled_reason FROM webhook_endpoints
               WHERE workspace_id = $1 AND url = ANY($2::text[])""",
            principal.workspace_id,
            list({h.url for h in hooks}),
        )
    health = {r["url"]: EndpointHealth(r["disabled_at"], r["disabled_reason"]) for r in rows}
    return [WebhookView(h, health.get(h.url, EndpointHealth())) for h in hooks]


async def view(ctx: AppContext, principal: Principal, hook: Webhook) -> WebhookView:
    return (await views(ctx, principal, [hook]))[0]


async def remove(ctx: AppContext, principal: Principal, hook: Webhook) -> None:
    async with _connection(ctx) as conn:
        try:
            await registry.remove_webhook(conn, principal.workspace_id, hook.id)
        except registry.WebhookNotFound:
            raise LinkError("not_found", f"no webhook {hook.id} in this workspace") from None


async def deliveries(
    ctx: AppContext,
    principal: Principal,
    hook: Webhook,
    *,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> list[Delivery]:
    if status is not None and status not in DELIVERY_STATUSES:
        raise LinkError("invalid", f"status must be one of {', '.join(DELIVERY_STATUSES)}")
    async with _connection(ctx) as conn:
        return await registry.list_deliveries(
            conn,
            principal.workspace_id,
            webhook_id=hook.id,
            status=status,
            before_id=before_id,
            limit=limit,
        )


async def replay(
    ctx: AppContext, principal: Principal, hook: Webhook, delivery_id: int
) -> Delivery:
    """Send one of this webhook's deliveries again, same body and webhook-id."""
    require_plan(principal)
    missing = LinkError("not_found", f"no delivery {delivery_id} of webhook {hook.id}")
    async with _connection(ctx) as conn:
        # The newest delivery at or below the id, of this webhook: it is the one asked
        # for only if it belongs to this webhook.
        found = await registry.list_deliveries(
            conn, principal.workspace_id, webhook_id=hook.id, before_id=delivery_id + 1, limit=1
        )
        if not found or found[0].id != delivery_id:
            raise missing
        try:
            return await registry.replay_delivery(conn, principal.workspace_id, delivery_id)
        except registry.WebhookNotFound:
            raise missing from None
        except registry.EndpointDisabled as exc:
            raise LinkError("conflict", str(exc)) from None


async def enable(ctx: AppContext, principal: Principal, hook: Webhook) -> bool:
    """Let the webhook's URL receive deliveries again; False when it was not disabled."""
    require_plan(principal)
    async with _connection(ctx) as conn:
        return await registry.enable_endpoint(conn, principal.workspace_id, hook.url)


async def notifications(ctx: AppContext, principal: Principal, limit: int) -> list[Notification]:
    async with _connection(ctx) as conn:
        return await registry.list_notifications(conn, principal.workspace_id, limit=limit)


class Endpoint(msgspec.Struct, frozen=True):
    """A URL that receives the workspace's webhooks, and what configured it: a link's
    webhook URL (`link`), a group's (`group`) or a registration (`webhook`, on one link
    or, without `link_id`, on every link)."""

    url: str
    source: str
    link_id: int | None
    group_id: int | None
    webhook_id: int | None
    label: str  # the link's short address or the group's name; "" for the workspace
    enabled: bool
    health: EndpointHealth


async def endpoints(ctx: AppContext, principal: Principal) -> list[Endpoint]:
    """Every webhook URL of the workspace, wherever it was set, with its health."""
    async with _connection(ctx) as conn:
        links = await conn.fetch(
            """SELECT l.id, l.host || '/' || l.slug AS label, u.url FROM links l,
                   unnest(l.webhook_urls) AS u (url)
               WHERE l.workspace_id = $1 AND l.deleted_at IS NULL ORDER BY l.id, u.url""",
            principal.workspace_id,
        )
        groups = await conn.fetch(
            """SELECT id, name, webhook_url, webhook_enabled FROM link_groups
               WHERE workspace_id = $1 AND webhook_url IS NOT NULL ORDER BY id""",
            principal.workspace_id,
        )
        hooks = await registry.list_webhooks(conn, principal.workspace_id)
        labels = dict(
            await conn.fetch(
                """SELECT id, host || '/' || slug FROM links
                   WHERE id = ANY($1::bigint[]) AND workspace_id = $2""",
                [h.link_id for h in hooks if h.link_id is not None],
                principal.workspace_id,
            )
        )
        health_rows = await conn.fetch(
            """SELECT url, disabled_at, disabled_reason FROM webhook_endpoints
               WHERE workspace_id = $1""",
            principal.workspace_id,
        )
    health = {r["url"]: EndpointHealth(r["disabled_at"], r["disabled_reason"]) for r in health_rows}
    found = [
        *(Endpoint(h.url, "webhook", h.link_id, None, h.id, labels.get(h.link_id, ""),
                   h.enabled, health.get(h.url, EndpointHealth())) for h in hooks),
        *(Endpoint(r["url"], "link", r["id"], None, None, r["label"], True,
                   health.get(r["url"], EndpointHealth())) for r in links),
        *(Endpoint(r["webhook_url"], "group", None, r["id"], None, r["name"],
                   r["webhook_enabled"], health.get(r["webhook_url"], EndpointHealth()))
          for r in groups),
    ]  # fmt: skip
    return found


async def recent_deliveries(
    ctx: AppContext, principal: Principal, *, status: str | None = None, limit: int = 50
) -> list[Delivery]:
    """The workspace's newest deliveries to any of its endpoints, newest first."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise LinkError("invalid", f"status must be one of {', '.join(DELIVERY_STATUSES)}")
    async with _connection(ctx) as conn:
        return await registry.list_deliveries(
            conn, principal.workspace_id, status=status, limit=limit
        )


async def replay_delivery(ctx: AppContext, principal: Principal, delivery_id: int) -> Delivery:
    """Send one of the workspace's deliveries again (whatever configured its URL), same
    body and webhook-id; another workspace's delivery is not found."""
    require_plan(principal)
    async with _connection(ctx) as conn:
        try:
            return await registry.replay_delivery(conn, principal.workspace_id, delivery_id)
        except registry.WebhookNotFound:
            raise LinkError("not_found", f"no delivery {delivery_id} in this workspace") from None
        except registry.EndpointDisabled as exc:
            raise LinkError("conflict", str(exc)) from None


async def enable_url(ctx: AppContext, principal: Principal, url: str) -> None:
    """Let a disabled URL of the workspace receive deliveries again, whatever configured
    it; not_found when the workspace has no such disabled URL."""
    require_plan(principal)
    async with _connection(ctx) as conn:
        if not await registry.enable_endpoint(conn, principal.workspace_id, url):
            raise LinkError("not_found", "this workspace has no such disabled endpoint")
