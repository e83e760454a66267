"""Linkly's webhook endpoints: workspace-level and link-level webhooks that deliver
Linkly's click payload. Linkly does not publish these shapes; kurz's choice is
documented in docs/linkly.md ("Webhooks", inferred).

In: `{"url": "https://..."}` (JSON or form, with the key and workspace as on every
Linkly call). Out: a webhook object; the secret only when it is created."""

from __future__ import annotations

from datetime import datetime

import msgspec
from kurz.validation import parse_id
from kurz.webhooks.registry import Webhook
from msgspec import UNSET, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from kurz_management import constraints as c
from kurz_management import openapi
from kurz_management.context import AppContext
from kurz_management.core import webhooks as service
from kurz_management.core.auth import Principal
from kurz_management.core.links import service as links
from kurz_management.core.webhooks import WebhookView
from kurz_management.linkly.errors import LinklyError, LinklyErrorBody
from kurz_management.linkly.handlers import json_response, link_id_of
from kurz_management.linkly.operations import FAMILY, LinklyAuthQuery
from kurz_management.linkly.request import Payload, authorized
from kurz_management.openapi import DocumentedRoute

LINKLY_FORMAT = "linkly"
_ACCEPTED_FIELDS = frozenset({"url", "api_key", "workspace_id"})
_BODY_TYPES = ("application/json", "application/x-www-form-urlencoded")


class LinklyWebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    """Fields:
    url: Where deliveries are POSTed.
    api_key: The API key, when not in the X-API-KEY header.
    workspace_id: The key's workspace, when not in the X-WORKSPACE-ID header.
    """

    url: c.WebhookUrl
    api_key: str | None = None
    workspace_id: int | str | None = None


class LinklyWebhook(msgspec.Struct):
    """`link_id` is null for a workspace-level webhook; `enabled` is false while kurz has
    the URL disabled after repeated failed deliveries. `secret` (Standard Webhooks
    `whsec_...`) appears once, in the answer that creates the webhook; `deleted` only in
    the answer that deletes it.

    Fields:
        id: The webhook's id.
        url: Where deliveries are POSTed.
        workspace_id: Its workspace.
        link_id: The one link it fires for; null: every link.
        enabled: false while the URL is disabled after repeated failures.
        created_at: When it was registered.
        secret: The signing secret: in the answer that creates it only.
        deleted: In the answer that deletes it only.
    """

    id: int
    url: str
    workspace_id: int
    link_id: int | None
    enabled: bool
    created_at: datetime
    secret: str | UnsetType = UNSET
    deleted: bool | UnsetType = UNSET


def _render(view: WebhookView, *, secret: bool = False, deleted: bool = False) -> LinklyWebhook:
    hook = view.webhook
    return LinklyWebhook(
        id=hook.id,
        url=hook.url,
        workspace_id=hook.workspace_id,
        link_id=hook.link_id,
        enabled=hook.enabled and view.health.disabled_at is None,
        created_at=hook.created_at,
        secret=hook.secret if secret else UNSET,
        deleted=True if deleted else UNSET,
    )


def _id_or_url(request: Request) -> int | str:
    """The `{webhook}` of a path: a webhook's id, or its URL-encoded URL (Linkly's
    clients unsubscribe by URL)."""
    raw: str = request.path_params["webhook"]
    if raw.isdigit():
        found = parse_id(raw)
        if found is None:
            raise LinklyError(404, f"no webhook with id {raw} in this workspace", field="id")
        return found
    return raw


def _url_of(payload: Payload) -> str:
    if not isinstance(payload.data, dict):
        raise LinklyError(400, "the body must be an object with a url")
    unknown = sorted(set(payload.fields) - _ACCEPTED_FIELDS)
    if unknown:
        raise LinklyError(422, f"unknown field {unknown[0]!r}", field=unknown[0])
    url = payload.fields.get("url")
    if not isinstance(url, str) or not url.strip():
        raise LinklyError(422, "url is required: the address that receives the clicks", field="url")
    return url


async def _list(ctx: AppContext, principal: Principal, link_id: int | None) -> Response:
    hooks = await service.list_for(ctx, principal, link_id=link_id, workspace_level=link_id is None)
    views = await service.views(ctx, principal, hooks)
    return json_response([_render(v) for v in views])


async def _add(
    ctx: AppContext, principal: Principal, payload: Payload, link_id: int | None
) -> Response:
    url = _url_of(payload)
    hook = await service.register(ctx, principal, url, link_id=link_id, format=LINKLY_FORMAT)
    return json_response(_render(await service.view(ctx, principal, hook), secret=True))


async def _delete(ctx: AppContext, principal: Principal, hook: Webhook) -> Response:
    view = await service.view(ctx, principal, hook)
    await service.remove(ctx, principal, hook)
    return json_response(_render(view, deleted=True))


async def _unsubscribe(
    ctx: AppContext, principal: Principal, url: str, link_id: int | None
) -> Response:
    """Every webhook of `url` at this level goes; the answer is the first of them, as a
    delete by id answers (the same URL registered twice is removed both times)."""
    views = await service.views(ctx, principal, await _of_url(ctx, principal, url, link_id))
    await service.unsubscribe_url(ctx, principal, url, link_id=link_id)
    return json_response(_render(views[0], deleted=True))


async def _of_url(
    ctx: AppContext, principal: Principal, url: str, link_id: int | None
) -> list[Webhook]:
    hooks = await service.of_url(ctx, principal, url, link_id=link_id)
    if not hooks:
        where = f"link {link_id}" if link_id is not None else "this workspace"
        raise LinklyError(404, f"no webhook for {url} on {where}", field="url")
    return hooks


async def list_workspace_webhooks(request: Request, ctx: AppContext) -> Response:
    principal, _ = await authorized(request, ctx)
    return await _list(ctx, principal, None)


async def add_workspace_webhook(request: Request, ctx: AppContext) -> Response:
    principal, payload = await authorized(request, ctx)
    return await _add(ctx, principal, payload, None)


async def delete_workspace_webhook(request: Request, ctx: AppContext) -> Response:
    principal, _ = await authorized(request, ctx)
    webhook_id = _id_or_url(request)
    if isinstance(webhook_id, str):
        return await _unsubscribe(ctx, principal, webhook_id, None)
    hook = await service.get(ctx, principal, webhook_id)
    if hook.link_id is not None:  # a link's webhook is deleted through its link
        raise LinklyError(404, f"no workspace webhook with id {webhook_id}", field="id")
    return await _delete(ctx, principal, hook)


async def list_link_webhooks(request: Request, ctx: AppContext) -> Response:
    principal, _ = await authorized(request, ctx, workspace_in_path=False)
    link = await links.get_link(ctx, principal, link_id_of(request))
    return await _list(ctx, principal, link.id)


async def add_link_webhook(request: Request, ctx: AppContext) -> Response:
    principal, payload = await authorized(request, ctx, workspace_in_path=False)
    return await _add(ctx, principal, payload, link_id_of(request))


async def delete_link_webhook(request: Request, ctx: AppContext) -> Response:
    principal, _ = await authorized(request, ctx, workspace_in_path=False)
    link = await links.get_link(ctx, principal, link_id_of(request))
    webhook_id = _id_or_url(request)
    if isinstance(webhook_id, str):
        return await _unsubscribe(ctx, principal, webhook_id, link.id)
    hook = await service.get(ctx, principal, webhook_id, link_id=link.id)
    return await _delete(ctx, principal, hook)


_WS_HOOKS = "/api/v1/workspace/{ws}/webhooks"
_LINK_HOOKS = "/api/v1/link/{link_id}/webhooks"
ENDPOINTS = [
    ("GET", _WS_HOOKS, list_workspace_webhooks, "List the workspace-level webhooks"),
    ("POST", _WS_HOOKS, add_workspace_webhook, "Add a webhook for every link of the workspace"),
    (
        "DELETE",
        _WS_HOOKS + "/{webhook:path}",
        delete_workspace_webhook,
        "Delete a workspace webhook, by id or by its URL-encoded URL",
    ),
    ("GET", _LINK_HOOKS, list_link_webhooks, "List a link's webhooks"),
    ("POST", _LINK_HOOKS, add_link_webhook, "Add a webhook for one link"),
    (
        "DELETE",
        _LINK_HOOKS + "/{webhook:path}",
        delete_link_webhook,
        "Delete a link's webhook, by id or by its URL-encoded URL",
    ),
]


def declared() -> list[DocumentedRoute]:
    """The webhook routes, each with its OpenAPI entry."""
    from kurz_management.linkly.endpoint import linkly_route

    return [
        linkly_route(_operation(method, path, summary), handler)
        for method, path, handler, summary in ENDPOINTS
    ]


def _operation(method: str, path: str, summary: str) -> openapi.Operation:
    adds = method == "POST"
    return openapi.operation(
        method,
        path,
        FAMILY,
        LinklyWebhookIn if adds else None,
        LinklyWebhook if method != "GET" else list[LinklyWebhook],
        errors={
            s: LinklyErrorBody
            for s in (400, 401, 403, 404, 429, 503, *((413, 422) if adds else ()))
        },
        summary=summary + " (shape inferred, see docs/linkly.md)",
        description="Deliveries use Linkly's click payload, signed per Standard "
        "Webhooks with the secret shown once on creation. Private and loopback "
        "targets are refused (422); webhooks need the webhooks plan entitlement (403).",
        request_content_types=_BODY_TYPES,
        security="linkly_key",
        query_type=LinklyAuthQuery,
    )
