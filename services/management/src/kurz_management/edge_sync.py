"""Bringing committed writes to the edge cache, for certain.

A write records what the edge must learn in its own transaction (`record`: links,
addresses a link left, groups: an outbox row each). Right after the commit the writer
applies the records it has in hand (`settle`) and deletes those rows. If Redis is away,
the rows stay, and the healer (`heal_once`, run in a loop by `run_healer`) re-reads the
current truth for them from Postgres, writes it to Redis under the same per-link and
per-group locks the writers hold, and deletes them: a Redis outage during writes heals
by itself within seconds of Redis returning. `kurz cache rebuild` stays for disasters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import asyncpg
from kurz.edge_records import GROUP_COLUMNS, LINK_COLUMNS, edge_group_from_row, edge_link_from_row
from prometheus_client import Counter, Gauge

from kurz_management.context import AppContext
from kurz_management.faults import DATABASE_UNAVAILABLE, REDIS_UNAVAILABLE
from kurz_management.links import store

log = logging.getLogger(__name__)

WRITE_TIMEOUT = 2.0  # seconds a writer waits for Redis before leaving it to the healer
# The healer leaves rows this young to their writer, which is most likely applying them
# (and if not, the locks below keep the two in order).
GRACE_SECONDS = 1.0
HEAL_INTERVAL = 1.0
HEAL_BATCH = 1000

EDGE_WRITE_FAILURES = Counter(
    "kurz_management_edge_write_failures_total",
    "Edge cache writes that failed after a committed change (the healer applies them)",
)
BACKLOG = Gauge("kurz_edge_outbox_backlog", "Committed changes not yet applied to the edge cache")
OLDEST = Gauge(
    "kurz_edge_outbox_oldest_seconds", "Age of the oldest change not yet applied to the edge"
)
HEALED = Counter("kurz_edge_outbox_healed_total", "Outbox rows the healer applied")
_REDIS_FAULTS: tuple[type[BaseException], ...] = (*REDIS_UNAVAILABLE, OSError, TimeoutError)

# Per-group advisory locks, like the links layer's per-link ones: a group's writer holds
# its lock from before the commit until its edge write, and so does the healer.
_GROUP_LOCK_CLASS = 1_801_001


async def record(
    conn: asyncpg.Connection[Any],
    *,
    links: Iterable[int] = (),
    addresses: Iterable[tuple[str, str]] = (),
    groups: Iterable[int] = (),
) -> list[int]:
    """Inside the writer's transaction: what the edge must learn; the rows' ids."""
    link_ids, places, group_ids = list(links), list(addresses), list(groups)
    if not (link_ids or places or group_ids):
        return []
    rows = await conn.fetch(
        """INSERT INTO edge_outbox (link_id, host, slug, group_id)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])
           RETURNING id""",
        [*link_ids, *([None] * (len(places) + len(group_ids)))],
        [*([None] * len(link_ids)), *(h for h, _ in places), *([None] * len(group_ids))],
        [*([None] * len(link_ids)), *(s for _, s in places), *([None] * len(group_ids))],
        [*([None] * (len(link_ids) + len(places))), *group_ids],
    )
    return [r["id"] for r in rows]


async def settle(
    conn: asyncpg.Connection[Any], outbox_ids: list[int], write: Callable[[], Awaitable[None]]
) -> None:
    """After the commit, on the writer's connection: apply the change with the rows in
    hand, then forget the outbox rows. A Redis failure is counted and logged, never
    raised: the healer applies the change."""
    try:
        async with asyncio.timeout(WRITE_TIMEOUT):
            await write()
    except _REDIS_FAULTS as exc:
        EDGE_WRITE_FAILURES.inc()
        log.warning("edge cache write failed; the outbox healer will apply it: %r", exc)
        return
    if outbox_ids:
        with contextlib.suppress(*DATABASE_UNAVAILABLE):  # the healer re-applies: harmless
            await conn.execute("DELETE FROM edge_outbox WHERE id = ANY($1)", outbox_ids)


async def lock_group(conn: asyncpg.Connection[Any], group_id: int) -> None:
    await conn.execute("SELECT pg_advisory_lock($1, $2)", _GROUP_LOCK_CLASS, group_id % 2**31)


async def unlock_group(conn: asyncpg.Connection[Any], group_id: int) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1, $2)", _GROUP_LOCK_CLASS, group_id % 2**31)


async def heal_once(ctx: AppContext) -> int:
    """Apply the outbox rows their writers left behind; how many were applied."""
    async with ctx.pool.acquire() as conn:
        pending = await conn.fetch(
            """SELECT id, link_id, host, slug, group_id FROM edge_outbox
               WHERE created_at < now() - make_interval(secs => $1)
               ORDER BY id LIMIT $2""",
            GRACE_SECONDS,
            HEAL_BATCH,
        )
        if not pending:
            return 0
        link_ids = sorted({r["link_id"] for r in pending if r["link_id"] is not None})
        group_ids = sorted({r["group_id"] for r in pending if r["group_id"] is not None})
        await store.lock_links(conn, link_ids)
        for group_id in group_ids:
            await lock_group(conn, group_id)
        try:
            await _apply(ctx, conn, pending, link_ids, group_ids)
            await conn.execute(
                "DELETE FROM edge_outbox WHERE id = ANY($1)", [r["id"] for r in pending]
            )
        finally:
            with contextlib.suppress(*DATABASE_UNAVAILABLE):
                for group_id in group_ids:
                    await unlock_group(conn, group_id)
                await store.unlock_links(conn, link_ids)
    HEALED.inc(len(pending))
    return len(pending)


async def _apply(
    ctx: AppContext,
    conn: asyncpg.Connection[Any],
    pending: list[asyncpg.Record],
    link_ids: list[int],
    group_ids: list[int],
) -> None:
    """Writes the current truth of every named link, address and group to Redis."""
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
    groups = await conn.fetch(
        f"SELECT {GROUP_COLUMNS} FROM link_groups g WHERE g.id = ANY($1)", group_ids
    )
    await ctx.cache.put_links((edge_link_from_row(r) for r in live), gone=gone)
    for group in groups:
        await ctx.cache.put_group(edge_group_from_row(group))
    for group_id in set(group_ids) - {g["id"] for g in groups}:
        await ctx.cache.drop_group(group_id)


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
        except (*_REDIS_FAULTS, *DATABASE_UNAVAILABLE) as exc:
            log.warning("edge outbox not applied yet (retrying): %r", exc)
        except Exception:
            log.exception("edge outbox healer failed (retrying)")
        await asyncio.sleep(interval)
