"""Queries over raw clicks, for what the rollups cannot answer: filters combined with a
time series (clicks from one country by hour, bots included, ...) and exports.

Raw clicks are kept for KURZ_CLICK_RETENTION_DAYS; these queries see only that window.
Local days are computed in SQL from the workspace's time zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import asyncpg
import msgspec

from kurz_management.core.analytics import sql
from kurz_management.core.analytics.model import Bucket, Period, RawFilter, Selection
from kurz_management.core.analytics.periods import each_day

# Linkly's platforms → the OS families ua-parser names (kurz_aggregator.enrich).
PLATFORM_OS: dict[str, tuple[str, ...]] = {
    "ios": ("iOS",),
    "android": ("Android",),
    "windows": ("Windows", "Windows Phone"),
    "mac": ("Mac OS X", "macOS"),
    "linux": ("Linux", "Ubuntu", "Fedora", "Debian", "Arch Linux", "Linux Mint", "Gentoo"),
}
_OS_PLATFORM = {os: platform for platform, names in PLATFORM_OS.items() for os in names}


def platform_of(os_family: str) -> str:
    """Linkly's platform for an OS family; "other" when it is none of the five."""
    return _OS_PLATFORM.get(os_family, "other")


_SHOWN = "outcome IN ('redirect', 'page') AND NOT overseas"
_BOTS = {
    "exclude": "counted",
    "only": f"bot AND {_SHOWN}",
    "include": f"(counted OR (bot AND {_SHOWN}))",
}


def _where(sel: Selection, flt: RawFilter, span: Period) -> tuple[str, list[Any]]:
    """Conditions on `clicks` and their arguments; $1 is the time zone."""
    args: list[Any] = [sel.time_zone, sel.workspace_id, span.start, span.end]
    clauses = [
        "workspace_id = $2",
        "clicked_at >= ($3::date::timestamp AT TIME ZONE $1)",
        "clicked_at < (($4::date + 1)::timestamp AT TIME ZONE $1)",
        _BOTS[flt.bots],
    ]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if sel.link_ids is not None:
        clauses.append(f"link_id = ANY({arg(list(sel.link_ids))}::bigint[])")
    if sel.group_id is not None:
        clauses.append(f"group_id = {arg(sel.group_id)}")
    if flt.country:
        clauses.append(f"country = {arg(flt.country.upper())}")
    if flt.platform:
        clauses.append(f"os = ANY({arg(list(PLATFORM_OS.get(flt.platform, ())))}::text[])")
    if flt.browser:
        clauses.append(f"lower(browser) = {arg(flt.browser.lower())}")
    return " AND ".join(clauses), args


# A raw dimension → its SQL over `clicks` (Linkly's counters with filters rollups lack).
RAW_DIMENSIONS = {
    "country": "country",
    "os": "os",
    "browser": "browser",
    "referrer": "referrer",
    "destination": "destination",
    "link_id": "link_id::text",
    "isp": "isp",
    "params": "param",  # each of a click's query parameters, "name=value"
}


async def counts(
    pool: asyncpg.Pool[Any],
    sel: Selection,
    flt: RawFilter,
    span: Period,
    dimension: str,
    *,
    unique: bool = False,
    limit: int = 100,
) -> list[tuple[str | None, int]]:
    """Clicks (or distinct visitors) by one dimension of raw clicks, most first; ties by
    value. For what the rollups cannot answer: a filter, bots, or unique visitors."""
    where, args = _where(sel, flt, span)
    measure = "count(DISTINCT visitor)" if unique else "count(*)"
    column = RAW_DIMENSIONS[dimension]
    source = "clicks, unnest(params) AS param" if dimension == "params" else "clicks"
    rows = await pool.fetch(
        f"""SELECT {column} AS value, {measure} AS n FROM {source} WHERE {where}
            GROUP BY 1 ORDER BY n DESC, value NULLS LAST LIMIT {int(limit)}""",
        *args,
    )
    return [(r["value"], int(r["n"])) for r in rows]


async def series(
    pool: asyncpg.Pool[Any], sel: Selection, flt: RawFilter, span: Period, *, hourly: bool
) -> list[Bucket]:
    """Like rollups.daily/hourly (visitors distinct per bucket), from raw clicks."""
    where, args = _where(sel, flt, span)
    hour = "extract(hour FROM clicked_at AT TIME ZONE $1)::int" if hourly else "NULL::int"
    rows = await sql.fetch(
        pool,
        f"""SELECT (clicked_at AT TIME ZONE $1)::date AS day, {hour} AS hour,
                   count(*) AS clicks, count(DISTINCT visitor) AS visitors
            FROM clicks WHERE {where} GROUP BY 1, 2""",
        *args,
    )
    found = {(r["day"], r["hour"]): r for r in rows}
    hours: list[int | None] = list(range(24)) if hourly else [None]
    out = []
    for day in each_day(span):
        for h in hours:
            row = found.get((day, h))
            out.append(
                Bucket(day, h, int(row["clicks"]), int(row["visitors"]))
                if row
                else Bucket(day, h, 0, 0)
            )
    return out


class RawClick(msgspec.Struct, frozen=True):
    """One exported click. Neither the visitor id nor anything else that identifies a
    person is exported."""

    clicked_at: datetime
    day: date  # local day in the workspace's time zone
    link_id: int
    group_id: int | None
    destination: str
    rule: str | None
    outcome: str
    counted: bool
    country: str | None
    referrer_host: str | None
    device: str | None
    os: str | None
    browser: str | None
    bot: bool
    bot_name: str | None
    qr: bool


_EXPORT_COLUMNS = (
    "clicked_at, (clicked_at AT TIME ZONE $1)::date AS day, link_id, group_id, destination, "
    "rule, outcome, counted, country, referrer_host, device, os, browser, bot, bot_name, qr"
)


async def export(
    pool: asyncpg.Pool[Any], sel: Selection, flt: RawFilter, span: Period, *, batch: int = 1000
) -> AsyncIterator[list[RawClick]]:
    """Matching raw clicks, oldest first, in batches read through a server-side cursor:
    memory stays flat however many clicks the period holds."""
    where, args = _where(sel, flt, span)
    query = f"SELECT {_EXPORT_COLUMNS} FROM clicks WHERE {where} ORDER BY clicked_at, event_id"
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await sql.custom_plans(conn)
        cursor = await conn.cursor(query, *args)
        while rows := await cursor.fetch(batch):
            yield [RawClick(**dict(r)) for r in rows]
