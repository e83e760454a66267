"""What the pages show: the group or the link, and its figures from the statistics query
layer (kurz_management.core.analytics)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec

from kurz_management.core.analytics import rollups, sql
from kurz_management.core.analytics.model import Bucket, Count, Period, Selection, Totals
from kurz_management.core.links.service import PublicLink

RANGES = (7, 30, 90, 365)  # days a visitor can choose with one click
TOP = 8  # rows of each ranking
MAX_LINKS = 200


class PageGroup(msgspec.Struct, frozen=True):
    id: int
    workspace_id: int
    name: str
    password_hash: str
    time_zone: str
    push_notify: bool = False  # milestones pushed to owners who asked on this page


class PageLink(msgspec.Struct, frozen=True):
    id: int
    short_url: str
    title: str | None
    url: str
    clicks: int
    visitors: int


class Figures(msgspec.Struct, frozen=True):
    """What every statistics page charts and ranks over its period."""

    span: Period
    totals: Totals
    days: list[Bucket]
    countries: list[Count]
    devices: list[Count]
    referrers: list[Count]


class PageStats(Figures, frozen=True):
    """A group's figures and its links."""

    links: list[PageLink]
    link_count: int


async def load_group(pool: asyncpg.Pool[Any], group_id: int) -> PageGroup | None:
    """The group when it has a statistics page (a statistics password), else None."""
    row = await pool.fetchrow(
        """SELECT g.id, g.workspace_id, g.name, g.stats_password_hash, w.time_zone,
                  g.push_notify
           FROM link_groups g JOIN workspaces w ON w.id = g.workspace_id
           WHERE g.id = $1 AND g.stats_password_hash IS NOT NULL""",
        group_id,
    )
    if row is None:
        return None
    return PageGroup(
        row["id"], row["workspace_id"], row["name"], row["stats_password_hash"], row["time_zone"],
        row["push_notify"],
    )  # fmt: skip


async def load_stats(
    pool: asyncpg.Pool[Any], group: PageGroup, span: Period, scheme: str
) -> PageStats:
    sel = Selection(group.workspace_id, group.time_zone, group_id=group.id)
    figures, (link_list, link_count) = await asyncio.gather(
        load_figures(pool, sel, span), _links(pool, sel, span, scheme)
    )
    return PageStats(**msgspec.structs.asdict(figures), links=link_list, link_count=link_count)


async def load_link_figures(pool: asyncpg.Pool[Any], link: PublicLink, span: Period) -> Figures:
    """One public link's figures (core.links.service.public_link found it public)."""
    record = link.record
    return await load_figures(
        pool, Selection(record.workspace_id, link.time_zone, link_ids=(record.id,)), span
    )


async def load_figures(pool: asyncpg.Pool[Any], sel: Selection, span: Period) -> Figures:
    totals, series, countries, devices, referrers = await asyncio.gather(
        rollups.totals(pool, sel, span),
        rollups.daily(pool, sel, span),
        rollups.counts(pool, sel, "country", span, TOP),
        rollups.counts(pool, sel, "device", span, TOP),
        rollups.counts(pool, sel, "referrer", span, TOP),
    )
    return Figures(span, totals, series, countries, devices, referrers)


async def _links(
    pool: asyncpg.Pool[Any], sel: Selection, span: Period, scheme: str
) -> tuple[list[PageLink], int]:
    """The group's live links, most clicked first (then newest), with their figures."""
    rows = await sql.fetch(
        pool,
        """SELECT l.id, l.host, l.slug, l.title, l.url,
                  coalesce(sum(d.clicks), 0)::bigint AS clicks,
                  coalesce(sum(d.visitors), 0)::bigint AS visitors,
                  count(*) OVER () AS total
           FROM links l LEFT JOIN link_daily d
             ON d.link_id = l.id AND d.day BETWEEN $2 AND $3
           WHERE l.group_id = $1 AND l.deleted_at IS NULL
           GROUP BY l.id ORDER BY clicks DESC, l.id DESC LIMIT $4""",
        sel.group_id,
        span.start,
        span.end,
        MAX_LINKS,
    )
    links = [
        PageLink(
            r["id"],
            f"{scheme}://{r['host']}/{r['slug']}",
            r["title"],
            r["url"],
            int(r["clicks"]),
            int(r["visitors"]),
        )
        for r in rows
    ]
    return links, int(rows[0]["total"]) if rows else 0
