"""QR codes of short links: PNG or SVG, made with segno.

The code carries the short URL with the QR marker, so a scan is told apart from a click;
with QR bypass it carries the destination itself and scans never reach the edge.
"""

from __future__ import annotations

import io

import segno

from kurz.decision import destination
from kurz.models import EdgeLink
from kurz.qr_png import exact_png
from kurz.urls import QR_MARKER, QR_MARKER_VALUE

MIN_SIZE = 50
MAX_SIZE = 2000
DEFAULT_SIZE = 200
BORDER = 4


class QrError(ValueError):
    pass


def qr_content(link: EdgeLink, short_url: str) -> str:
    if link.qr_bypass:
        return destination(link, link.url, ())
    return f"{short_url}?{QR_MARKER}={QR_MARKER_VALUE}"


def parse_options(params: dict[str, list[str]]) -> tuple[int, str]:
    """(size in pixels, "png" or "svg") from the query; QrError on bad values."""
    raw_size = params.get("size", [str(DEFAULT_SIZE)])[0]
    if not raw_size.isdecimal() or not MIN_SIZE <= int(raw_size) <= MAX_SIZE:
        raise QrError(f"size must be a whole number from {MIN_SIZE} to {MAX_SIZE}")
    kind = params.get("format", ["png"])[0].lower()
    if kind not in ("png", "svg"):
        raise QrError("format must be png or svg")
    return int(raw_size), kind


def render(content: str, size: int, kind: str) -> tuple[bytes, bytes]:
    """(body, content type): exactly `size` pixels (or SVG units) a side, as a client
    asking `?size=200` lays it out."""
    code = segno.make(content, error="m", micro=False)
    if kind == "svg":
        modules = code.symbol_size(scale=1, border=BORDER)[0]
        out = io.BytesIO()
        code.save(out, kind="svg", scale=size / modules, border=BORDER, xmldecl=False, unit=None)
        return out.getvalue(), b"image/svg+xml"
    matrix = [[bool(m) for m in row] for row in code.matrix_iter(scale=1, border=BORDER)]
    return exact_png(matrix, size), b"image/png"
