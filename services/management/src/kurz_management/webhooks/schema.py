"""The native webhook endpoints' bodies and queries (camelCase, strict, as the rest of
the native API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from kurz.webhooks.registry import Delivery, Notification, Webhook

from kurz_management.webhooks.service import WebhookView

DeliveryStatus = Literal["pending", "succeeded", "dead"]
PageSize = Annotated[int, msgspec.Meta(ge=1, le=500)]
DeliveryId = Annotated[int, msgspec.Meta(ge=1, le=2**62)]


class WebhookCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Without `linkId` the webhook fires for every link of the workspace."""

    url: str
    linkId: int | None = None


class WebhookOut(msgspec.Struct, kw_only=True):
    """`active` is false while the worker has the URL disabled after repeated failed
    deliveries (`disabledReason` says why); enable it again with POST .../enable."""

    id: int
    url: str
    linkId: int | None
    format: str
    active: bool
    disabledAt: datetime | None
    disabledReason: str | None
    createdAt: datetime


class WebhookCreated(WebhookOut, kw_only=True):
    """The signing secret (Standard Webhooks `whsec_...`): shown on creation only."""

    secret: str


class WebhookEnvelope(msgspec.Struct):
    webhook: WebhookOut


class WebhookCreatedEnvelope(msgspec.Struct):
    webhook: WebhookCreated


class WebhookList(msgspec.Struct):
    webhooks: list[WebhookOut]


class EnableResult(msgspec.Struct):
    """`reenabled`: whether the URL was disabled before this call."""

    webhook: WebhookOut
    reenabled: bool


class DeliveryQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Newest first. Page on with `before` = the last id of the previous page."""

    status: DeliveryStatus | None = None
    before: DeliveryId | None = None
    limit: PageSize = 50


class DeliveryOut(msgspec.Struct, kw_only=True):
    """`messageId` is the webhook-id header, the same on every attempt and replay;
    `nextAttemptAt` is set while the delivery is pending."""

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
    """`nextBefore`: pass as `before` for the next page; null on the last one."""

    deliveries: list[DeliveryOut]
    nextBefore: int | None


class DeliveryEnvelope(msgspec.Struct):
    delivery: DeliveryOut


class NotificationQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Newest first."""

    limit: PageSize = 50


class NotificationOut(msgspec.Struct, kw_only=True):
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
