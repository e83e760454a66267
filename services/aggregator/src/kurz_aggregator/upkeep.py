"""Periodic upkeep: day partitions made ahead of time, old raw clicks dropped (retention),
old unique-visitor marks pruned. Rollups are kept for good."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import asyncpg

from kurz_aggregator.writer import ensure_partitions

log = logging.getLogger("kurz.aggregator")

_PARTITION = re.compile(r"^clicks_(\d{8})$")
MARK_TABLES = ("link_visitors", "group_visitors", "workspace_visitors")


class UpkeepResult(NamedTuple):
    dropped: list[str]  # partitions of `clicks` dropped
    marks_pruned: int


async def click_partitions(conn: asyncpg.Connection[Any]) -> dict[str, date]:
    """The day partitions of `clicks`, by name."""
    rows = await conn.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'clicks'::regclass"""
    )
    found: dict[str, date] = {}
    for row in rows:
        match = _PARTITION.match(row["relname"])
        if match:
            found[row["relname"]] = datetime.strptime(match[1], "%Y%m%d").replace(tzinfo=UTC).date()
    return found


async def drop_old_partitions(
    conn: asyncpg.Connection[Any], retention_days: int, today: date
) -> list[str]:
    """Drop the partitions holding only clicks older than `retention_days` (0: keep all)."""
    if retention_days <= 0:
        return []
    cutoff = today - timedelta(days=retention_days)
    dropped = []
    for name, day in sorted((await click_partitions(conn)).items()):
        if day < cutoff:
            # The name came from the catalog and matched ^clicks_\d{8}$.
            await conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            dropped.append(name)
    return dropped


async def prune_marks(conn: asyncpg.Connection[Any], mark_days: int, today: date) -> int:
    """Forget which visitors were seen on days older than `mark_days` (0: keep all). A
    click arriving later than that for such a day would count its visitor again."""
    if mark_days <= 0:
        return 0
    cutoff = today - timedelta(days=mark_days)
    pruned = 0
    for table in MARK_TABLES:
        status: str = await conn.execute(f"DELETE FROM {table} WHERE day < $1", cutoff)
        pruned += int(status.rsplit(" ", 1)[-1])
    return pruned


async def run_upkeep(
    conn: asyncpg.Connection[Any],
    *,
    retention_days: int,
    mark_days: int,
    now: datetime | None = None,
) -> UpkeepResult:
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    await ensure_partitions(conn, [today, today + timedelta(days=1)])
    dropped = await drop_old_partitions(conn, retention_days, today)
    pruned = await prune_marks(conn, mark_days, today)
    if dropped or pruned:
        log.info("upkeep", extra={"dropped_partitions": dropped, "marks_pruned": pruned})
    return UpkeepResult(dropped, pruned)
