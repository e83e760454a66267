"""Giving every change a free address: generated slugs, in-batch duplicates, slugs
already taken. Two writers racing for one address are settled by the unique index
(`links_address`): the INSERT skips a taken address and the loser reports a conflict."""

from __future__ import annotations

from typing import Any

import asyncpg
from kurz.validation import generate_slug

from kurz_management.core.links.validate import Change

GENERATION_ATTEMPTS = 8


def _moving(change: Change) -> bool:
    return change.live and (change.stored is None or change.old_address != change.address)


async def assign(conn: asyncpg.Connection[Any], changes: list[Change]) -> None:
    for change in changes:
        if change.live and change.auto_slug:
            change.values["slug"] = generate_slug()
    for _ in range(GENERATION_ATTEMPTS):
        pending = [c for c in changes if _moving(c)]
        if not pending:
            return
        taken = await _taken(conn, pending)
        retry = False
        seen: set[tuple[str, str]] = set()
        for change in pending:
            address = change.address
            clash = address in seen or taken.get(address, change.link_id) != change.link_id
            seen.add(address)
            if not clash:
                continue
            if change.auto_slug:
                change.values["slug"] = generate_slug()
                retry = True
            else:
                host, slug = address
                change.fail("conflict", f"slug {slug!r} is already taken on {host}", "slug")
        if not retry:
            return
    for change in changes:
        if change.live and change.auto_slug and _moving(change):
            change.fail("conflict", "could not find a free slug, try again")


async def _taken(
    conn: asyncpg.Connection[Any], pending: list[Change]
) -> dict[tuple[str, str], int]:
    """Which of the addresses are in use, and by which link. A writer that takes one of
    them between this read and its own INSERT is caught by the unique index."""
    hosts = [c.values["host"] for c in pending]
    slugs = [c.values["slug"] for c in pending]
    rows = await conn.fetch(
        """SELECT l.host, l.slug, l.id FROM links l
           JOIN unnest($1::text[], $2::text[]) AS a(host, slug)
             ON l.host = a.host AND l.slug = a.slug
           WHERE l.deleted_at IS NULL""",
        hosts,
        slugs,
    )
    return {(r["host"], r["slug"]): r["id"] for r in rows}
