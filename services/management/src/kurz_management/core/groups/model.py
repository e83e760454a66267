"""Link groups in the domain's own words: what a client asks for, what is stored, and
why a request is refused. Every API family maps its wire shape onto these."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

GroupErrorKind = Literal["invalid", "not_found", "forbidden"]

WEBHOOK_METRICS: frozenset[str] = frozenset({"C", "P"})  # C: clicks, P: unique people
WEBHOOK_FREQUENCIES: frozenset[int] = frozenset({1, 50, 100, 200, 300, 500, 1000})


class GroupError(Exception):
    """A refused group request. `field` names the domain field at fault (adapters render
    it in their own vocabulary); nothing was written when this is raised."""

    def __init__(self, kind: GroupErrorKind, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field


class GroupSpec(msgspec.Struct, kw_only=True):
    """What a client asks a group to be.

    UNSET means "not given": on create the default applies, on update the value stays.
    None on an optional setting clears it; `max_clicks` 0 or None means unlimited.
    Passwords arrive in clear and are hashed before storage.
    """

    name: str | UnsetType = UNSET
    memo: str | UnsetType | None = UNSET
    push_subscribe: bool | UnsetType = UNSET
    qr_bypass: bool | UnsetType = UNSET
    block_overseas_stats: bool | UnsetType = UNSET
    push_notify: bool | UnsetType = UNSET
    mail_notify: bool | UnsetType = UNSET
    stats_password: str | UnsetType | None = UNSET
    starts_at: datetime | UnsetType | None = UNSET
    ends_at: datetime | UnsetType | None = UNSET
    expire_url: str | UnsetType | None = UNSET
    password: str | UnsetType | None = UNSET
    max_clicks: int | UnsetType | None = UNSET
    webhook_enabled: bool | UnsetType = UNSET
    # How its webhooks are signed: "standard" (Standard Webhooks) or "vivoldi" (Vivoldi's
    # own headers, for groups made through that family).
    webhook_format: str | UnsetType = UNSET
    webhook_url: str | UnsetType | None = UNSET
    webhook_metric: str | UnsetType = UNSET
    webhook_frequency: int | UnsetType = UNSET


class GroupRecord(msgspec.Struct, kw_only=True, frozen=True):
    """A stored group as every family reads it (secrets and password hashes left out)."""

    id: int
    workspace_id: int
    name: str
    memo: str | None
    push_subscribe: bool
    qr_bypass: bool
    block_overseas_stats: bool
    push_notify: bool
    mail_notify: bool
    has_stats_password: bool
    starts_at: datetime | None
    ends_at: datetime | None
    expire_url: str | None
    has_password: bool
    max_clicks: int | None
    webhook_enabled: bool
    webhook_url: str | None
    webhook_metric: str
    webhook_frequency: int
    webhook_format: str  # "standard" or "vivoldi", as GroupSpec
    link_count: int
    created_at: datetime
    updated_at: datetime


class GroupWrite(msgspec.Struct, frozen=True):
    """The outcome of a create or update: the group, and the webhook secret when this
    write generated one (it is shown once; None otherwise)."""

    group: GroupRecord
    new_webhook_secret: str | None


class GroupPage(msgspec.Struct, frozen=True):
    groups: list[GroupRecord]
    total: int
