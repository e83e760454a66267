"""Vivoldi link-group request and response shapes, key for key."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from kurz_management import constraints as c
from kurz_management.core.groups.model import WEBHOOK_FREQUENCIES, WEBHOOK_METRICS
from kurz_management.core.groups.rules import MEMO_MAX, NAME_MAX, PASSWORD_MAX
from kurz_management.vivoldi.fields import YN
from kurz_management.vivoldi.paging import Page

Name = Annotated[
    str, c.declared(minLength=1, maxLength=NAME_MAX, pattern=c.anchored(r"[^\u0000]*\S[^\u0000]*"))
]
Memo = Annotated[str, c.text_meta(MEMO_MAX)]
Password = Annotated[str, c.text_meta(PASSWORD_MAX)]
Metric = Annotated[str, c.declared(enum=sorted(WEBHOOK_METRICS))]
Frequency = Annotated[int, c.declared(enum=sorted(WEBHOOK_FREQUENCIES))]


class GroupSettings(msgspec.Struct, kw_only=True):
    """Fields:
    memo: A private note.
    notfSubscYn: Y: offer visitors of the group's links push notifications.
    qrBypassYn: Y: QR codes of the group's links carry the destination itself.
    blockOverseasSticsYn: Y: clicks from outside the workspace's home country are not counted.
    pushNotifyYn: Y: push notifications on click milestones (plan permitting).
    mailNotifyYn: Y: e-mail notifications on click milestones (plan permitting).
    nonmemberSticsPwd: Password of the group's public statistics page (/stats/g/{grpIdx});
        empty: no page.
    strtYmdt: When the group's links start redirecting (YYYY-MM-DD HH:MM:SS).
    endYmdt: When the group's links stop redirecting (YYYY-MM-DD HH:MM:SS).
    expireUrl: Where visitors go once the links have ended.
    pwd: A password visitors of the group's links must enter.
    acesMaxCnt: Counted clicks after which the group's links stop (0: unlimited).
    webhookEnableYn: Y: send group webhooks (Enterprise plan).
    webhookCallbackUrl: Where group webhooks are POSTed.
    webhookMetric: What the webhook reports.
    webhookFrequency: How often the webhook fires.
    """

    memo: Memo | UnsetType | None = UNSET
    notfSubscYn: YN | UnsetType | None = UNSET
    qrBypassYn: YN | UnsetType | None = UNSET
    blockOverseasSticsYn: YN | UnsetType | None = UNSET
    pushNotifyYn: YN | UnsetType | None = UNSET
    mailNotifyYn: YN | UnsetType | None = UNSET
    nonmemberSticsPwd: Password | UnsetType | None = UNSET
    strtYmdt: c.VivoldiTime | UnsetType | None = UNSET
    endYmdt: c.VivoldiTime | UnsetType | None = UNSET
    expireUrl: c.OptionalWebUrl | UnsetType | None = UNSET
    pwd: Password | UnsetType | None = UNSET
    acesMaxCnt: c.MaxClicks | UnsetType | None = UNSET
    webhookEnableYn: YN | UnsetType | None = UNSET
    webhookCallbackUrl: c.OptionalWebhookUrl | UnsetType | None = UNSET
    webhookMetric: Metric | UnsetType | None = UNSET
    webhookFrequency: Frequency | UnsetType | None = UNSET


class VivoldiGroupCreate(GroupSettings, kw_only=True):
    """POST /api/link-group/v1/create.

    Fields:
        nm: The group's name.
    """

    nm: Name


class VivoldiGroupUpdate(GroupSettings, kw_only=True):
    """PUT /api/link-group/v1/update: fields left out keep their value.

    Fields:
        grpIdx: The group to change.
        nm: A new name.
    """

    grpIdx: c.Id
    nm: Name | UnsetType = UNSET


class VivoldiGroupCreated(msgspec.Struct):
    """Fields:
    grpIdx: The new group's id.
    webhookSecretKey: The webhook signing secret, when webhooks are on; else null.
    """

    grpIdx: int
    webhookSecretKey: str | None


class VivoldiGroup(msgspec.Struct):
    """One group in /api/link-group/v1/list and v2/list.

    Fields:
        idx: The group's id (grpIdx).
        nm: Its name.
        memo: Its note.
        linkCnt: Its live links.
        notfSubscYn: Y: offer visitors of the group's links push notifications.
        qrBypassYn: Y: QR codes of the group's links carry the destination itself.
        blockOverseasSticsYn: Y: clicks from outside the workspace's home country are not counted.
        pushNotifyYn: Y: push notifications on click milestones (plan permitting).
        mailNotifyYn: Y: e-mail notifications on click milestones (plan permitting).
        webhookEnableYn: Y: send group webhooks (Enterprise plan).
        webhookCallbackUrl: Where group webhooks are POSTed.
        webhookMetric: What the webhook reports.
        webhookFrequency: How often the webhook fires.
        regYmdt: When it was created (YYYY-MM-DD HH:MM:SS).
        modYmdt: When it last changed.
    """

    idx: int
    nm: c.NonEmpty
    memo: str | None
    linkCnt: int
    notfSubscYn: YN
    qrBypassYn: YN
    blockOverseasSticsYn: YN
    pushNotifyYn: YN
    mailNotifyYn: YN
    webhookEnableYn: YN
    webhookCallbackUrl: str | None
    webhookMetric: str
    webhookFrequency: int
    regYmdt: str
    modYmdt: str


class VivoldiGroupListQuery(msgspec.Struct, kw_only=True):
    """GET /api/link-group/v1/list.

    Fields:
        grpIdx: Only this group.
        nm: Only groups whose name contains this.
    """

    grpIdx: c.Id | None = None
    nm: c.Text | None = None


class VivoldiGroupPageQuery(msgspec.Struct, kw_only=True):
    """GET /api/link-group/v2/list.

    Fields:
        nm: Only groups whose name contains this.
        pages: Page number, from 1 (30 groups a page).
    """

    nm: c.Text | None = None
    pages: Page = 1


class VivoldiGroupDeleteQuery(msgspec.Struct, kw_only=True):
    """DELETE /api/link-group/v1/delete.

    Fields:
        grpIdx: The group to delete.
    """

    grpIdx: c.Id
