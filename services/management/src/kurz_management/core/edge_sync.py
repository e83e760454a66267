"""The edge outbox's healer: it applies, from the current truth, what writers committed
but could not bring to the edge cache (kurz.edge_outbox has the write side).

Rows older than a second are taken in order; the healer holds the same per-link,
per-group and per-workspace locks as the writers while it re-reads Postgres and writes
Redis, then deletes the rows. A Redis outage during writes heals by itself within
seconds of Redis returning; `kurz cache rebuild` stays for disasters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from kurz import edge_outbox
from kurz.branding import WORKSPACE_COLUMNS, edge_workspace_from_row
from kurz.edge_records import GROUP_COLUMNS, LINK_COLUMNS, edge_group_from_row, edge_link_from_row
from prometheus_client import Counter, Gauge

from kurz_management.core.context import AppContext
from kurz_management.core.faults import DATABASE_UNAVAILABLE, REDIS_UNAVAILABLE
from kurz_management.core.links import store

log = logging.getLogger(__name__)

# The healer leaves rows this young to their writer, which is most likely applying them
# (and if not, the locks keep the two in order).
GRACE_SECONDS = 1.0
HEAL_INTERVAL = 1.0
HEAL_BATCH = 1000

BACKLOG = Gauge("kurz_edge_outbox_backlog", "Committed changes not yet applied to the edge cache")
OLDEST = Gauge(
    "kurz_edge_outbox_oldest_seconds", "Age of the oldest change not yet applied to the edge"
)
HEALED = Counter("kurz_edge_outbox_healed_total", "Outbox rows the healer applied")
_FAULTS: tuple[type[BaseException], ...] = (
    *REDIS_UNAVAILABLE,
    *DATABASE_UNAVAILABLE,
)


async def heal_once(ctx: AppContext) -> int:
    """Apply the outbox rows their writers left behind; how many were applied."""
    async with ctx.pool.acquire() as conn:
        pending = await conn.fetch(
            """SELECT id, link_id, host, slug, group_id, workspace_id FROM edge_outbox
               WHERE created_at < now() - make_interval(secs => $1)
               ORDER BY id LIMIT $2""",
            GRACE_SECONDS,
            HEAL_BATCH,
        )
        if not pending:
            return 0
        # One kind of lock at a time, each taken in one order, as the writers take them:
        # the healer never waits for a lock while it holds another kind.
        link_rows = [r for r in pending if r["link_id"] is not None or r["host"] is not None]
        link_ids = _named(link_rows, "link_id")
        await store.lock_links(conn, link_ids)
        try:
            await _apply_links(ctx, conn, link_rows, link_ids)
            await _forget(conn, link_rows)
        finally:
            with contextlib.suppress(*DATABASE_UNAVAILABLE):
                await store.unlock_links(conn, link_ids)
        group_rows = [r for r in pending if r["group_id"] is not None]
        async with edge_outbox.locked(conn, "group", _named(group_rows, "group_id")):
            await _apply_groups(ctx, conn, _named(group_rows, "group_id"))
            await _forget(conn, group_rows)
        workspace_rows = [r for r in pending if r["workspace_id"] is not None]
        async with edge_outbox.locked(conn, "workspace", _named(workspace_rows, "workspace_id")):
            await _apply_workspaces(ctx, conn, _named(workspace_rows, "workspace_id"))
            await _forget(conn, workspace_rows)
    HEALED.inc(len(pending))
    return len(pending)


def _named(pending: list[asyncpg.Record], column: str) -> list[int]:
    return sorted({r[column] for r in pending if r[column] is not None})


async def _forget(conn: asyncpg.Connection[Any], applied: list[asyncpg.Record]) -> None:
    if applied:
        await conn.execute("DELETE FROM edge_outbox WHERE id = ANY($1)", [r["id"] for r in applied])


async def _apply_links(
    ctx: AppContext,
    conn: asyncpg.Connection[Any],
    pending: list[asyncpg.Record],
    link_ids: list[int],
) -> None:
    """Writes the current truth of every named link and left address to Redis."""
    rows = await conn.fetch(
        f"SELECT {LINK_COLUMNS}, l.deleted_at FROM links l WHERE l.id = ANY($1)", link_ids
    )
    live = [r for r in rows if r["deleted_at"] is None]
    vacated = {(r["host"], r["slug"]) for r in rows if r["deleted_at"] is not None}
    vacated |= {(r["host"], r["slug"]) for r in pending if r["host"] is not None}
    vacated -= {(r["host"], r["slug"]) for r in live}
    # An address a link left may hold another live link by now: that one is the truth.
    holders = await conn.fetch(
        f"""SELECT {LINK_COLUMNS} FROM links l
            JOIN unnest($1::text[], $2::text[]) AS a(host, slug)
              ON l.host = a.host AND l.slug = a.slug
            WHERE l.deleted_at IS NULL""",
        [h for h, _ in vacated],
        [s for _, s in vacated],
    )
    live += holders
    gone = vacated - {(r["host"], r["slug"]) for r in holders}
    if live or gone:
        await ctx.cache.put_links((edge_link_from_row(r) for r in live), gone=gone)


async def _apply_groups(
    ctx: AppContext, conn: asyncpg.Connection[Any], group_ids: list[int]
) -> None:
    groups = await conn.fetch(
        f"SELECT {GROUP_COLUMNS} FROM link_groups g WHERE g.id = ANY($1)", group_ids
    )
    for group in groups:
        await ctx.cache.put_group(edge_group_from_row(group))
    for group_id in set(group_ids) - {g["id"] for g in groups}:
        await ctx.cache.drop_group(group_id)


async def _apply_workspaces(
    ctx: AppContext, conn: asyncpg.Connection[Any], workspace_ids: list[int]
) -> None:
    rows = await conn.fetch(
        f"SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = ANY($1)", workspace_ids
    )
    for row in rows:
        await ctx.cache.put_workspace(edge_workspace_from_row(row))


async def measure_backlog(ctx: AppContext) -> None:
    row = await ctx.pool.fetchrow(
        """SELECT count(*) AS n,
                  coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest
           FROM edge_outbox"""
    )
    if row is not None:
        BACKLOG.set(row["n"])
        OLDEST.set(float(row["oldest"]))


async def run_healer(ctx: AppContext, interval: float = HEAL_INTERVAL) -> None:
    """The management service's background task: heal, measure, sleep, until cancelled."""
    while True:
        try:
            while await heal_once(ctx) == HEAL_BATCH:
                pass
            await measure_backlog(ctx)
        except _FAULTS as exc:
            log.warning("edge outbox not applied yet (retrying): %r", exc)
        except Exception:
            log.exception("edge outbox healer failed (retrying)")
        await asyncio.sleep(interval)
