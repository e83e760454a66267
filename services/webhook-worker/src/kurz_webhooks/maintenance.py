"""Hourly upkeep: forget processed event ids and visitor marks nobody will ask about, and
finished deliveries past their retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

log = logging.getLogger(__name__)
INTERVAL = 3600.0
EVENT_ID_DAYS = 7  # far beyond how long a stream entry stays pending
SUCCEEDED_DAYS = 7  # delivery history to list and replay
DEAD_DAYS = 30  # dead letters wait longer for someone to fix the endpoint and replay
PRUNE_SLICE = 10_000
VISITOR_MARK_DAYS = 3  # a visitor counts once per day; yesterday's marks still matter near midnight


async def prune(pool: asyncpg.Pool[Any]) -> None:
    await pool.execute(
        """DELETE FROM webhook_processed_events
           WHERE processed_at < now() - make_interval(days => $1)""",
        EVENT_ID_DAYS,
    )
    await pool.execute(
        "DELETE FROM webhook_group_visitors WHERE day < current_date - $1::int", VISITOR_MARK_DAYS
    )
    # In slices, so no single statement holds locks on millions of rows.
    while True:
        status: str = await pool.execute(
            """DELETE FROM webhook_deliveries WHERE id IN (
                   SELECT id FROM webhook_deliveries
                   WHERE status <> 'pending' AND finished_at < now() - make_interval(days => $1)
                     AND (status = 'succeeded' OR finished_at < now() - make_interval(days => $2))
                   LIMIT $3)""",
            SUCCEEDED_DAYS,
            DEAD_DAYS,
            PRUNE_SLICE,
        )
        if int(status.rsplit(" ", 1)[-1]) < PRUNE_SLICE:
            return


async def run(pool: asyncpg.Pool[Any], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await prune(pool)
        except (OSError, asyncpg.PostgresError):
            log.exception("pruning failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), INTERVAL)
