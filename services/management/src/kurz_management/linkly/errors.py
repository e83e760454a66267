"""Linkly's error envelope: `{"error": "..."}`, plus `field` or per-item `errors`.

Linkly's public documentation does not show its error body; this shape is kurz's choice
(see docs/linkly.md), the same top-level key the native family uses.
"""

from __future__ import annotations

import re

import msgspec
from starlette.responses import Response

from kurz_management.core.links.service import LinkError

# LinkError kinds → HTTP status. Unknown kinds are treated as validation failures.
_STATUS_BY_KIND = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "forbidden": 403,
    "unavailable": 503,
}


class LinklyItemError(msgspec.Struct, omit_defaults=True):
    """Fields:
    index: Position of the item in the batch, from 0.
    error: What is wrong.
    field: The field at fault, when there is one.
    """

    index: int
    error: str
    field: str | None = None


class LinklyErrorBody(msgspec.Struct, omit_defaults=True):
    """Fields:
    error: What went wrong.
    field: The field at fault, when there is one.
    errors: A refused batch's bad items.
    """

    error: str
    field: str | None = None
    errors: list[LinklyItemError] = []


class LinklyError(Exception):
    """Raised anywhere in the Linkly adapter; rendered once, by the route wrapper."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        errors: list[LinklyItemError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.errors = errors or []
        self.headers = headers or {}

    def response(self) -> Response:
        body = LinklyErrorBody(self.message, self.field, self.errors)
        return Response(
            msgspec.json.encode(body),
            status_code=self.status,
            media_type="application/json",
            headers=self.headers,
        )


def from_link_error(exc: LinkError) -> LinklyError:
    """A use-case failure in Linkly's envelope; field names are translated back."""
    status = _STATUS_BY_KIND.get(exc.kind, 422)
    field = linkly_field(exc.field) if exc.field else None
    return LinklyError(status, exc.message, field=field)


def item_errors(errors: list[LinkError]) -> list[LinklyItemError]:
    return [
        LinklyItemError(
            index=e.index if e.index is not None else -1,
            error=e.message,
            field=linkly_field(e.field) if e.field else None,
        )
        for e in errors
    ]


_AT_PATH = re.compile(r" - at `\$(?:\[\d+\])?\.?([^`]*)`$")


def from_validation(exc: msgspec.ValidationError) -> tuple[str, str | None]:
    """A msgspec message without its JSON path, and the field the path names."""
    text = str(exc)
    match = _AT_PATH.search(text)
    if match is None:
        return text, None
    return text[: match.start()], match.group(1) or None


# kurz's LinkSpec names → Linkly's, for errors raised by the shared use cases.
_LINKLY_NAMES = {
    "title": "name",
    "cloaked": "cloaking",
    "description": "og_description",
    "image": "og_image",
    "meta_pixel_id": "fb_pixel_id",
    "ga4_id": "ga4_tag_id",
    "expires_at": "expiry_datetime",
    "expiry_url": "expiry_destination",
    "max_clicks": "expiry_clicks",
}


def linkly_field(name: str) -> str:
    head, dot, rest = name.partition(".")
    head, bracket, tail = head.partition("[")
    return _LINKLY_NAMES.get(head, head) + bracket + tail + dot + rest
