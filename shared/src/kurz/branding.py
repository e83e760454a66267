"""A workspace's branding on the edge's pages, and where its unknown or ended links go.

The record the edge caches (EdgeWorkspace), the rows it is built from, and the checks
every write passes. Pure: nothing here performs I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

from kurz.validation import InvalidLink, normalize_web_url

MAX_BRAND_NAME = 100
ACCENT = re.compile(r"#[0-9a-fA-F]{6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A Content-Security-Policy source is one token: no spaces, quotes, commas or semicolons.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


class EdgeWorkspace(msgspec.Struct, array_like=True, frozen=True):
    """What the edge knows of a workspace, msgpack-encoded under keys.workspace(id).
    Field order is the wire format: append new fields at the end, with defaults."""

    id: int
    brand_name: str | None = None
    logo_url: str | None = None
    accent_color: str | None = None  # "#rrggbb", lower case
    base_url_redirect: str | None = None  # a visit to "/" of the workspace's domain
    invalid_link_redirect: str | None = None  # an unknown or disabled slug
    expired_link_redirect: str | None = None  # past its end or its click limit

    @property
    def logo_origin(self) -> str | None:
        """The logo's origin, for the pages' img-src; None when there is no logo."""
        if not self.logo_url:
            return None
        parts = urlsplit(self.logo_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        return origin if _ORIGIN.fullmatch(origin) else None


WORKSPACE_COLUMNS = """
    w.id, w.brand_name, w.logo_url, w.accent_color, w.base_url_redirect,
    w.invalid_link_redirect, w.expired_link_redirect
"""
SELECT_WORKSPACE = f"SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = $1"
# The workspace a short domain belongs to: only its own verified custom domains.
SELECT_HOST_WORKSPACE = (
    "SELECT workspace_id FROM domains WHERE host = $1 AND verified AND workspace_id IS NOT NULL"
)
SETTING_FIELDS = (
    "brand_name", "logo_url", "accent_color", "base_url_redirect", "invalid_link_redirect",
    "expired_link_redirect",
)  # fmt: skip


def edge_workspace_from_row(row: Mapping[str, Any]) -> EdgeWorkspace:
    return EdgeWorkspace(row["id"], *(row[name] for name in SETTING_FIELDS))


def check_setting(name: str, value: str | None) -> str | None:
    """One setting in canonical form (None clears it). Raises InvalidLink(name, ...)."""
    if value is None:
        return None
    if name == "brand_name":
        value = value.strip()
        if not value or len(value) > MAX_BRAND_NAME or _CONTROL.search(value):
            raise InvalidLink(
                name, f"brand name must be 1 to {MAX_BRAND_NAME} characters, no control ones"
            )
        return value
    if name == "accent_color":
        if not ACCENT.fullmatch(value):
            raise InvalidLink(name, f"{value!r} is not a colour as #rrggbb")
        return value.lower()
    if name not in SETTING_FIELDS:
        raise InvalidLink(name, f"no setting {name!r}")
    url = normalize_web_url(value, name)
    if name == "logo_url" and "@" in urlsplit(url).netloc:
        raise InvalidLink(name, "a logo URL carries no user name or password")
    return url


def encode_workspace(workspace: EdgeWorkspace) -> bytes:
    return _encoder.encode(workspace)


def decode_workspace(data: bytes) -> EdgeWorkspace:
    return _decoder.decode(data)


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(EdgeWorkspace)
