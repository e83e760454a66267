"""The native webhook and notification routes and their OpenAPI entries (appended to
native/routes.py's list)."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route

from kurz_management import openapi
from kurz_management.native.endpoint import Handler, endpoint
from kurz_management.native.schema import Error
from kurz_management.webhooks import handlers
from kurz_management.webhooks.schema import (
    DeliveryEnvelope,
    DeliveryPage,
    DeliveryQuery,
    EnableResult,
    NotificationList,
    NotificationQuery,
    WebhookCreate,
    WebhookCreatedEnvelope,
    WebhookEnvelope,
    WebhookList,
)

FAMILY = "native"
SECURITY = "bearer"
_COMMON = (401, 429, 503)
_HOOK = "/api/v1/webhooks/{webhook_id}"


def _route(
    method: str,
    path: str,
    handler: Handler,
    summary: str,
    *,
    request: Any = None,
    response: Any = None,
    query: Any = None,
    errors: tuple[int, ...] = (),
    status: int = 200,
    description: str = "",
) -> Route:
    openapi.register(
        method,
        path,
        FAMILY,
        request,
        response,
        summary=summary,
        description=description,
        query_type=query,
        errors=dict.fromkeys(sorted({*_COMMON, *errors}), Error),
        status=status,
        security=SECURITY,
    )
    return Route(path, endpoint(handler), methods=[method])


routes: list[BaseRoute] = [
    _route(
        "POST",
        "/api/v1/webhooks",
        handlers.create_webhook,
        "Register a webhook (for one link with linkId, else for every link)",
        request=WebhookCreate,
        response=WebhookCreatedEnvelope,
        errors=(400, 403, 404, 413, 422),
        status=201,
        description="Deliveries are signed per Standard Webhooks with the secret returned "
        "here, once. A URL that resolves to a loopback, private, link-local or metadata "
        "address is refused (422) unless KURZ_WEBHOOK_ALLOW_PRIVATE is set. Needs the "
        "webhooks plan entitlement (403).",
    ),
    _route(
        "GET",
        "/api/v1/webhooks",
        handlers.list_webhooks,
        "List the workspace's webhooks (workspace- and link-level)",
        response=WebhookList,
    ),
    _route(
        "GET", _HOOK, handlers.get_webhook, "Get a webhook", response=WebhookEnvelope, errors=(404,)
    ),
    _route(
        "DELETE",
        _HOOK,
        handlers.delete_webhook,
        "Remove a webhook (its delivery history stays)",
        errors=(404,),
        status=204,
    ),
    _route(
        "GET",
        f"{_HOOK}/deliveries",
        handlers.list_deliveries,
        "List a webhook's deliveries: status, attempts, last error, next attempt",
        response=DeliveryPage,
        query=DeliveryQuery,
        errors=(400, 404),
    ),
    _route(
        "POST",
        _HOOK + "/deliveries/{delivery_id}/replay",
        handlers.replay_delivery,
        "Send a delivery again: same body and webhook-id, from the first try",
        response=DeliveryEnvelope,
        errors=(403, 404, 409),
        status=202,
        description="409 while the webhook's URL is disabled: enable it first.",
    ),
    _route(
        "POST",
        f"{_HOOK}/enable",
        handlers.enable_webhook,
        "Re-enable a webhook whose URL was disabled after repeated failures",
        response=EnableResult,
        errors=(403, 404),
    ),
    _route(
        "GET",
        "/api/v1/notifications",
        handlers.list_notifications,
        "List the workspace's notifications (group click milestones, disabled webhooks)",
        response=NotificationList,
        query=NotificationQuery,
        errors=(400,),
    ),
]
