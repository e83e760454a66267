"""Raw clicks as a streamed JSON array, CSV or TSV file, a batch at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import asyncpg
import msgspec

from kurz_management.core.analytics import raw
from kurz_management.core.analytics.model import Period, RawFilter, Selection

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}
_DELIMITERS = {"csv": ",", "tsv": "\t"}
COLUMNS: tuple[str, ...] = raw.RawClick.__struct_fields__
_encoder = msgspec.json.Encoder()
T = TypeVar("T")


async def chunks(
    pool: asyncpg.Pool[Any], sel: Selection, flt: RawFilter, span: Period, fmt: str
) -> AsyncIterator[bytes]:
    """The export's body, its first batch already read: a filter the database refuses,
    or a database that does not answer, fails here, before the response's first byte."""
    clicks = await primed(raw.export(pool, sel, flt, span))
    return _json(clicks) if fmt == "json" else _delimited(clicks, _DELIMITERS[fmt])


async def primed(batches: AsyncIterator[T]) -> AsyncIterator[T]:
    """`batches` with its first item read now (what a streamed answer does before it
    sends its status), the rest as it comes."""
    try:
        first = await anext(batches)
    except StopAsyncIteration:
        return _empty()
    return _after(first, batches)


async def _after(first: T, rest: AsyncIterator[T]) -> AsyncIterator[T]:
    yield first
    async for item in rest:
        yield item


async def _empty() -> AsyncIterator[Any]:
    return
    yield


async def _json(batches: AsyncIterator[list[raw.RawClick]]) -> AsyncIterator[bytes]:
    yield b"["
    first = True
    async for batch in batches:
        items = _encoder.encode(batch)[1:-1]
        yield items if first else b"," + items
        first = False
    yield b"]"


async def _delimited(
    batches: AsyncIterator[list[raw.RawClick]], delimiter: str
) -> AsyncIterator[bytes]:
    """CSV, or TSV with tabs: a value holding the delimiter, a quote or a line break is
    quoted either way, so no value can shift a column."""
    yield (delimiter.join(COLUMNS) + "\r\n").encode()
    async for batch in batches:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter)
        for click in batch:
            writer.writerow([_cell(getattr(click, c)) for c in COLUMNS])
        yield out.getvalue().encode()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return defang(str(value))


def defang(text: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @) is quoted with a leading
    apostrophe: destinations and referrers come from outside."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
