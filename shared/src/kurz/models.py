"""The domain model shared by every service: links, groups, rules and their edge records.

Pure data: nothing here performs I/O.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Literal

import msgspec

RuleKind = Literal["rotator", "country", "platform", "language"]
Platform = Literal["ios", "android", "windows", "linux", "mac"]
PLATFORMS: frozenset[str] = frozenset({"ios", "android", "windows", "linux", "mac"})


class LinkType(enum.StrEnum):
    URL = "URL"
    MAILTO = "MAILTO"
    TEL = "TEL"
    SMS = "SMS"


REDIRECT_TYPES: frozenset[int] = frozenset({200, 301, 302, 307, 308})
"""200 is Vivoldi's "answer with a page" type; the others are HTTP redirect codes."""


class Rule(msgspec.Struct, frozen=True, omit_defaults=True):
    """A routing rule in Linkly's shape, the one every API family maps to.

    Fields:
        what: country, platform, language, or rotator.
        url: Where a matching visit goes.
        matches: The country (ISO alpha-2), platform (ios, android, windows, linux, mac) or language
            tag to match.
        percentage: rotator only: the share of visits, 0 to 100.
    """

    what: RuleKind
    url: str
    matches: str | None = None  # ISO alpha-2, platform name or language tag
    percentage: float | None = None  # rotator weight, 0..100


class LinkSpec(msgspec.Struct, kw_only=True):
    """What a client asks a link to be; every API family parses its request into this.

    `None` means "not given": on create the default applies, on update the field stays.
    """

    url: str | None = None
    domain: str | None = None
    slug: str | None = None
    title: str | None = None
    description: str | None = None
    image: str | None = None
    og_title: str | None = None
    note: str | None = None
    redirect_type: int | None = None
    link_type: LinkType | None = None
    cloaked: bool | None = None
    password: str | None = None  # plain text on the way in, hashed before storage
    starts_at: datetime | None = None
    expires_at: datetime | None = None
    expiry_url: str | None = None
    delete_at: datetime | None = None
    max_clicks: int | None = None
    tag_ids: list[int] | None = None
    forward_params: bool | None = None
    block_bots: bool | None = None
    hide_referrer: bool | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    meta_pixel_id: str | None = None
    ga4_id: str | None = None
    gtm_id: str | None = None
    tiktok_pixel_id: str | None = None
    head_tags: str | None = None
    body_tags: str | None = None
    webhook_urls: list[str] | None = None
    rules: list[Rule] | None = None
    group_id: int | None = None
    enabled: bool | None = None
    qr_bypass: bool | None = None
    push_subscribe: bool | None = None
    public_analytics: bool | None = None  # statistics shown on /stats/l/{id}


class EdgeLink(msgspec.Struct, array_like=True, frozen=True):
    """A link as the redirector needs it: msgpack-encoded under keys.link(host, slug).

    Times are Unix seconds. Field order is the wire format: append new fields at the end,
    with defaults, so older records still decode.
    """

    id: int
    workspace_id: int
    url: str
    group_id: int | None = None
    redirect_type: int = 302
    link_type: str = "URL"
    enabled: bool = True
    starts_at: float | None = None
    expires_at: float | None = None
    expiry_url: str | None = None
    password_hash: str | None = None
    max_clicks: int | None = None
    forward_params: bool = False
    block_bots: bool = False
    utm: tuple[tuple[str, str], ...] = ()
    rules: tuple[Rule, ...] = ()
    cloaked: bool = False
    hide_referrer: bool = False
    meta_pixel_id: str | None = None
    ga4_id: str | None = None
    gtm_id: str | None = None
    head_tags: str | None = None
    body_tags: str | None = None
    og_title: str | None = None
    og_description: str | None = None
    og_image: str | None = None
    qr_bypass: bool = False
    push_subscribe: bool = False
    host: str = ""
    slug: str = ""
    tiktok_pixel_id: str | None = None


class EdgeGroup(msgspec.Struct, array_like=True, frozen=True):
    """A group's shared settings at the edge, under keys.group(id). Set values win over
    the same settings of the group's links."""

    id: int
    workspace_id: int
    starts_at: float | None = None
    ends_at: float | None = None
    expire_url: str | None = None
    password_hash: str | None = None
    max_clicks: int | None = None  # applies to each link of the group
    qr_bypass: bool = False
    push_subscribe: bool = False
    block_overseas_stats: bool = False


def effective_link(link: EdgeLink, group: EdgeGroup | None) -> EdgeLink:
    """Merge a group's settings over its link's own: a group setting that is set wins."""
    if group is None:
        return link
    changes: dict[str, object] = {}
    if group.starts_at is not None:
        changes["starts_at"] = group.starts_at
    if group.ends_at is not None:
        changes["expires_at"] = group.ends_at
    if group.expire_url is not None:
        changes["expiry_url"] = group.expire_url
    if group.password_hash is not None:
        changes["password_hash"] = group.password_hash
    if group.max_clicks is not None:
        changes["max_clicks"] = group.max_clicks
    if group.qr_bypass:
        changes["qr_bypass"] = True
    if group.push_subscribe:
        changes["push_subscribe"] = True
    return msgspec.structs.replace(link, **changes) if changes else link


def encode_link(link: EdgeLink) -> bytes:
    return _encoder.encode(link)


def decode_link(data: bytes) -> EdgeLink:
    return _link_decoder.decode(data)


def encode_group(group: EdgeGroup) -> bytes:
    return _encoder.encode(group)


def decode_group(data: bytes) -> EdgeGroup:
    return _group_decoder.decode(data)


_encoder = msgspec.msgpack.Encoder()
_link_decoder = msgspec.msgpack.Decoder(EdgeLink)
_group_decoder = msgspec.msgpack.Decoder(EdgeGroup)
