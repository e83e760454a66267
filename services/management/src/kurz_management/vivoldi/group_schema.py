"""Vivoldi link-group request and response shapes, key for key."""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

from kurz_management.vivoldi.fields import YN

MAX_ID = 2**63 - 1


class GroupSettings(msgspec.Struct, kw_only=True):
    memo: str | UnsetType | None = UNSET
    notfSubscYn: YN | UnsetType | None = UNSET
    qrBypassYn: YN | UnsetType | None = UNSET
    blockOverseasSticsYn: YN | UnsetType | None = UNSET
    pushNotifyYn: YN | UnsetType | None = UNSET
    mailNotifyYn: YN | UnsetType | None = UNSET
    nonmemberSticsPwd: str | UnsetType | None = UNSET
    strtYmdt: str | UnsetType | None = UNSET
    endYmdt: str | UnsetType | None = UNSET
    expireUrl: str | UnsetType | None = UNSET
    pwd: str | UnsetType | None = UNSET
    acesMaxCnt: int | UnsetType | None = UNSET
    webhookEnableYn: YN | UnsetType | None = UNSET
    webhookCallbackUrl: str | UnsetType | None = UNSET
    webhookMetric: str | UnsetType | None = UNSET
    webhookFrequency: int | UnsetType | None = UNSET


class VivoldiGroupCreate(GroupSettings, kw_only=True):
    """POST /api/link-group/v1/create."""

    nm: str


class VivoldiGroupUpdate(GroupSettings, kw_only=True):
    """PUT /api/link-group/v1/update: fields left out keep their value."""

    grpIdx: int
    nm: str | UnsetType = UNSET


class VivoldiGroupCreated(msgspec.Struct):
    grpIdx: int
    webhookSecretKey: str | None


class VivoldiGroup(msgspec.Struct):
    """One group in /api/link-group/v1/list and v2/list."""

    idx: int
    nm: str
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
    """GET /api/link-group/v1/list."""

    grpIdx: int | None = None
    nm: str | None = None


class VivoldiGroupPageQuery(msgspec.Struct, kw_only=True):
    """GET /api/link-group/v2/list."""

    nm: str | None = None
    pages: int = 1


class VivoldiGroupDeleteQuery(msgspec.Struct, kw_only=True):
    """DELETE /api/link-group/v1/delete."""

    grpIdx: int
