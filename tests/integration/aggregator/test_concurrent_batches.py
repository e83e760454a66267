"""Two aggregators' batches in flight at once: a visitor is counted new to a day once,
however its batches interleave, and batches of different visitors do not wait for each
other (no lock of the aggregator's own: the day mark's unique index orders the rest).

One batch is held open in its transaction, its rollups written, while the other runs,
as two consumers of one group do under load."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import asyncpg
from kurz_aggregator.lookups import Lookups
from kurz_aggregator.rows import COLUMNS, to_row
from kurz_aggregator.writer import (
    BATCH_TABLE,
    INSERT_CLICKS,
    ROLLUPS,
    ensure_partitions,
    tally,
    write_batch,
)

from tests.conftest import Workspace, new_workspace
from tests.integration.aggregator.conftest import at, click, new_link_id

NOON = at("2025-06-01T12:00:00+00:00")
NOON_DAY = date(2025, 6, 1)


async def _rows(pool: asyncpg.Pool[Any], events: list[Any]) -> list[Any]:
    lookups = Lookups(60.0)
    async with pool.acquire() as conn:
        await lookups.load(conn, {e.workspace_id for e in events}, set())
        await ensure_partitions(conn, [NOON_DAY])
    return [to_row(e, lookups) for e in events]


async def _visitors(pool: asyncpg.Pool[Any], link: int) -> list[tuple[Any, ...]]:
    rows = await pool.fetch(
        "SELECT clicks, visitors FROM link_daily WHERE link_id = $1 ORDER BY day", link
    )
    return [tuple(r.values()) for r in rows]


async def _held_open_while(pool: asyncpg.Pool[Any], held: list[Any], other: list[Any]) -> bool:
    """Writes `held` up to its commit, runs `other` as a batch of its own meanwhile, and
    tells whether `other` committed before `held` did."""
    async with pool.acquire() as first, pool.acquire() as second:
        async with first.transaction():
            await first.execute(BATCH_TABLE)
            await first.copy_records_to_table("aggregator_batch", records=held, columns=COLUMNS)
            await first.fetchval(INSERT_CLICKS, len(held))
            await first.execute(ROLLUPS, *tally(held).params)
            running = asyncio.create_task(write_batch(second, other))
            await asyncio.wait([running], timeout=1.0)
            committed_first = running.done()
        await running  # `held` committed: `other` finishes now if it waited
    return committed_first


async def test_one_visitor_in_two_batches_at_once_is_new_to_the_day_once(
    pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    link = new_link_id()
    held = await _rows(pool, [click(workspace.id, link, visitor="alice", at=NOON)])
    other = await _rows(pool, [click(workspace.id, link, visitor="alice", at=NOON + 3600)])
    await _held_open_while(pool, held, other)
    assert await _visitors(pool, link) == [(2, 1)]


async def test_batches_of_different_visitors_do_not_wait_for_each_other(
    pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    # Other workspaces too: one workspace's daily row is one counter, which two batches
    # adding to it update one after the other.
    link = new_link_id()
    neighbour = await new_workspace(pool)
    held = await _rows(pool, [click(workspace.id, link, visitor="carol", at=NOON)])
    other = await _rows(pool, [click(neighbour.id, new_link_id(), visitor="dave", at=NOON)])
    assert await _held_open_while(pool, held, other)
    assert await _visitors(pool, link) == [(1, 1)]
