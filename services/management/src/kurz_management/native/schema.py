"""The native API's request and response bodies, as msgspec types.

Request bodies are strict: an unknown field is refused (400), so a misspelt field never
passes silently. POST treats null like an absent field; PATCH treats null as "clear this
field" and an absent field as "leave it".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
from kurz.models import Rule
from msgspec import UNSET, UnsetType

from kurz_management.native.fielddocs import LINK_FIELD_DOCS, LINK_OUT_DOCS
from kurz_management.openapi import fields_doc

RedirectName = Literal[
    "PERMANENT_301", "TEMPORARY_302", "TEMPORARY_307", "PERMANENT_308", "PAGE_200"
]
REDIRECT_CODES: dict[str, int] = {
    "PERMANENT_301": 301,
    "TEMPORARY_302": 302,
    "TEMPORARY_307": 307,
    "PERMANENT_308": 308,
    "PAGE_200": 200,
}
REDIRECT_NAMES = {code: name for name, code in REDIRECT_CODES.items()}
LinkTypeName = Literal["URL", "MAILTO", "TEL", "SMS"]

# camelCase body field → (type, LinkSpec field).
LINK_FIELDS: dict[str, tuple[Any, str]] = {
    "url": (str, "url"),
    "domain": (str, "domain"),
    "customSlug": (str, "slug"),
    "slug": (str, "slug"),
    "title": (str, "title"),
    "description": (str, "description"),
    "image": (str, "image"),
    "redirectType": (RedirectName, "redirect_type"),
    "linkType": (LinkTypeName, "link_type"),
    "cloaked": (bool, "cloaked"),
    "password": (str, "password"),
    "expiresAt": (datetime, "expires_at"),
    "maxClicks": (int, "max_clicks"),
    "tagIds": (list[str | int], "tag_ids"),
    "forwardParameters": (bool, "forward_params"),
    "blockBots": (bool, "block_bots"),
    "utmSource": (str, "utm_source"),
    "utmMedium": (str, "utm_medium"),
    "utmCampaign": (str, "utm_campaign"),
    "utmTerm": (str, "utm_term"),
    "utmContent": (str, "utm_content"),
    "metaPixelId": (str, "meta_pixel_id"),
    "googleTagId": (str, "ga4_id"),
    "webhookUrls": (str | list[str], "webhook_urls"),
    "note": (str, "note"),
    "startsAt": (datetime, "starts_at"),
    "expiryUrl": (str, "expiry_url"),
    "deleteAt": (datetime, "delete_at"),
    "hideReferrer": (bool, "hide_referrer"),
    "gtmId": (str, "gtm_id"),
    "ogTitle": (str, "og_title"),
    "headTags": (str, "head_tags"),
    "bodyTags": (str, "body_tags"),
    "rules": (list[Rule], "rules"),
    "groupId": (int, "group_id"),
    "enabled": (bool, "enabled"),
    "qrBypass": (bool, "qr_bypass"),
    "pushSubscribe": (bool, "push_subscribe"),
}
BODY_FIELD_OF_SPEC = {spec: body for body, (_, spec) in LINK_FIELDS.items() if body != "slug"}

_STRUCT_OPTIONS: dict[str, Any] = {"kw_only": True, "forbid_unknown_fields": True}

LinkCreate: Any = msgspec.defstruct(
    "LinkCreate",
    [("url", str)] + [(n, t | None, None) for n, (t, _) in LINK_FIELDS.items() if n != "url"],
    namespace={"__doc__": fields_doc("A new link: url is required.", LINK_FIELD_DOCS)},
    **_STRUCT_OPTIONS,
)
LinkPatch: Any = msgspec.defstruct(
    "LinkPatch",
    [(n, t | UnsetType | None, UNSET) for n, (t, _) in LINK_FIELDS.items()],
    namespace={
        "__doc__": fields_doc(
            "A change: given fields change, null clears, absent fields stay.", LINK_FIELD_DOCS
        )
    },
    **_STRUCT_OPTIONS,
)
BulkItem: Any = msgspec.defstruct(
    "BulkItem",
    [("id", int | None, None)] + [(n, t | None, None) for n, (t, _) in LINK_FIELDS.items()],
    namespace={
        "__doc__": fields_doc(
            "One link of a bulk request: with id an update of that link, else a new link.",
            {"id": "Id of the link to update; omitted: a new link.", **LINK_FIELD_DOCS},
        )
    },
    **_STRUCT_OPTIONS,
)


class BulkRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Items with an `id` update that link, the others create one.

    Fields:
        links: The links to create or update, at most KURZ_BULK_MAX (default 1000).
        atomic: true (default): one bad item and nothing is written. false: good items
            are written, bad ones reported in errors.
    """

    links: list[BulkItem]
    atomic: bool = True


class LinkOut(msgspec.Struct, kw_only=True):
    __doc__ = fields_doc("A link.", LINK_OUT_DOCS)

    id: int
    url: str
    domain: str
    slug: str
    shortUrl: str
    title: str | None
    description: str | None
    image: str | None
    redirectType: RedirectName
    linkType: LinkTypeName
    cloaked: bool
    hasPassword: bool
    expiresAt: datetime | None
    maxClicks: int | None
    tagIds: list[str]
    forwardParameters: bool
    blockBots: bool
    utmSource: str | None
    utmMedium: str | None
    utmCampaign: str | None
    utmTerm: str | None
    utmContent: str | None
    metaPixelId: str | None
    googleTagId: str | None
    webhookUrls: str
    note: str | None
    startsAt: datetime | None
    expiryUrl: str | None
    deleteAt: datetime | None
    hideReferrer: bool
    gtmId: str | None
    ogTitle: str | None
    headTags: str | None
    bodyTags: str | None
    rules: list[Rule]
    groupId: int | None
    enabled: bool
    qrBypass: bool
    pushSubscribe: bool
    clicks: int
    createdAt: datetime
    updatedAt: datetime


class LinkEnvelope(msgspec.Struct):
    """Fields:
    link: The link.
    """

    link: LinkOut


class Pagination(msgspec.Struct):
    """Where a page stands in the whole list.

    Fields:
        page: This page's number, from 1.
        limit: Links a page.
        total: Links matching the filters, in all pages.
        totalPages: Number of pages.
    """

    page: int
    limit: int
    total: int
    totalPages: int


class LinkList(msgspec.Struct):
    """Fields:
    links: This page's links, newest first.
    pagination: Where this page stands.
    """

    links: list[LinkOut]
    pagination: Pagination


class ListQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Newest first.

    Fields:
        search: Text found in the destination, slug, title or note.
        domain: Only links on this short domain.
        tagId: Only links with this tag.
        groupId: Only links of this group.
        createdAfter: Only links created at or after this time (ISO 8601).
        createdBefore: Only links created before this time (ISO 8601).
        page: Page number, from 1.
        limit: Links a page (at most 1000, default 30).
    """

    search: str | None = None
    domain: str | None = None
    tagId: int | None = None
    groupId: int | None = None
    createdAfter: datetime | None = None
    createdBefore: datetime | None = None
    page: int = 1
    limit: int = 30


class ItemError(msgspec.Struct, omit_defaults=True):
    """Why one item of a bulk request was refused.

    Fields:
        index: Position of the item in the request, from 0.
        status: The HTTP status the item alone would have had (400, 404, 409, 422...).
        error: What is wrong, for a person.
        field: The body field at fault, when there is one.
    """

    index: int
    status: int
    error: str
    field: str | None = None


class BulkResponse(msgspec.Struct):
    """The outcome of a bulk request.

    Fields:
        links: The written links, in request order.
        errors: The refused items (only when atomic is false).
    """

    links: list[LinkOut]
    errors: list[ItemError]


class BulkFailure(msgspec.Struct):
    """An atomic bulk request refused: nothing was written.

    Fields:
        error: Why, for a person.
        errors: Every refused item.
    """

    error: str
    errors: list[ItemError]


class Error(msgspec.Struct):
    """Fields:
    error: What went wrong, for a person.
    """

    error: str
