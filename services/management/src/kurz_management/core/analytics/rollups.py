"""Queries over the aggregator's rollups (migrations 0001 and 0002): the fast path.

A selection reads the rollup that keeps its exact visitors: `workspace_*` for a whole
workspace, `group_*` for a group (by the group a link was in when clicked), `link_*` for
links. Rollups hold only counted clicks: bots, HEAD requests and a blockOverseasSticsYn
group's overseas clicks are already left out."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import asyncpg

from kurz_management.core.analytics import sql
from kurz_management.core.analytics.model import Bucket, Count, Period, Selection, Totals
from kurz_management.core.analytics.periods import each_day
from kurz_management.core.analytics.spans import rows_over

Grain = Literal["daily", "hourly"]
# The dimensions the aggregator counts per day (`*_daily_dims.dimension`).
DIMENSIONS = frozenset(
    {"country", "device", "os", "browser", "referrer", "destination", "source", "bot"}
)


def _source(sel: Selection, grain: Grain) -> tuple[str, str, Any]:
    """(table, condition on $1, $1) of the rollup that answers the selection."""
    if sel.link_ids is not None:
        return f"link_{grain}", "link_id = ANY($1::bigint[])", list(sel.link_ids)
    if sel.group_id is not None:
        return f"group_{grain}", "group_id = $1", sel.group_id
    return f"workspace_{grain}", "workspace_id = $1", sel.workspace_id


def links_scope(sel: Selection) -> tuple[str, Any]:
    """(condition on $1 over `links l`, $1): the links the selection counts."""
    if sel.link_ids is not None:
        return "l.id = ANY($1::bigint[])", list(sel.link_ids)
    if sel.group_id is not None:
        return "l.group_id = $1", sel.group_id
    return "l.workspace_id = $1", sel.workspace_id


async def daily(pool: asyncpg.Pool[Any], sel: Selection, span: Period) -> list[Bucket]:
    """Every day of the period, days without clicks included."""
    table, cond, key = _source(sel, "daily")
    rows = await sql.fetch(
        pool,
        f"""SELECT day, sum(clicks)::bigint AS clicks, sum(visitors)::bigint AS visitors
            FROM {table} WHERE {cond} AND day BETWEEN $2 AND $3 GROUP BY day""",
        key,
        span.start,
        span.end,
    )
    found = {r["day"]: r for r in rows}
    return [_bucket(day, None, found.get(day)) for day in each_day(span)]


async def hourly(pool: asyncpg.Pool[Any], sel: Selection, span: Period) -> list[Bucket]:
    """Every hour of every day of the period, in local time."""
    table, cond, key = _source(sel, "hourly")
    rows = await sql.fetch(
        pool,
        f"""SELECT day, hour, sum(clicks)::bigint AS clicks, sum(visitors)::bigint AS visitors
            FROM {table} WHERE {cond} AND day BETWEEN $2 AND $3
            GROUP BY day, hour""",
        key,
        span.start,
        span.end,
    )
    found = {(r["day"], r["hour"]): r for r in rows}
    return [
        _bucket(day, hour, found.get((day, hour))) for day in each_day(span) for hour in range(24)
    ]


def _bucket(day: date, hour: int | None, row: Any) -> Bucket:
    if row is None:
        return Bucket(day, hour, 0, 0)
    return Bucket(day, hour, int(row["clicks"]), int(row["visitors"]))


async def totals(pool: asyncpg.Pool[Any], sel: Selection, span: Period) -> Totals:
    table, cond, key = _source(sel, "daily")
    row = await sql.fetchrow(
        pool,
        f"""SELECT coalesce(sum(clicks), 0)::bigint AS clicks,
                   coalesce(sum(visitors), 0)::bigint AS visitors
            FROM {table} WHERE {cond} AND day BETWEEN $2 AND $3""",
        key,
        span.start,
        span.end,
    )
    assert row is not None
    return Totals(int(row["clicks"]), int(row["visitors"]))


async def counts(
    pool: asyncpg.Pool[Any], sel: Selection, dimension: str, span: Period, limit: int = 100
) -> list[Count]:
    """Clicks by one dimension's values, most first; ties by value."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    key: Any
    if sel.group_id is not None:
        table, cond, key = "group_daily_dims", "group_id = $1", sel.group_id
    elif sel.link_ids is not None:
        table, cond, key = "link_daily_dims", "link_id = ANY($1::bigint[])", list(sel.link_ids)
    else:
        # Kept from the links' counters by migration 0005's triggers.
        table, cond, key = "workspace_daily_dims", "workspace_id = $1", sel.workspace_id
    rows = await sql.fetch(
        pool,
        f"""SELECT value, sum(clicks)::bigint AS clicks FROM {table}
            WHERE {cond} AND day BETWEEN $2 AND $3 AND dimension = $4
            GROUP BY value ORDER BY clicks DESC, value LIMIT $5""",
        key,
        span.start,
        span.end,
        dimension,
        limit,
    )
    return [Count(r["value"], int(r["clicks"])) for r in rows]


class LinkTotals(Totals, frozen=True):
    link_id: int


async def by_link(
    pool: asyncpg.Pool[Any], sel: Selection, span: Period, limit: int = 1000
) -> list[LinkTotals]:
    """Clicks and visitors per link (links with clicks in the period), most first. A
    group's links are the links it holds now."""
    key: Any
    if sel.link_ids is not None:
        scope, key = "SELECT unnest($1::bigint[])", list(sel.link_ids)
    elif sel.group_id is not None:
        scope, key = "SELECT id FROM links WHERE group_id = $1", sel.group_id
    else:
        scope, key = "SELECT id FROM links WHERE workspace_id = $1", sel.workspace_id
    args: list[Any] = [key]
    rows_sql = rows_over(
        "link_id", "link_daily", "link_monthly", f"link_id IN ({scope})", span, args
    )
    rows = await sql.fetch(
        pool,
        f"""SELECT link_id, sum(clicks)::bigint AS clicks, sum(visitors)::bigint AS visitors
            FROM ({rows_sql}) AS r
            GROUP BY link_id ORDER BY clicks DESC, link_id LIMIT {int(limit)}""",
        *args,
    )
    return [LinkTotals(int(r["clicks"]), int(r["visitors"]), link_id=r["link_id"]) for r in rows]


class UtmTotals(Totals, frozen=True):
    source: str | None
    medium: str | None
    campaign: str | None


async def by_utm(
    pool: asyncpg.Pool[Any], sel: Selection, span: Period, limit: int = 100
) -> list[UtmTotals]:
    """Clicks by the UTM tags of the links clicked (kurz adds a link's utm_* to its
    destination, so a link's clicks are its campaign's)."""
    scope, key = links_scope(sel)
    rows = await sql.fetch(
        pool,
        f"""SELECT l.utm_source, l.utm_medium, l.utm_campaign,
                   sum(d.clicks)::bigint AS clicks, sum(d.visitors)::bigint AS visitors
            FROM link_daily d JOIN links l ON l.id = d.link_id
            WHERE {scope} AND d.day BETWEEN $2 AND $3
              AND (l.utm_source IS NOT NULL OR l.utm_medium IS NOT NULL
                   OR l.utm_campaign IS NOT NULL)
            GROUP BY 1, 2, 3 ORDER BY clicks DESC, 1, 2, 3 LIMIT $4""",
        key,
        span.start,
        span.end,
        limit,
    )
    return [
        UtmTotals(
            int(r["clicks"]),
            int(r["visitors"]),
            source=r["utm_source"],
            medium=r["utm_medium"],
            campaign=r["utm_campaign"],
        )
        for r in rows
    ]
