"""Hourly upkeep: forget processed event ids and visitor marks nobody will ask about."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

log = logging.getLogger(__name__)
INTERVAL = 3600.0
EVENT_ID_DAYS = 7  # far beyond how long a stream entry stays pending
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


async def run(pool: asyncpg.Pool[Any], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await prune(pool)
        except (OSError, asyncpg.PostgresError):
            log.exception("pruning failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), INTERVAL)
