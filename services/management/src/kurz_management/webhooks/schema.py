"""The native webhook endpoints' bodies and queries (camelCase, strict, as the rest of
the native API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from kurz.webhooks.registry import Delivery, Notification, Webhook

from kurz_management import constraints as c
from kurz_management.core.webhooks import WebhookView

DeliveryStatus = Literal["pending", "succeeded", "dead"]
PageSize = Annotated[int, msgspec.Meta(ge=1, le=500)]
DeliveryId = Annotated[int, msgspec.Meta(ge=1, le=2**62)]


class WebhookCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Without `linkId` the webhook fires for every link of the workspace.

    Fields:
        url: Where deliveries are POSTed (https; private addresses refused).
        linkId: Fire for this link only; omitted: every link.
    """

    url: c.WebhookUrl
    linkId: c.SentId | None = None


class WebhookOut(msgspec.Struct, kw_only=True):
    """`active` is false while the worker has the URL disabled after repeated failed
    deliveries (`disabledReason` says why); enable it again with POST .../enable.

    Fields:
        id: The webhook's id.
        url: Where deliveries are POSTed.
        linkId: The one link it fires for; null: every link of the workspace.
        format: The payload format.
        active: false while deliveries to the URL are disabled after repeated failures.
        disabledAt: When deliveries were disabled.
        disabledReason: Why they were disabled.
        createdAt: When it was registered.
    """

    id: int
    url: str
    linkId: int | None
    format: str
    active: bool
    disabledAt: datetime | None
    disabledReason: str | None
    createdAt: datetime


class WebhookCreated(WebhookOut, kw_only=True):
    """The signing secret (Standard Webhooks `whsec_...`): shown on creation only.

    Fields:
        secret: The signing secret (whsec_...): shown on creation only.
    """

    secret: str


class WebhookEnvelope(msgspec.Struct):
    """Fields:
    webhook: The webhook.
    """

    webhook: WebhookOut


class WebhookCreatedEnvelope(msgspec.Struct):
    """Fields:
    webhook: The webhook, with its secret.
    """

    webhook: WebhookCreated


class WebhookList(msgspec.Struct):
    """Fields:
    webhooks: The workspace's webhooks.
    """

    webhooks: list[WebhookOut]


class EnableResult(msgspec.Struct):
    """`reenabled`: whether the URL was disabled before this call.

    Fields:
        webhook: The webhook.
        reenabled: Whether the URL was disabled before this call.
    """

    webhook: WebhookOut
    reenabled: bool


class DeliveryQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Newest first. Page on with `before` = the last id of the previous page.

    Fields:
        status: Only deliveries in this state.
        before: Only deliveries older than this id (the last id of the previous page).
        limit: Deliveries a page.
    """

    status: DeliveryStatus | None = None
    before: DeliveryId | None = None
    limit: PageSize = 50


class DeliveryOut(msgspec.Struct, kw_only=True):
    """`messageId` is the webhook-id header, the same on every attempt and replay;
    `nextAttemptAt` is set while the delivery is pending.

    Fields:
        id: The delivery's id.
        webhookId: Its webhook (null for a link's webhookUrls).
        eventType: The event, e.g. link.clicked.
        messageId: The webhook-id header: the same on every attempt and replay.
        url: Where it is sent.
        status: pending, delivered or dead.
        attempts: Attempts so far.
        lastStatus: HTTP status of the last attempt.
        lastError: What went wrong last, if anything.
        nextAttemptAt: When it is tried again (pending only).
        createdAt: When the event happened.
        finishedAt: When it was delivered or given up.
    """

    id: int
    webhookId: int | None
    eventType: str
    messageId: str
    url: str
    status: str
    attempts: int
    lastStatus: int | None
    lastError: str | None
    nextAttemptAt: datetime | None
    createdAt: datetime
    finishedAt: datetime | None


class DeliveryPage(msgspec.Struct):
    """`nextBefore`: pass as `before` for the next page; null on the last one.

    Fields:
        deliveries: Newest first.
        nextBefore: Pass as before for the next page; null on the last.
    """

    deliveries: list[DeliveryOut]
    nextBefore: int | None


class DeliveryEnvelope(msgspec.Struct):
    """Fields:
    delivery: The delivery.
    """

    delivery: DeliveryOut


class NotificationQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Newest first.

    Fields:
        limit: Notifications a page.
    """

    limit: PageSize = 50


class NotificationOut(msgspec.Struct, kw_only=True):
    """Fields:
    id: The notification's id.
    kind: What happened (a group click milestone, a disabled webhook).
    channel: push or mail.
    status: Whether it was sent.
    subject: Its subject.
    body: Its text.
    data: Details: ids and figures.
    createdAt: When it was made.
    sentAt: When it was sent.
    """

    id: int
    kind: str
    channel: str
    status: str
    subject: str
    body: str
    data: dict[str, Any]
    createdAt: datetime
    sentAt: datetime | None


class NotificationList(msgspec.Struct):
    """Fields:
    notifications: Newest first.
    """

    notifications: list[NotificationOut]


def webhook_out(view: WebhookView) -> WebhookOut:
    hook, health = view.webhook, view.health
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        linkId=hook.link_id,
        format=hook.format,
        active=hook.enabled and health.disabled_at is None,
        disabledAt=health.disabled_at,
        disabledReason=health.disabled_reason,
        createdAt=hook.created_at,
    )


def webhook_created(hook: Webhook, view: WebhookView) -> WebhookCreated:
    return WebhookCreated(**msgspec.structs.asdict(webhook_out(view)), secret=hook.secret)


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        webhookId=delivery.webhook_id,
        eventType=delivery.event_type,
        messageId=delivery.message_id,
        url=delivery.url,
        status=delivery.status,
        attempts=delivery.attempts,
        lastStatus=delivery.last_status,
        lastError=delivery.last_error,
        nextAttemptAt=delivery.next_attempt_at,
        createdAt=delivery.created_at,
        finishedAt=delivery.finished_at,
    )


def notification_out(note: Notification) -> NotificationOut:
    return NotificationOut(
        id=note.id,
        kind=note.kind,
        channel=note.channel,
        status=note.status,
        subject=note.subject,
        body=note.body,
        data=note.data,
        createdAt=note.created_at,
        sentAt=note.sent_at,
    )
