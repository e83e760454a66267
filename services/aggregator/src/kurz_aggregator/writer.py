"""One batch, one transaction: raw clicks, dedupe and every rollup commit together.

The batch is COPYed into a session temp table; `INSERT INTO clicks ... ON CONFLICT DO
NOTHING RETURNING` tells which events are new (the primary key is the dedupe mark), and
only those reach the rollups. A redelivered event conflicts and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

import asyncpg

from kurz_aggregator.rows import COLUMNS, Row

BATCH_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS aggregator_batch (
    event_id text, clicked_at timestamptz, workspace_id bigint, link_id bigint,
    group_id bigint, destination text, rule text, outcome text, visitor text, country text,
    referrer text, user_agent text, device text, os text, browser text, bot boolean,
    qr boolean, counted boolean, referrer_host text, bot_name text, overseas boolean,
    isp text, params text[], day date, hour smallint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS aggregator_fresh (LIKE aggregator_batch) ON COMMIT DELETE ROWS;
"""

_RAW = ", ".join(COLUMNS[:-2])  # every column but the local day and hour

INSERT_CLICKS = f"""
WITH fresh AS (
    INSERT INTO clicks ({_RAW})
    SELECT {_RAW} FROM aggregator_batch
    ON CONFLICT DO NOTHING
    RETURNING clicked_at, event_id
)
INSERT INTO aggregator_fresh
SELECT b.* FROM aggregator_batch b JOIN fresh f USING (clicked_at, event_id)
"""


# The mark that makes a visitor new to the day: an hour of its own, before any real one.
DAY_MARK = -1


def _rollups(scope: str, key: str, where: str = "") -> str:
    """Add the fresh counted clicks to `<scope>_daily` and `<scope>_hourly`, and their
    visitors where new. A visitor's marks are (day, key, visitor, hour) rows: one per
    hour it came in, and one with hour DAY_MARK for the day. Each is inserted ON CONFLICT
    DO NOTHING, and only the rows this batch inserted count: a visitor is new to an hour
    or a day exactly when its batch wrote that mark. Two aggregators writing the same mark
    at once are ordered by the mark's unique index (the second waits for the first to
    commit, then finds it there), so they need no lock of their own and batches of
    different visitors commit side by side. Rows go in key order (fewer lock waits, no
    deadlock between batches)."""
    cond = f"counted {where}"
    day_keys, hour_keys = f"day, {key}", f"day, hour, {key}"
    add = "clicks = {t}.clicks + EXCLUDED.clicks, visitors = {t}.visitors + EXCLUDED.visitors"
    return f"""
WITH marks AS (
    INSERT INTO {scope}_visitors (day, {key}, visitor, hour)
    SELECT day, {key}, visitor, hour FROM aggregator_fresh WHERE {cond}
    UNION SELECT day, {key}, visitor, {DAY_MARK} FROM aggregator_fresh WHERE {cond}
    ORDER BY 1, 2, 3, 4
    ON CONFLICT DO NOTHING
    RETURNING day, {key}, visitor, hour
), new_in_hour AS (
    SELECT {hour_keys}, count(*) AS n FROM marks WHERE hour <> {DAY_MARK} GROUP BY {hour_keys}
), new_in_day AS (
    SELECT {day_keys}, count(*) AS n FROM marks WHERE hour = {DAY_MARK} GROUP BY {day_keys}
), hour_clicks AS (
    SELECT {hour_keys}, count(*) AS n FROM aggregator_fresh WHERE {cond} GROUP BY {hour_keys}
), day_clicks AS (
    SELECT {day_keys}, count(*) AS n FROM aggregator_fresh WHERE {cond} GROUP BY {day_keys}
), hourly AS (
    INSERT INTO {scope}_hourly ({hour_keys}, clicks, visitors)
    SELECT {hour_keys}, c.n, coalesce(v.n, 0)
    FROM hour_clicks c LEFT JOIN new_in_hour v USING ({hour_keys})
    ORDER BY {key}, day, hour
    ON CONFLICT ({key}, day, hour) DO UPDATE SET {add.format(t=scope + "_hourly")}
)
INSERT INTO {scope}_daily ({day_keys}, clicks, visitors)
SELECT {day_keys}, c.n, coalesce(v.n, 0)
FROM day_clicks c LEFT JOIN new_in_day v USING ({day_keys})
ORDER BY {key}, day
ON CONFLICT ({key}, day) DO UPDATE SET {add.format(t=scope + "_daily")};
"""


# Dimension name → the batch column (or expression) it counts.
DIMENSIONS: dict[str, str] = {
    "country": "coalesce(country, '')",
    "device": "device",
    "os": "os",
    "browser": "browser",
    "referrer": "coalesce(referrer_host, '')",
    "destination": "destination",
    "source": "CASE WHEN qr THEN 'qr' ELSE 'link' END",
}


def _dims(table: str, key: str) -> str:
    counted = " UNION ALL ".join(
        f"SELECT {key}, day, '{name}', {expr} FROM aggregator_fresh WHERE counted"
        for name, expr in DIMENSIONS.items()
    )
    # Bots are not clicks, but which bots came is worth knowing (Linkly's bot_name).
    bots = (
        f"SELECT {key}, day, 'bot', coalesce(bot_name, 'bot') FROM aggregator_fresh "
        "WHERE bot AND outcome IN ('redirect', 'page') AND NOT overseas"
    )
    return f"""
INSERT INTO {table} ({key}, day, dimension, value, clicks)
SELECT {key}, day, dimension, value, count(*)
FROM ({counted} UNION ALL {bots}) AS d ({key}, day, dimension, value)
WHERE {key} IS NOT NULL
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
ON CONFLICT ({key}, day, dimension, value) DO UPDATE SET clicks = {table}.clicks + EXCLUDED.clicks;
"""


ROLLUPS = "".join([
    _rollups("link", "link_id"),
    _rollups("group", "group_id", "AND group_id IS NOT NULL"),
    _rollups("workspace", "workspace_id"),
    _dims("link_daily_dims", "link_id"),
    _dims("group_daily_dims", "group_id"),
])  # fmt: skip


class Written(NamedTuple):
    fresh: int  # events stored for the first time
    counted: int  # of those, counted as clicks


async def ensure_partitions(conn: asyncpg.Connection[Any], days: Sequence[date]) -> None:
    """Create the day partitions the batch needs: of `clicks` for its UTC days, and of
    the visitor marks for the local days those can be (migration 0018). Its own short
    transaction: creating a partition locks the parent table, which must not last a
    whole batch."""
    for day in sorted(days):
        await conn.execute("SELECT kurz_click_partition($1), kurz_mark_partitions($1)", day)


async def write_batch(conn: asyncpg.Connection[Any], rows: Sequence[Row]) -> Written:
    """Store the rows and their rollups in one transaction; nothing when it fails."""
    if not rows:
        return Written(0, 0)
    async with conn.transaction():
        await conn.execute(BATCH_TABLE)
        await conn.copy_records_to_table("aggregator_batch", records=rows, columns=COLUMNS)
        await conn.execute(INSERT_CLICKS)
        await conn.execute(ROLLUPS)
        fresh, counted = await conn.fetchrow(
            "SELECT count(*), count(*) FILTER (WHERE counted) FROM aggregator_fresh"
        )
    return Written(fresh, counted)
