"""Query-string merging for destinations: UTM fields and forwarded visitor parameters."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Added to a short URL inside its QR code, so a scan is told apart from a click.
QR_MARKER = "qr"
QR_MARKER_VALUE = "1"


def merge_query(destination: str, extra: Iterable[tuple[str, str]]) -> str:
    """Add parameters to a destination; a name the destination already has keeps its value.

    Earlier entries of `extra` win over later ones with the same name. The result is
    re-encoded, so it is a valid URL whatever the visitor sent.
    """
    parts = urlsplit(destination)
    existing = parse_qsl(parts.query, keep_blank_values=True)
    taken = {name for name, _ in existing}
    added: list[tuple[str, str]] = []
    for name, value in extra:
        if name and name not in taken:
            taken.add(name)
            added.append((name, value))
    if not added:
        return destination
    query = parts.query + ("&" if parts.query else "") + urlencode(added)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def visitor_params(query_string: bytes) -> tuple[tuple[tuple[str, str], ...], bool]:
    """The visitor's query parameters without the QR marker, and whether it was there."""
    if not query_string:
        return (), False
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace")
    params = []
    qr = False
    for name, value in pairs:
        if name == QR_MARKER and value == QR_MARKER_VALUE:
            qr = True
        else:
            params.append((name, value))
    return tuple(params), qr
