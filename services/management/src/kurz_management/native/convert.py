"""Native bodies ↔ the domain: request structs to LinkSpec, LinkRecord to LinkOut."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kurz.models import LinkSpec, LinkType
from kurz.urls import merge_query
from msgspec import UNSET

from kurz_management.core.links.service import LinkError, LinkRecord, public_stats_path
from kurz_management.native.schema import (
    BODY_FIELD_OF_SPEC,
    LINK_FIELDS,
    REDIRECT_CODES,
    REDIRECT_NAMES,
    Creator,
    LinkOut,
    LinkTag,
    QrCode,
    TagOfLink,
)


def spec_of(body: Any, *, nulls_clear: bool = False) -> tuple[LinkSpec, set[str]]:
    """The spec a body asks for, and the LinkSpec fields it clears (with nulls_clear,
    PATCH's reading of null)."""
    values: dict[str, Any] = {}
    clears: set[str] = set()
    for name, (_, spec_field) in LINK_FIELDS.items():
        value = getattr(body, name)
        if value is UNSET:
            continue
        if value is None:
            if nulls_clear:
                clears.add(spec_field)
            continue
        if spec_field in values and values[spec_field] != value:
            raise LinkError("invalid", "customSlug and slug disagree", field="slug")
        values[spec_field] = _to_domain(name, value)
    return LinkSpec(**values), clears


def _to_domain(name: str, value: Any) -> Any:
    if name == "redirectType":
        return REDIRECT_CODES[value]
    if name == "linkType":
        return LinkType(value)
    if name == "tagIds":
        return [_tag_id(v) for v in value]
    if name == "webhookUrls":
        if isinstance(value, str):  # comma-separated: blanks between commas are nothing
            return [u.strip() for u in value.split(",") if u.strip()]
        if not all(u.strip() for u in value):
            raise LinkError("invalid", "an empty URL in the list", field="webhook_urls")
        return [u.strip() for u in value]
    return value


def _tag_id(value: str | int) -> int:
    if isinstance(value, int):
        return value
    if not value.strip().isdecimal():
        raise LinkError("invalid", f"tag id {value!r} is not a number", field="tag_ids")
    return int(value)


def body_field(spec_field: str | None) -> str | None:
    """The native body's name for a LinkSpec field named in an error."""
    if spec_field is None:
        return None
    return BODY_FIELD_OF_SPEC.get(spec_field, spec_field)


def link_out(record: LinkRecord, site: str, now: datetime | None = None) -> LinkOut:
    """The link as this API shows it: kurz's fields and, beside them, the names and
    types Brevr's clients read (string ids, shortCode, isActive, clickCount, tags...).
    `site`: the management server's base URL as the client reached it (without a
    trailing slash), where the public statistics page of the link is."""
    stats_url = site + public_stats_path(record.id) if record.public_analytics else None
    return LinkOut(
        id=str(record.id),
        url=merge_query(record.url, record.utm_pairs())
        if record.link_type == "URL"
        else record.url,
        domain=record.host,
        slug=record.slug,
        shortCode=record.slug,
        shortUrl=record.short_url,
        title=record.title,
        description=record.description,
        image=record.image,
        redirectType=REDIRECT_NAMES.get(record.redirect_type, "TEMPORARY_302"),  # type: ignore[arg-type]
        linkType=record.link_type,  # type: ignore[arg-type]
        cloaked=record.cloaked,
        hasPassword=record.has_password,
        password=None,
        expiresAt=record.expires_at,
        maxClicks=record.max_clicks,
        tagIds=[str(t) for t in record.tag_ids],
        tags=[LinkTag(TagOfLink(str(t.id), t.name, t.color)) for t in record.tags],
        forwardParameters=record.forward_params,
        blockBots=record.block_bots,
        utmSource=record.utm_source,
        utmMedium=record.utm_medium,
        utmCampaign=record.utm_campaign,
        utmTerm=record.utm_term,
        utmContent=record.utm_content,
        metaPixelId=record.meta_pixel_id,
        googleTagId=record.ga4_id,
        webhookUrls=",".join(record.webhook_urls) or None,
        note=record.note,
        startsAt=record.starts_at,
        expiryUrl=record.expiry_url,
        deleteAt=record.delete_at,
        hideReferrer=record.hide_referrer,
        gtmId=record.gtm_id,
        gtmContainerId=record.gtm_id,
        tiktokPixelId=record.tiktok_pixel_id,
        ogTitle=record.og_title,
        headTags=record.head_tags,
        bodyTags=record.body_tags,
        rules=record.rules,
        groupId=record.group_id,
        enabled=record.enabled,
        qrBypass=record.qr_bypass,
        pushSubscribe=record.push_subscribe,
        isActive=is_active(record, now or datetime.now(UTC)),
        publicAnalytics=record.public_analytics,
        statsUrl=stats_url,
        clicks=record.clicks,
        clickCount=record.clicks,
        skipSocialCrawlerTracking=True,
        qrCode=QrCode(f"{record.short_url}/qr", f"{record.short_url}/qr?format=svg"),
        workspaceId=str(record.workspace_id),
        createdBy=_creator(record),
        createdAt=record.created_at,
        updatedAt=record.updated_at,
    )


def is_active(record: LinkRecord, now: datetime) -> bool:
    """Whether a visit now would be sent on and counted."""
    return (
        record.enabled
        and (record.starts_at is None or record.starts_at <= now)
        and (record.expires_at is None or now < record.expires_at)
        and (record.max_clicks is None or record.clicks < record.max_clicks)
    )


def _creator(record: LinkRecord) -> Creator | None:
    if record.created_by_key is None:
        return None
    return Creator(str(record.created_by_key), f"API key {record.created_by_prefix}", None)
