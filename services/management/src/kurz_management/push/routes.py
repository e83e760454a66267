"""The native web push routes, their handlers and OpenAPI entries (appended to
native/routes.py's list): thin adapters over core.push."""

from __future__ import annotations

from kurz.validation import InvalidLink, normalize_web_url
from starlette.responses import Response
from starlette.routing import BaseRoute

from kurz_management.constraints import id_of
from kurz_management.core import push as service
from kurz_management.core.links.service import LinkError
from kurz_management.native.endpoint import Call, json_response
from kurz_management.native.routing import native_route
from kurz_management.push.schema import (
    PageQuery,
    PushDeliveryPage,
    PushDeliveryQuery,
    PushMessageAccepted,
    PushMessageCreate,
    PushMessageEnvelope,
    PushMessagePage,
    SubscriptionPage,
    SubscriptionQuery,
    delivery_out,
    message_out,
    subscription_out,
)

_MESSAGES = "/api/v1/push/messages"
_SUBSCRIPTIONS = "/api/v1/push/subscriptions"


def _next(ids: list[int], limit: int) -> int | None:
    """The `before` of the next page: none after a short one."""
    return ids[-1] if ids and len(ids) == limit else None


async def send_message(call: Call) -> Response:
    body = await call.body(PushMessageCreate)
    try:
        url = normalize_web_url(body.url) if body.url is not None else None
    except InvalidLink as exc:
        raise LinkError("invalid", exc.message, field="url") from None
    message_id, recipients = await service.send(
        call.ctx, call.principal, link_id=id_of(body.linkId), group_id=id_of(body.groupId),
        title=body.title, body=body.body, url=url,
    )  # fmt: skip
    return json_response(PushMessageAccepted(id=message_id, subscriptions=recipients), 202)


async def list_messages(call: Call) -> Response:
    query = call.query(PageQuery)
    found = await service.messages(call.ctx, call.principal, before=query.before, limit=query.limit)
    ids = [m.id for m in found]
    return json_response(PushMessagePage([message_out(m) for m in found], _next(ids, query.limit)))


async def get_message(call: Call) -> Response:
    found = await service.message(call.ctx, call.principal, call.path_id("message_id"))
    return json_response(PushMessageEnvelope(message_out(found)))


async def list_deliveries(call: Call) -> Response:
    query = call.query(PushDeliveryQuery)
    found = await service.deliveries(
        call.ctx, call.principal, call.path_id("message_id"), status=query.status,
        before=query.before, limit=query.limit,
    )  # fmt: skip
    ids = [d.id for d in found]
    return json_response(
        PushDeliveryPage([delivery_out(d) for d in found], _next(ids, query.limit))
    )


async def list_subscriptions(call: Call) -> Response:
    query = call.query(SubscriptionQuery)
    found = await service.subscriptions(
        call.ctx, call.principal, link_id=query.linkId, group_id=query.groupId,
        before=query.before, limit=query.limit,
    )  # fmt: skip
    ids = [s.id for s in found]
    return json_response(
        SubscriptionPage([subscription_out(s) for s in found], _next(ids, query.limit))
    )


async def delete_subscription(call: Call) -> Response:
    await service.unsubscribe(call.ctx, call.principal, call.path_id("subscription_id"))
    return Response(status_code=204)


routes: list[BaseRoute] = [
    native_route(
        "POST",
        _MESSAGES,
        send_message,
        "Send a web push notification to the subscribers of a link or a group",
        request=PushMessageCreate,
        response=PushMessageAccepted,
        errors=(400, 404, 409, 413, 422),
        status=202,
        description="Visitors subscribe on a push link's page (pushSubscribe / notfSubscYn). "
        "The message is queued for each subscription and delivered by the webhook worker, "
        "encrypted for the browser and signed with the server's VAPID key; failed "
        "deliveries are retried on the webhook schedule, and a subscription its push "
        "service reports gone (404, 410) is removed. 409 when the server has no VAPID keys.",
    ),
    native_route(
        "GET",
        _MESSAGES,
        list_messages,
        "List push notifications sent, with their deliveries by status",
        response=PushMessagePage,
        query=PageQuery,
        errors=(400,),
    ),
    native_route(
        "GET",
        _MESSAGES + "/{message_id}",
        get_message,
        "Get a push notification and its deliveries by status",
        response=PushMessageEnvelope,
        errors=(404,),
    ),
    native_route(
        "GET",
        _MESSAGES + "/{message_id}/deliveries",
        list_deliveries,
        "List a push notification's deliveries: status, attempts, last error",
        response=PushDeliveryPage,
        query=PushDeliveryQuery,
        errors=(400, 404),
    ),
    native_route(
        "GET",
        _SUBSCRIPTIONS,
        list_subscriptions,
        "List the browsers subscribed to the workspace's links and groups",
        response=SubscriptionPage,
        query=SubscriptionQuery,
        errors=(400,),
    ),
    native_route(
        "DELETE",
        _SUBSCRIPTIONS + "/{subscription_id}",
        delete_subscription,
        "Remove a push subscription",
        errors=(404,),
        status=204,
    ),
]
