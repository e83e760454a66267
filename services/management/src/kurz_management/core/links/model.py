"""What the link use cases take and give: records, queries and errors."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

import msgspec
from kurz.edge_records import UTM_FIELDS
from kurz.models import Rule
from kurz.urls import QR_MARKER, QR_MARKER_VALUE, merge_query

ErrorKind = Literal["invalid", "conflict", "not_found", "forbidden", "unavailable"]


class LinkError(Exception):
    """Why a use case refused. `field` names the LinkSpec field at fault (when one is),
    `index` the position of the item in a bulk request."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        field: str | None = None,
        index: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.field = field
        self.index = index

    def __repr__(self) -> str:
        where = f"field={self.field!r}, index={self.index!r}"
        return f"LinkError({self.kind!r}, {self.message!r}, {where})"


class TagRef(msgspec.Struct, frozen=True):
    """A tag as a link shows it."""

    id: int
    name: str
    color: str | None


class LinkRecord(msgspec.Struct, kw_only=True):
    """A stored link as every family renders it. Never carries the password hash."""

    id: int
    workspace_id: int
    host: str
    slug: str
    short_url: str
    url: str
    link_type: str
    redirect_type: int
    title: str | None
    description: str | None
    image: str | None
    og_title: str | None
    note: str | None
    cloaked: bool
    has_password: bool
    starts_at: datetime | None
    expires_at: datetime | None
    expiry_url: str | None
    delete_at: datetime | None
    max_clicks: int | None
    forward_params: bool
    block_bots: bool
    hide_referrer: bool
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    meta_pixel_id: str | None
    ga4_id: str | None
    gtm_id: str | None
    tiktok_pixel_id: str | None
    head_tags: str | None
    body_tags: str | None
    webhook_urls: list[str]
    rules: list[Rule]
    group_id: int | None
    enabled: bool
    qr_bypass: bool
    push_subscribe: bool
    public_analytics: bool  # statistics shown on public_stats_path(id)
    tag_ids: list[int]
    tags: list[TagRef]
    created_by_key: int | None  # the API key that created it; None: the CLI, an import
    created_by_prefix: str | None  # that key's prefix
    clicks: int
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    def utm_pairs(self) -> list[tuple[str, str]]:
        """The link's UTM parameters, as the edge appends them."""
        return [(name, value) for name in UTM_FIELDS if (value := getattr(self, name))]

    def qr_content(self) -> str:
        """What the link's QR code carries, as the edge makes it: the short URL marked as
        a scan, or with QR bypass the destination itself (with its UTM parameters)."""
        if not self.qr_bypass:
            return f"{self.short_url}?{QR_MARKER}={QR_MARKER_VALUE}"
        return merge_query(self.url, self.utm_pairs()) if self.link_type == "URL" else self.url


class PublicLink(msgspec.Struct, frozen=True):
    """A link whose statistics are public, and the time zone its days are counted in."""

    record: LinkRecord
    time_zone: str


def public_stats_path(link_id: int) -> str:
    """Where a link with public_analytics shows its statistics, on the management server."""
    return f"/stats/l/{link_id}"


# What a list of links can be sorted by (ties broken by id, the same way).
LinkOrder = Literal["id", "created_at", "updated_at", "title", "url", "clicks"]
LINK_ORDERS: tuple[str, ...] = get_args(LinkOrder)

# What `LinkQuery.state` may ask for. A link is in at most one, in the order the edge
# decides a visit: "disabled" (turned off, whatever its dates), else "expired" (past its
# end time, or its counted clicks reached its own click limit), else "active" (started:
# a visit now is sent on). A link whose start is still ahead is in none of them. Group
# settings are not looked at: the state is the link's own, as `clicks` is.
LinkState = Literal["active", "disabled", "expired"]
LINK_STATES: tuple[str, ...] = get_args(LinkState)


class LinkQuery(msgspec.Struct, kw_only=True):
    """Filters and window of `list_links`. Newest first. Use `LinkQuery.page(n, size)`
    for page-based families, or offset/limit directly."""

    search: str | None = None  # case-insensitive substring of url, slug, title or note
    domain: str | None = None
    group_id: int | None = None
    tag_id: int | None = None
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    slug: str | None = None  # exactly this slug
    title_contains: str | None = None  # case-insensitive substring of the title
    note_contains: str | None = None  # case-insensitive substring of the note
    url: str | None = None  # exactly this destination
    state: str | None = None  # one of LINK_STATES; anything else is refused as invalid
    order: LinkOrder = "id"
    descending: bool = True
    offset: int = 0
    limit: int = 30

    @classmethod
    def page(cls, page: int, size: int, **filters: object) -> LinkQuery:
        """1-based page number → offset/limit."""
        return cls(offset=max(page - 1, 0) * size, limit=size, **filters)  # type: ignore[arg-type]


MAX_LIST_LIMIT = 1000
NOT_WRITTEN = "not written: another item of the batch failed"
"""The message of an atomic batch's items that were fine but were not written."""
