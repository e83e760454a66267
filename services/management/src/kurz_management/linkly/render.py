"""kurz's LinkRecord rendered as Linkly's link object (Linkly's documented example response,
plus the documented extra fields), as JSON and as CSV rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import msgspec
from kurz.models import Rule

from kurz_management.core.links.service import LinkRecord
from kurz_management.linkly.fields import LINK_FIELDS
from kurz_management.openapi import fields_doc


class LinklyRule(msgspec.Struct, omit_defaults=True):
    """Fields:
    what: country, platform, language or rotator.
    url: Where a matching visit goes.
    matches: The country (ISO alpha-2), platform or language to match.
    percentage: rotator only: the share of visits, 0 to 100.
    """

    what: str
    url: str
    matches: str | None = None
    percentage: int | float | None = None


_OUT_FIELDS = {
    "id": "The link's id.",
    "alias": "Always null.",
    "domain": "Its short domain; null: the default domain.",
    "slug": "Path of the short URL, starting with /.",
    "expiry_datetime": "When the link stops redirecting, or null.",
    "linkify_words": "Always null.",
    "replacements": "Always null.",
    "full_url": "The short URL.",
    "workspace_id": "The link's workspace.",
    "referer_mode": "Always null.",
    "custom_referer": "Always null.",
    "click_fraud_mode": "Always null.",
    "deleted": "Whether the link is deleted.",
}


class LinklyLink(msgspec.Struct):
    __doc__ = fields_doc(
        "Field order and names follow Linkly's documented example; every field is always "
        "present. Fields kurz has no concept of (alias, linkify_words, replacements, "
        "referer_mode, custom_referer, click_fraud_mode) are always null.",
        {**LINK_FIELDS, **_OUT_FIELDS},
    )

    id: int
    alias: None
    url: str
    name: str | None
    note: str | None
    head_tags: str | None
    body_tags: str | None
    linkify_words: None
    enabled: bool
    cloaking: bool
    replacements: None
    domain: str | None
    slug: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    og_title: str | None
    og_description: str | None
    og_image: str | None
    full_url: str
    block_bots: bool
    rules: list[LinklyRule]
    workspace_id: int
    referer_mode: None
    custom_referer: None
    click_fraud_mode: None
    deleted: bool
    fb_pixel_id: str | None
    ga4_tag_id: str | None
    gtm_id: str | None
    forward_params: bool
    hide_referrer: bool
    expiry_datetime: str | None
    expiry_destination: str | None
    expiry_clicks: int | None
    tiktok_pixel_id: str | None
    public_analytics: bool


FIELDS: tuple[str, ...] = LinklyLink.__struct_fields__


def _rule(rule: Rule) -> LinklyRule:
    percentage = rule.percentage
    if percentage is not None and float(percentage).is_integer():
        percentage = int(percentage)  # "50" comes back as 50, not 50.0
    return LinklyRule(rule.what, rule.url, rule.matches, percentage)


def to_linkly(record: LinkRecord, default_domain: str, *, deleted: bool = False) -> LinklyLink:
    """`domain` is null on the shared default domain, as Linkly shows links on its own
    domain; `slug` always starts with "/"."""
    return LinklyLink(
        id=record.id,
        alias=None,
        url=record.url,
        name=record.title,
        note=record.note,
        head_tags=record.head_tags,
        body_tags=record.body_tags,
        linkify_words=None,
        enabled=record.enabled,
        cloaking=record.cloaked,
        replacements=None,
        domain=None if record.host == default_domain else record.host,
        slug="/" + record.slug,
        utm_source=record.utm_source,
        utm_medium=record.utm_medium,
        utm_campaign=record.utm_campaign,
        utm_term=record.utm_term,
        utm_content=record.utm_content,
        og_title=record.og_title,
        og_description=record.description,
        og_image=record.image,
        full_url=record.short_url,
        block_bots=record.block_bots,
        rules=[_rule(r) for r in record.rules],
        workspace_id=record.workspace_id,
        referer_mode=None,
        custom_referer=None,
        click_fraud_mode=None,
        deleted=deleted or record.deleted_at is not None,
        fb_pixel_id=record.meta_pixel_id,
        ga4_tag_id=record.ga4_id,
        gtm_id=record.gtm_id,
        forward_params=record.forward_params,
        hide_referrer=record.hide_referrer,
        expiry_datetime=record.expires_at.isoformat() if record.expires_at else None,
        expiry_destination=record.expiry_url,
        expiry_clicks=record.max_clicks or None,
        tiktok_pixel_id=record.tiktok_pixel_id,
        public_analytics=record.public_analytics,
    )


_encoder = msgspec.json.Encoder()


def encode(value: object) -> bytes:
    return _encoder.encode(value)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return _encoder.encode(value).decode()  # rules, as the JSON array Linkly takes
    return value


def csv_header() -> str:
    return _csv_text([FIELDS])


def csv_rows(links: Iterable[LinklyLink]) -> str:
    return _csv_text([_cell(getattr(link, f)) for f in FIELDS] for link in links)


def _csv_text(rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()
