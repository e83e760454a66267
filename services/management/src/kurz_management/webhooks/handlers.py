"""The native webhook endpoints: thin adapters over webhooks.service, run inside the
native family's `endpoint` wrapper (Bearer auth, rate limit, `{"error": ...}`)."""

from __future__ import annotations

from kurz.webhooks.registry import Webhook
from starlette.responses import Response

from kurz_management.constraints import id_of
from kurz_management.core import webhooks as service
from kurz_management.native.endpoint import Call, json_response
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
    delivery_out,
    notification_out,
    webhook_created,
    webhook_out,
)


async def _webhook(call: Call) -> Webhook:
    return await service.get(call.ctx, call.principal, call.path_id("webhook_id"))


async def create_webhook(call: Call) -> Response:
    body = await call.body(WebhookCreate)
    hook = await service.register(call.ctx, call.principal, body.url, link_id=id_of(body.linkId))
    view = await service.view(call.ctx, call.principal, hook)
    return json_response(WebhookCreatedEnvelope(webhook_created(hook, view)), 201)


async def list_webhooks(call: Call) -> Response:
    hooks = await service.list_for(call.ctx, call.principal, workspace_level=False)
    views = await service.views(call.ctx, call.principal, hooks)
    return json_response(WebhookList([webhook_out(v) for v in views]))


async def get_webhook(call: Call) -> Response:
    view = await service.view(call.ctx, call.principal, await _webhook(call))
    return json_response(WebhookEnvelope(webhook_out(view)))


async def delete_webhook(call: Call) -> Response:
    await service.remove(call.ctx, call.principal, await _webhook(call))
    return Response(status_code=204)


async def list_deliveries(call: Call) -> Response:
    query = call.query(DeliveryQuery)
    hook = await _webhook(call)
    found = await service.deliveries(
        call.ctx,
        call.principal,
        hook,
        status=query.status,
        before_id=query.before,
        limit=query.limit,
    )
    next_before = found[-1].id if len(found) == query.limit else None
    return json_response(DeliveryPage([delivery_out(d) for d in found], next_before))


async def replay_delivery(call: Call) -> Response:
    hook = await _webhook(call)
    delivery = await service.replay(call.ctx, call.principal, hook, call.path_id("delivery_id"))
    return json_response(DeliveryEnvelope(delivery_out(delivery)), 202)


async def enable_webhook(call: Call) -> Response:
    hook = await _webhook(call)
    reenabled = await service.enable(call.ctx, call.principal, hook)
    view = await service.view(call.ctx, call.principal, hook)
    return json_response(EnableResult(webhook_out(view), reenabled))


async def list_notifications(call: Call) -> Response:
    query = call.query(NotificationQuery)
    notes = await service.notifications(call.ctx, call.principal, query.limit)
    return json_response(NotificationList([notification_out(n) for n in notes]))
