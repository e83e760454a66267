"""Vivoldi link request and response shapes."""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

from kurz_management.vivoldi.fields import YN

Text = str | None | UnsetType


class LinkSettings(msgspec.Struct, kw_only=True):
    """Fields create and update share. Left out: not given; null: cleared (update)."""

    redirectType: int | UnsetType | None = UNSET
    grpIdx: int | UnsetType | None = UNSET  # 0 or null on update: leave the group
    ttl: Text = UNSET  # title; "" on update leaves it unchanged, as Vivoldi documents
    description: Text = UNSET
    metaImg: Text = UNSET
    memo: Text = UNSET
    notfSubscYn: YN | UnsetType | None = UNSET
    qrBypassYn: YN | UnsetType | None = UNSET
    pwd: Text = UNSET
    strtYmdt: Text = UNSET
    expireYmdt: Text = UNSET
    expireUrl: Text = UNSET
    acesMaxCnt: int | UnsetType | None = UNSET  # 0: unlimited
    delYmdt: Text = UNSET  # scheduled deletion


class VivoldiLinkCreate(LinkSettings, kw_only=True):
    """POST /api/link/v2/create, and each item of /api/link/v1/createBulk."""

    url: str
    domain: Text = UNSET  # "https://vvd.bz" or a bare host; default: the default domain
    brandLinkId: Text = UNSET  # custom slug; default: generated


class VivoldiLinkUpdate(LinkSettings, kw_only=True):
    """PUT /api/link/v2/update: linkId + domain identify the link."""

    linkId: str
    domain: Text = UNSET
    url: Text = UNSET


class VivoldiBulkCreate(msgspec.Struct, kw_only=True):
    links: list[VivoldiLinkCreate]


class VivoldiLink(msgspec.Struct):
    """One link in /api/link/v1/list."""

    idx: int
    linkId: str
    domain: str
    shortUrl: str
    url: str
    redirectType: int
    grpIdx: int | None
    ttl: str | None
    description: str | None
    metaImg: str | None
    memo: str | None
    notfSubscYn: YN
    qrBypassYn: YN
    pwdYn: YN
    strtYmdt: str | None
    expireYmdt: str | None
    expireUrl: str | None
    acesMaxCnt: int
    acesCnt: int
    delYmdt: str | None
    regYmdt: str
    modYmdt: str


class VivoldiLinkListQuery(msgspec.Struct, kw_only=True):
    """GET /api/link/v1/list."""

    regStartYmdt: str | None = None  # inclusive; YYYY-MM-DD or YYYY-MM-DD HH:MM:SS
    regEndYmdt: str | None = None  # inclusive: a bare day covers the whole day
    pages: int = 1
    grpIdx: int | None = None
    domain: str | None = None
    searchKwd: str | None = None  # part of the URL, linkId, title or memo


class VivoldiLinkDeleteQuery(msgspec.Struct, kw_only=True):
    """DELETE /api/link/v1/delete."""

    linkId: str
    domain: str | None = None
