"""Clicks per group over a period (Vivoldi's clicks-by-group), and per link per day
(Vivoldi's clicks-by-date). Read from `group_daily` and `link_daily` only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
import msgspec
from kurz.plans import Entitlements

from kurz_management.core.analytics import sql
from kurz_management.core.analytics.model import Period, Selection
from kurz_management.core.analytics.periods import each_day
from kurz_management.core.analytics.rollups import links_scope
from kurz_management.core.analytics.selection import check_groups, require_group_statistics
from kurz_management.core.analytics.spans import rows_over


class GroupTotals(msgspec.Struct, frozen=True):
    group_id: int
    name: str
    clicks: int
    visitors: int  # distinct visitors per day, summed over the period's days


class GroupPage(msgspec.Struct, frozen=True):
    groups: list[GroupTotals]
    total: int  # groups selected, over all pages


async def group_page(
    pool: asyncpg.Pool[Any],
    workspace_id: int,
    group_ids: Sequence[int] | None,
    span: Period,
    *,
    entitlements: Entitlements,
    offset: int,
    limit: int,
) -> GroupPage:
    """The selected groups (None: all of the workspace's), by id, with their totals;
    groups without clicks count zero. Every named group must be the workspace's, and
    the plan must allow statistics by group for this selection."""
    require_group_statistics(entitlements, group_ids)
    ids: list[int] | None = None
    if group_ids is not None:
        await check_groups(pool, workspace_id, group_ids)
        ids = sorted(set(group_ids))
    args: list[Any] = [workspace_id, ids]
    page = """SELECT id, name FROM link_groups
              WHERE workspace_id = $1 AND ($2::bigint[] IS NULL OR id = ANY($2))"""
    rows_sql = rows_over(
        "group_id", "group_daily", "group_monthly", "group_id IN (SELECT id FROM g)", span, args
    )
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await sql.custom_plans(conn)
        total = await conn.fetchval(f"SELECT count(*) FROM ({page}) AS p", workspace_id, ids)
        rows = await conn.fetch(
            f"""WITH g AS ({page} ORDER BY id LIMIT {int(limit)} OFFSET {int(offset)}),
                     r AS ({rows_sql})
                SELECT g.id, g.name, coalesce(sum(r.clicks), 0)::bigint AS clicks,
                       coalesce(sum(r.visitors), 0)::bigint AS visitors
                FROM g LEFT JOIN r ON r.group_id = g.id
                GROUP BY g.id, g.name ORDER BY g.id""",
            *args,
        )
    items = [GroupTotals(r["id"], r["name"], int(r["clicks"]), int(r["visitors"])) for r in rows]
    return GroupPage(items, int(total))


class LinkDay(msgspec.Struct, frozen=True):
    day: date
    link_id: int
    host: str
    slug: str
    clicks: int
    visitors: int


async def link_days(
    pool: asyncpg.Pool[Any], sel: Selection, span: Period, *, fill: bool
) -> list[LinkDay]:
    """Clicks per link and day, by day then link id. `fill` adds the days without clicks
    (for one link: a complete calendar); otherwise only days with clicks appear."""
    scope, key = links_scope(sel)
    rows = await sql.fetch(
        pool,
        f"""SELECT d.day, l.id AS link_id, l.host, l.slug, d.clicks, d.visitors
            FROM link_daily d JOIN links l ON l.id = d.link_id
            WHERE {scope} AND d.day BETWEEN $2 AND $3
            ORDER BY d.day, l.id""",
        key,
        span.start,
        span.end,
    )
    found = [
        LinkDay(r["day"], r["link_id"], r["host"], r["slug"], int(r["clicks"]), int(r["visitors"]))
        for r in rows
    ]
    if not fill or sel.link_ids is None:
        return found
    return await _filled(pool, sel.link_ids, span, found)


async def _filled(
    pool: asyncpg.Pool[Any], link_ids: Sequence[int], span: Period, found: list[LinkDay]
) -> list[LinkDay]:
    links = await sql.fetch(
        pool,
        "SELECT id, host, slug FROM links WHERE id = ANY($1::bigint[]) ORDER BY id",
        list(link_ids),
    )
    seen = {(x.day, x.link_id): x for x in found}
    return [
        seen.get((day, r["id"])) or LinkDay(day, r["id"], r["host"], r["slug"], 0, 0)
        for day in each_day(span)
        for r in links
    ]
