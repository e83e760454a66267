"""The native web push endpoints' bodies, queries and answers (camelCase, strict)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from kurz_management.constraints import (
    WEB_URL,
    CheckedId,
    CheckedSentId,
    anchored,
    declared,
)
from kurz_management.core.push import DeliveryView, MessageView, SubscriptionView

PageSize = Annotated[int, msgspec.Meta(ge=1, le=500)]

# What fits one push message: the encrypted payload of a push service is at most 4 KB.
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Body = Annotated[str, msgspec.Meta(max_length=1000)]
Url = Annotated[
    str, msgspec.Meta(min_length=1, max_length=2048), declared(pattern=anchored(WEB_URL))
]
DeliveryStatus = Literal["pending", "sent", "failed", "gone"]


class PushMessageCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Exactly one of `linkId` and `groupId`.

    Fields:
        linkId: Send to the browsers subscribed on this push link.
        groupId: Send to the browsers subscribed on any push link of this group.
        title: The notification's title.
        body: Its text.
        url: Opened when the notification is clicked (http or https).
    """

    linkId: CheckedSentId | None = None
    groupId: CheckedSentId | None = None
    title: Title
    body: Body = ""
    url: Url | None = None


class PushMessageAccepted(msgspec.Struct, kw_only=True):
    """Deliveries are queued; follow them at /api/v1/push/messages/{id}/deliveries.

    Fields:
        id: The message's id.
        subscriptions: How many subscriptions it goes to.
    """

    id: int
    subscriptions: int


class PushMessageOut(msgspec.Struct, kw_only=True):
    """A notification and how its deliveries stand.

    Fields:
        id: The message's id.
        linkId: The link whose subscribers it went to.
        groupId: The group whose subscribers it went to.
        source: api (sent through this API) or milestone (a group's click milestone, to
            the group's owners).
        title: The notification's title.
        body: Its text.
        url: Opened when it is clicked.
        subscriptions: How many subscriptions it went to.
        deliveries: Deliveries by status: pending, sent, failed, gone (the browser had
            unsubscribed: the subscription was removed).
        createdAt: When it was sent.
    """

    id: int
    linkId: int | None
    groupId: int | None
    source: str
    title: str
    body: str
    url: str | None
    subscriptions: int
    deliveries: dict[str, int]
    createdAt: datetime


class PushMessageEnvelope(msgspec.Struct):
    """Fields:
    message: The message.
    """

    message: PushMessageOut


class PageQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Newest first. Page on with `before` = the last id of the previous page.

    Fields:
        before: Only items older than this id.
        limit: Items a page.
    """

    before: CheckedId | None = None
    limit: PageSize = 50


class PushMessagePage(msgspec.Struct):
    """Fields:
    messages: Newest first.
    nextBefore: Pass as `before` for the next page; null on the last one.
    """

    messages: list[PushMessageOut]
    nextBefore: int | None


class PushDeliveryQuery(PageQuery, kw_only=True, forbid_unknown_fields=True):
    """Fields:
    status: Only deliveries in this state.
    """

    status: DeliveryStatus | None = None


class PushDeliveryOut(msgspec.Struct, kw_only=True):
    """One message to one browser. Failed attempts are retried on the webhook schedule.

    Fields:
        id: The delivery's id.
        subscriptionId: The subscription (null once removed).
        pushService: The origin of the browser's push service.
        status: pending, sent, failed (retries exhausted) or gone (the push service
            answered 404 or 410: the subscription was removed).
        attempts: Attempts so far.
        lastStatus: HTTP status of the last attempt.
        lastError: What went wrong last, if anything.
        nextAttemptAt: When it is tried again (pending only).
        createdAt: When it was queued.
        sentAt: When the push service accepted it.
    """

    id: int
    subscriptionId: int | None
    pushService: str
    status: str
    attempts: int
    lastStatus: int | None
    lastError: str | None
    nextAttemptAt: datetime | None
    createdAt: datetime
    sentAt: datetime | None


class PushDeliveryPage(msgspec.Struct):
    """Fields:
    deliveries: Newest first.
    nextBefore: Pass as `before` for the next page; null on the last one.
    """

    deliveries: list[PushDeliveryOut]
    nextBefore: int | None


class SubscriptionQuery(PageQuery, kw_only=True, forbid_unknown_fields=True):
    """Fields:
    linkId: Only subscriptions made on this link.
    groupId: Only subscriptions of this group (its links' visitors and its owners).
    """

    linkId: CheckedId | None = None
    groupId: CheckedId | None = None


class SubscriptionOut(msgspec.Struct, kw_only=True):
    """A browser that accepts notifications. Its keys are never shown.

    Fields:
        id: The subscription's id.
        linkId: The push link it subscribed on (visitors).
        groupId: Its group.
        audience: visitor (on a push link) or owner (on the group's statistics page:
            click milestones).
        pushService: The origin of the browser's push service.
        userAgent: The browser that subscribed.
        createdAt: When it subscribed.
    """

    id: int
    linkId: int | None
    groupId: int | None
    audience: str
    pushService: str
    userAgent: str | None
    createdAt: datetime


class SubscriptionPage(msgspec.Struct):
    """Fields:
    subscriptions: Newest first.
    nextBefore: Pass as `before` for the next page; null on the last one.
    """

    subscriptions: list[SubscriptionOut]
    nextBefore: int | None


def message_out(m: MessageView) -> PushMessageOut:
    return PushMessageOut(
        id=m.id, linkId=m.link_id, groupId=m.group_id, source=m.source, title=m.title,
        body=m.body, url=m.url, subscriptions=m.recipients, deliveries=m.by_status,
        createdAt=m.created_at,
    )  # fmt: skip


def delivery_out(d: DeliveryView) -> PushDeliveryOut:
    return PushDeliveryOut(
        id=d.id, subscriptionId=d.subscription_id, pushService=d.push_service,
        status=d.status, attempts=d.attempts, lastStatus=d.last_status,
        lastError=d.last_error, nextAttemptAt=d.next_attempt_at, createdAt=d.created_at,
        sentAt=d.sent_at,
    )  # fmt: skip


def subscription_out(s: SubscriptionView) -> SubscriptionOut:
    return SubscriptionOut(
        id=s.id, linkId=s.link_id, groupId=s.group_id, audience=s.audience,
        pushService=s.push_service, userAgent=s.user_agent, createdAt=s.created_at,
    )  # fmt: skip
