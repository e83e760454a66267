"""Reading exports into link specs, one `Row` per link, each with where it came from.

Supported: a Bitly CSV export (`long_url`, `title`, `link` / `id`, `custom_bitlinks`), a
YOURLS link table export (`keyword`, `url`, `title`, `timestamp`, `ip`, `clicks`), a Shlink
`GET /short-urls` response (`shortUrls.data[]`: `shortCode`, `longUrl`, `title`, `meta`,
`forwardQuery`), a Kutt v2 `GET /links` response (`data[]`: `address`, `target`,
`description`), and a generic CSV (`url`, and optionally `slug`, `title`, `description`,
`note`, `expires_at`). Columns are matched without regard to case.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kurz.models import LinkSpec

FORMATS = ("auto", "bitly", "yourls", "shlink", "kutt", "csv")


class UnreadableFile(Exception):
    """The file as a whole is not in the format asked for (or any, with auto)."""


@dataclass(frozen=True)
class Row:
    where: str  # "line 4" in a CSV file, "item 3" in a JSON one
    spec: LinkSpec | None
    error: str | None = None


def read_rows(text: str, fmt: str) -> list[Row]:
    if fmt == "auto":
        fmt = detect(text)
    if fmt in ("shlink", "kutt"):
        items = _json_items(text, fmt)
        build = _shlink if fmt == "shlink" else _kutt
        return [_row(f"item {i}", item, build) for i, item in enumerate(items, 1)]
    build = {"bitly": _bitly, "yourls": _yourls, "csv": _generic}[fmt]
    return [_row(f"line {line}", record, build) for line, record in _csv_records(text)]


def detect(text: str) -> str:
    stripped = text.lstrip()
    if not stripped:
        raise UnreadableFile("the file is empty")
    if stripped.startswith(("{", "[")):
        try:
            doc = json.loads(stripped)
        except ValueError:
            raise UnreadableFile("the file looks like JSON but is not valid JSON") from None
        if isinstance(doc, dict) and "shortUrls" in doc:
            return "shlink"
        if isinstance(doc, dict) and "data" in doc:
            return "kutt"
        raise UnreadableFile("a JSON file must be a Shlink or a Kutt API export")
    header = {h.strip().lower() for h in next(csv.reader(io.StringIO(text)), [])}
    if "long_url" in header:
        return "bitly"
    if {"keyword", "url"} <= header:
        return "yourls"
    if "url" in header:
        return "csv"
    raise UnreadableFile("no column named url or long_url: not a known export")


def _row(where: str, source: Any, build: Callable[[Mapping[str, Any]], LinkSpec]) -> Row:
    if not isinstance(source, Mapping):
        return Row(where, None, "not an object")
    try:
        return Row(where, build(source))
    except (ValueError, TypeError, KeyError) as exc:
        return Row(where, None, str(exc).strip("'\""))


def _csv_records(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if not header:
        raise UnreadableFile("the file is empty")
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        yield reader.line_num, dict(zip(header, (v.strip() for v in values), strict=False))


def _json_items(text: str, fmt: str) -> list[Any]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UnreadableFile(f"not valid JSON: {exc}") from None
    try:
        items = doc["shortUrls"]["data"] if fmt == "shlink" else doc["data"]
    except (KeyError, TypeError):
        where = "shortUrls.data" if fmt == "shlink" else "data"
        raise UnreadableFile(f"no {where} list: not a {fmt} export") from None
    if not isinstance(items, list):
        raise UnreadableFile(f"the links of a {fmt} export must be a list")
    return items


def _required(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is missing")
    return value.strip()


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} is not a date and time: {value!r}") from None


def _last_segment(value: str | None) -> str | None:
    return value.rstrip("/").rsplit("/", 1)[-1] or None if value else None


def _bitly(r: Mapping[str, Any]) -> LinkSpec:
    # A custom back-half wins; else the random one of the bitlink (`bit.ly/abc`).
    custom = _text(r.get("custom_bitlinks"))
    slug = _last_segment(custom.split(",")[0].strip() if custom else None)
    slug = slug or _last_segment(_text(r.get("link")) or _text(r.get("id")))
    return LinkSpec(
        url=_required(r.get("long_url"), "long_url"), slug=slug, title=_text(r.get("title"))
    )


def _yourls(r: Mapping[str, Any]) -> LinkSpec:
    return LinkSpec(
        url=_required(r.get("url"), "url"),
        slug=_required(r.get("keyword"), "keyword"),
        title=_text(r.get("title")),
    )


def _generic(r: Mapping[str, Any]) -> LinkSpec:
    return LinkSpec(
        url=_required(r.get("url"), "url"),
        slug=_text(r.get("slug")),
        title=_text(r.get("title")),
        description=_text(r.get("description")),
        note=_text(r.get("note")),
        expires_at=_time(r.get("expires_at"), "expires_at"),
    )


def _shlink(r: Mapping[str, Any]) -> LinkSpec:
    found = r.get("meta")
    meta: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    max_visits = meta.get("maxVisits")
    if max_visits is not None and (not isinstance(max_visits, int) or max_visits < 1):
        raise ValueError(f"meta.maxVisits is not a positive number: {max_visits!r}")
    forward = r.get("forwardQuery")
    return LinkSpec(
        url=_required(r.get("longUrl"), "longUrl"),
        slug=_required(r.get("shortCode"), "shortCode"),
        title=_text(r.get("title")),
        starts_at=_time(meta.get("validSince"), "meta.validSince"),
        expires_at=_time(meta.get("validUntil"), "meta.validUntil"),
        max_clicks=max_visits,
        forward_params=forward if isinstance(forward, bool) else None,
    )


def _kutt(r: Mapping[str, Any]) -> LinkSpec:
    return LinkSpec(
        url=_required(r.get("target"), "target"),
        slug=_required(r.get("address"), "address"),
        description=_text(r.get("description")),
    )
