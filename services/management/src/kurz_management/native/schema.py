"""The native API's request and response bodies, as msgspec types.

Request bodies are strict: an unknown field is refused (400), so a misspelt field never
passes silently. POST treats null like an absent field; PATCH treats null as "clear this
field" and an absent field as "leave it".
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from kurz import validation
from kurz.models import Rule
from msgspec import UNSET, UnsetType

from kurz_management import constraints as c
from kurz_management.core.links.rows import CLEARABLE
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
    "url": (c.Destination, "url"),
    "domain": (c.Host, "domain"),
    "customSlug": (c.Slug, "slug"),
    "slug": (c.Slug, "slug"),
    "title": (c.link_text("title"), "title"),
    "description": (c.link_text("description"), "description"),
    "image": (c.WebUrl, "image"),
    "redirectType": (RedirectName, "redirect_type"),
    "linkType": (LinkTypeName, "link_type"),
    "cloaked": (bool, "cloaked"),
    "password": (c.link_text("password"), "password"),
    "expiresAt": (c.Timestamp, "expires_at"),
    "maxClicks": (c.MaxClicks, "max_clicks"),
    "tagIds": (c.items(c.IdText | c.Id, validation.MAX_TAGS), "tag_ids"),
    "forwardParameters": (bool, "forward_params"),
    "blockBots": (bool, "block_bots"),
    "utmSource": (c.link_text("utm_source"), "utm_source"),
    "utmMedium": (c.link_text("utm_medium"), "utm_medium"),
    "utmCampaign": (c.link_text("utm_campaign"), "utm_campaign"),
    "utmTerm": (c.link_text("utm_term"), "utm_term"),
    "utmContent": (c.link_text("utm_content"), "utm_content"),
    "metaPixelId": (c.TrackingId, "meta_pixel_id"),
    "googleTagId": (c.TrackingId, "ga4_id"),
    "webhookUrls": (
        c.OptionalWebUrl | c.items(c.WebUrl, validation.MAX_WEBHOOK_URLS),
        "webhook_urls",
    ),
    "note": (c.link_text("note"), "note"),
    "startsAt": (c.Timestamp, "starts_at"),
    "expiryUrl": (c.WebUrl, "expiry_url"),
    "deleteAt": (c.Timestamp, "delete_at"),
    "hideReferrer": (bool, "hide_referrer"),
    "gtmId": (c.TrackingId, "gtm_id"),
    "tiktokPixelId": (c.TrackingId, "tiktok_pixel_id"),
    "ogTitle": (c.link_text("og_title"), "og_title"),
    "headTags": (c.link_text("head_tags"), "head_tags"),
    "bodyTags": (c.link_text("body_tags"), "body_tags"),
    "rules": (c.Rules, "rules"),
    "groupId": (c.Id, "group_id"),
    "enabled": (bool, "enabled"),
    "qrBypass": (bool, "qr_bypass"),
    "pushSubscribe": (bool, "push_subscribe"),
    "publicAnalytics": (bool, "public_analytics"),
}
BODY_FIELD_OF_SPEC = {spec: body for body, (_, spec) in LINK_FIELDS.items() if body != "slug"}

MAX_PAGE_SIZE = 100
# The last page whose offset ((page - 1) * limit) Postgres can take.
MAX_PAGE = validation.MAX_ID // MAX_PAGE_SIZE

_STRUCT_OPTIONS: dict[str, Any] = {"kw_only": True, "forbid_unknown_fields": True}

LinkCreate: Any = msgspec.defstruct(
    "LinkCreate",
    [("url", c.Destination)]
    + [(n, t | None, None) for n, (t, _) in LINK_FIELDS.items() if n != "url"],
    namespace={"__doc__": fields_doc("A new link: url is required.", LINK_FIELD_DOCS)},
    **_STRUCT_OPTIONS,
)
# Fields a PATCH may clear with null; the others take a value or stay.
CLEARABLE_FIELDS = frozenset(n for n, (_, spec) in LINK_FIELDS.items() if spec in CLEARABLE)
LinkPatch: Any = msgspec.defstruct(
    "LinkPatch",
    [
        (n, t | UnsetType | None if n in CLEARABLE_FIELDS else t | UnsetType, UNSET)
        for n, (t, _) in LINK_FIELDS.items()
    ],
    namespace={
        "__doc__": fields_doc(
            "A change: given fields change, null clears, absent fields stay.", LINK_FIELD_DOCS
        )
    },
    **_STRUCT_OPTIONS,
)
BulkItem: Any = msgspec.defstruct(
    "BulkItem",
    [("id", c.SentId | None, None)] + [(n, t | None, None) for n, (t, _) in LINK_FIELDS.items()],
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
        domain: The short domain of every item that names none.
        links: The links to create or update, at most KURZ_BULK_MAX (default 1000).
        atomic: true: one bad item and nothing is written. false: good items are
            written, bad ones reported in errors (and failed). Default: true, or false
            when domain is given.
    """

    domain: c.Host | None = None
    links: list[BulkItem]
    atomic: bool | None = None

    @property
    def all_or_nothing(self) -> bool:
        return self.atomic if self.atomic is not None else self.domain is None


class TagOfLink(msgspec.Struct):
    """Fields:
    id: The tag's id.
    name: The tag's name.
    color: Its colour as #rrggbb, or null.
    """

    id: str
    name: str
    color: str | None


class LinkTag(msgspec.Struct):
    """Fields:
    tag: The tag.
    """

    tag: TagOfLink


class QrCode(msgspec.Struct):
    """Fields:
    pngUrl: The QR code as a PNG (add ?size= for its width in pixels).
    svgUrl: The QR code as SVG.
    """

    pngUrl: str
    svgUrl: str


class Creator(msgspec.Struct):
    """Fields:
    id: The API key's id.
    name: The key, named by its prefix.
    email: Always null: a key has no e-mail address.
    """

    id: str
    name: str
    email: None


class LinkOut(msgspec.Struct, kw_only=True):
    __doc__ = fields_doc("A link.", LINK_OUT_DOCS)

    id: str
    url: str
    domain: str
    slug: str
    shortCode: str
    shortUrl: str
    title: str | None
    description: str | None
    image: str | None
    redirectType: RedirectName
    linkType: LinkTypeName
    cloaked: bool
    hasPassword: bool
    password: None
    expiresAt: datetime | None
    maxClicks: int | None
    tagIds: list[str]
    tags: list[LinkTag]
    forwardParameters: bool
    blockBots: bool
    utmSource: str | None
    utmMedium: str | None
    utmCampaign: str | None
    utmTerm: str | None
    utmContent: str | None
    metaPixelId: str | None
    googleTagId: str | None
    webhookUrls: str | None
    note: str | None
    startsAt: datetime | None
    expiryUrl: str | None
    deleteAt: datetime | None
    hideReferrer: bool
    gtmId: str | None
    gtmContainerId: str | None
    tiktokPixelId: str | None
    ogTitle: str | None
    headTags: str | None
    bodyTags: str | None
    rules: list[Rule]
    groupId: int | None
    enabled: bool
    qrBypass: bool
    pushSubscribe: bool
    isActive: bool
    publicAnalytics: bool
    statsUrl: str | None
    clicks: int
    clickCount: int
    skipSocialCrawlerTracking: bool
    qrCode: QrCode
    workspaceId: str
    createdBy: Creator | None
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
        limit: Links a page (at most 100, default 30).
    """

    search: c.Text | None = None
    domain: c.Text | None = None
    tagId: c.Id | None = None
    groupId: c.Id | None = None
    createdAfter: c.Timestamp | None = None
    createdBefore: c.Timestamp | None = None
    page: Annotated[int, c.declared(minimum=1, maximum=MAX_PAGE)] = 1
    limit: Annotated[int, c.declared(minimum=1, maximum=MAX_PAGE_SIZE)] = 30


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


class BulkLinkOut(LinkOut, kw_only=True):
    __doc__ = fields_doc(
        "A link a bulk request wrote.",
        {
            **LINK_OUT_DOCS,
            "pendingVerification": "Always false: links are made only on verified "
            "domains (an unverified one is refused).",
        },
    )

    pendingVerification: bool


class BulkResponse(msgspec.Struct):
    """The outcome of a bulk request.

    Fields:
        created: How many links were created (updates aside).
        activeCount: How many of the written links are active now.
        pendingCount: How many wait for their domain's verification (always 0).
        links: The written links, in request order.
        errors: The refused items (only when atomic is false).
        failed: The same refused items, under the name older clients read.
    """

    created: int
    activeCount: int
    pendingCount: int
    links: list[BulkLinkOut]
    errors: list[ItemError]
    failed: list[ItemError]


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
