"""Periodic upkeep: day partitions made ahead of time, old raw clicks dropped (retention),
old unique-visitor marks dropped a day at a time. Rollups are kept for good."""

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
_MARK_PARTITION = re.compile(r"^(?:link|group|workspace)_visitors_(\d{8})$")


class UpkeepResult(NamedTuple):
    dropped: list[str]  # partitions of `clicks` dropped
    marks_dropped: list[str]  # partitions of the visitor marks dropped


async def _day_partitions(
    conn: asyncpg.Connection[Any], parents: tuple[str, ...], name: re.Pattern[str]
) -> dict[str, date]:
    """The day partitions of the parent tables, by name."""
    rows = await conn.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = ANY($1::regclass[])""",
        list(parents),
    )
    found: dict[str, date] = {}
    for row in rows:
        match = name.match(row["relname"])
        if match:
            found[row["relname"]] = datetime.strptime(match[1], "%Y%m%d").replace(tzinfo=UTC).date()
    return found


async def click_partitions(conn: asyncpg.Connection[Any]) -> dict[str, date]:
    """The day partitions of `clicks`, by name."""
    return await _day_partitions(conn, ("clicks",), _PARTITION)


async def mark_partitions(conn: asyncpg.Connection[Any]) -> dict[str, date]:
    """The day partitions of the three visitor-mark tables, by name."""
    return await _day_partitions(conn, MARK_TABLES, _MARK_PARTITION)


async def _drop_before(
    conn: asyncpg.Connection[Any], partitions: dict[str, date], cutoff: date
) -> list[str]:
    dropped = []
    for name, day in sorted(partitions.items()):
        if day < cutoff:
            # The name came from the catalog and matched one of the patterns above.
            await conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            dropped.append(name)
    return dropped


async def drop_old_partitions(
    conn: asyncpg.Connection[Any], retention_days: int, today: date
) -> list[str]:
    """Drop the partitions holding only clicks older than `retention_days` (0: keep all)."""
    if retention_days <= 0:
        return []
    cutoff = today - timedelta(days=retention_days)
    return await _drop_before(conn, await click_partitions(conn), cutoff)


async def drop_old_marks(conn: asyncpg.Connection[Any], mark_days: int, today: date) -> list[str]:
    """Forget which visitors were seen on days older than `mark_days` (0: keep all), a
    day's partition at a time: no row rewritten, nothing left for vacuum. A click that
    arrives later than that for such a day recreates the day's partition and counts
    its visitor again."""
    if mark_days <= 0:
        return []
    cutoff = today - timedelta(days=mark_days)
    return await _drop_before(conn, await mark_partitions(conn), cutoff)


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
    marks_dropped = await drop_old_marks(conn, mark_days, today)
    if dropped or marks_dropped:
        log.info(
            "upkeep",
            extra={"dropped_partitions": dropped, "dropped_mark_partitions": marks_dropped},
        )
    return UpkeepResult(dropped, marks_dropped)
