"""The native webhook and notification routes and their OpenAPI entries (appended to
native/routes.py's list)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from kurz_management.native.routing import native_route
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

_HOOK = "/api/v1/webhooks/{webhook_id}"


routes: list[BaseRoute] = [
    native_route(
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
    native_route(
        "GET",
        "/api/v1/webhooks",
        handlers.list_webhooks,
        "List the workspace's webhooks (workspace- and link-level)",
        response=WebhookList,
    ),
    native_route(
        "GET", _HOOK, handlers.get_webhook, "Get a webhook", response=WebhookEnvelope, errors=(404,)
    ),
    native_route(
        "DELETE",
        _HOOK,
        handlers.delete_webhook,
        "Remove a webhook (its delivery history stays)",
        errors=(404,),
        status=204,
    ),
    native_route(
        "GET",
        f"{_HOOK}/deliveries",
        handlers.list_deliveries,
        "List a webhook's deliveries: status, attempts, last error, next attempt",
        response=DeliveryPage,
        query=DeliveryQuery,
        errors=(400, 404),
    ),
    native_route(
        "POST",
        _HOOK + "/deliveries/{delivery_id}/replay",
        handlers.replay_delivery,
        "Send a delivery again: same body and webhook-id, from the first try",
        response=DeliveryEnvelope,
        errors=(403, 404, 409),
        status=202,
        description="409 while the webhook's URL is disabled: enable it first.",
    ),
    native_route(
        "POST",
        f"{_HOOK}/enable",
        handlers.enable_webhook,
        "Re-enable a webhook whose URL was disabled after repeated failures",
        response=EnableResult,
        errors=(403, 404),
    ),
    native_route(
        "GET",
        "/api/v1/notifications",
        handlers.list_notifications,
        "List the workspace's notifications (group click milestones, disabled webhooks)",
        response=NotificationList,
        query=NotificationQuery,
        errors=(400,),
    ),
]
