"""One batch, one transaction: raw clicks, dedupe and every rollup commit together.

The batch is COPYed into a session temp table; `INSERT INTO clicks ... ON CONFLICT DO
NOTHING` tells which events are new (the primary key is the dedupe mark), and only those
reach the rollups. A redelivered event conflicts and changes nothing.

Clicks per rollup key are summed in Python (`tally`: one C-level Counter pass each) and
every rollup is written by one statement whose rows are those sums: a batch repeats the
same link, day, hour and dimension values many times, and Postgres then aggregates no
events and scans the batch table only for the visitor marks, which need each visitor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from operator import itemgetter
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
"""

_RAW = ", ".join(COLUMNS[:-2])  # every column but the local day and hour

# The ids of the new events, or NULL when all of them are (the usual case: no list to
# send back). Event ids are unique within a batch (rows.decode_entries).
INSERT_CLICKS = f"""
WITH fresh AS (
    INSERT INTO clicks ({_RAW})
    SELECT {_RAW} FROM aggregator_batch
    ON CONFLICT DO NOTHING
    RETURNING event_id
)
SELECT CASE WHEN count(*) = $1 THEN NULL ELSE coalesce(array_agg(event_id), '{{}}') END
FROM fresh
"""


# The mark that makes a visitor new to the day: an hour of its own, before any real one.
DAY_MARK = -1


def _rollups(scope: str, key: str, n: int) -> str:
    """CTEs adding a batch's counted clicks to `<scope>_daily` and `<scope>_hourly`, and
    their visitors where new. The clicks come summed per hour as parameters $n to $n+3
    (day, hour, key, clicks; the days' sums follow from them); the marks come from the
    batch table.

    A visitor's marks are (day, key, visitor, hour) rows: one per hour it came in, and
    one with hour DAY_MARK for the day. Each is inserted ON CONFLICT DO NOTHING, and only
    the rows this batch inserted count: a visitor is new to an hour or a day exactly when
    its batch wrote that mark. Two aggregators writing the same mark at once are ordered
    by the mark's unique index (the second waits for the first to commit, then finds it
    there), so they need no lock of their own and batches of different visitors commit
    side by side. Rows go in key order (fewer lock waits, no deadlock between batches);
    visitors sort as the marks' index does (COLLATE "C")."""
    s = scope
    cond = f"counted AND {key} IS NOT NULL"
    add = "clicks = {t}.clicks + EXCLUDED.clicks, visitors = {t}.visitors + EXCLUDED.visitors"
    return f"""
{s}_marks AS (
    INSERT INTO {s}_visitors (day, {key}, visitor, hour)
    SELECT day, {key}, visitor COLLATE "C", hour FROM aggregator_batch WHERE {cond}
    UNION SELECT day, {key}, visitor COLLATE "C", {DAY_MARK} FROM aggregator_batch WHERE {cond}
    ORDER BY 1, 2, 3, 4
    ON CONFLICT DO NOTHING
    RETURNING day, {key} AS k, hour
), {s}_new_in_hour AS (
    SELECT day, hour, k, count(*) AS n FROM {s}_marks WHERE hour <> {DAY_MARK}
    GROUP BY day, hour, k
), {s}_new_in_day AS (
    SELECT day, k, count(*) AS n FROM {s}_marks WHERE hour = {DAY_MARK} GROUP BY day, k
), {s}_hour_clicks AS (
    SELECT * FROM unnest(${n}::date[], ${n + 1}::int[], ${n + 2}::bigint[],
                         ${n + 3}::bigint[]) AS c (day, hour, k, n)
), {s}_hourly AS (
    INSERT INTO {s}_hourly (day, hour, {key}, clicks, visitors)
    SELECT day, hour, k, c.n, coalesce(v.n, 0)
    FROM {s}_hour_clicks c LEFT JOIN {s}_new_in_hour v USING (day, hour, k)
    ORDER BY k, day, hour
    ON CONFLICT ({key}, day, hour) DO UPDATE SET {add.format(t=s + "_hourly")}
), {s}_daily AS (
    INSERT INTO {s}_daily (day, {key}, clicks, visitors)
    SELECT day, k, c.n, coalesce(v.n, 0)
    FROM (SELECT day, k, sum(n)::bigint AS n FROM {s}_hour_clicks GROUP BY day, k) c
    LEFT JOIN {s}_new_in_day v USING (day, k)
    ORDER BY k, day
    ON CONFLICT ({key}, day) DO UPDATE SET {add.format(t=s + "_daily")}
)"""


def _dims(table: str, key: str, n: int) -> str:
    """A CTE adding the batch's clicks per (key, day, dimension, value), from $n on."""
    return f"""
{table} AS (
    INSERT INTO {table} ({key}, day, dimension, value, clicks)
    SELECT * FROM unnest(${n}::bigint[], ${n + 1}::date[], ${n + 2}::text[],
                         ${n + 3}::text[], ${n + 4}::bigint[])
    ORDER BY 1, 2, 3, 4
    ON CONFLICT ({key}, day, dimension, value)
    DO UPDATE SET clicks = {table}.clicks + EXCLUDED.clicks
)"""


SCOPES = (("link", "link_id"), ("group", "group_id"), ("workspace", "workspace_id"))
DIMS_TABLES = (("link_daily_dims", "link_id"), ("group_daily_dims", "group_id"))

ROLLUPS = (
    "WITH"
    + ",".join(
        [_rollups(s, key, 1 + 4 * i) for i, (s, key) in enumerate(SCOPES)]
        + [_dims(t, key, 13 + 5 * i) for i, (t, key) in enumerate(DIMS_TABLES)]
    )
    + "\nSELECT 1"
)


_I = {name: i for i, name in enumerate(COLUMNS)}
_COUNTED, _BOT, _OUTCOME, _OVERSEAS = _I["counted"], _I["bot"], _I["outcome"], _I["overseas"]
_DAY, _HOUR, _BOT_NAME = _I["day"], _I["hour"], _I["bot_name"]
_SCOPE_KEYS = (_I["link_id"], _I["group_id"], _I["workspace_id"])

# Dimension name → its column, and how a stored value reads (None: as it is).
DIMENSIONS: tuple[tuple[str, int, Any], ...] = (
    ("country", _I["country"], lambda v: v or ""),
    ("device", _I["device"], None),
    ("os", _I["os"], None),
    ("browser", _I["browser"], None),
    ("referrer", _I["referrer_host"], lambda v: v or ""),
    ("destination", _I["destination"], None),
    ("source", _I["qr"], lambda v: "qr" if v else "link"),
)


class Tally(NamedTuple):
    """A batch's rollups, summed: the statement parameters of ROLLUPS (none when there is
    nothing to add), and its count of counted clicks."""

    params: list[list[Any]]
    counted: int


def tally(rows: Sequence[Row]) -> Tally:
    """Sum the clicks of the (new) rows for the rollups: counted clicks per scope key, day
    and hour, and per dimension value; bots that would have counted but for being bots,
    by name (Linkly's bot_name).

    Each sum is one pass of Counter or set over itemgetter keys, which run in C: a few
    tenths of a microsecond per row, where a Python loop over the rows costs several
    microseconds."""
    counted = [row for row in rows if row[_COUNTED]]
    bots = [
        row for row in rows
        if row[_BOT] and row[_OUTCOME] in ("redirect", "page") and not row[_OVERSEAS]
    ]  # fmt: skip
    if not counted and not bots:
        return Tally([], 0)
    params: list[list[Any]] = []
    for key in _SCOPE_KEYS:
        hours = Counter(map(itemgetter(_DAY, _HOUR, key), counted))
        # The group scope leaves out clicks of links in no group.
        params += _columns(((*k, n) for k, n in hours.items() if k[2] is not None), 4)
    for key in _SCOPE_KEYS[:2]:
        dims: list[tuple[Any, ...]] = []
        for name, column, read in DIMENSIONS:
            for (k, day, value), n in Counter(map(itemgetter(key, _DAY, column), counted)).items():
                if k is not None:
                    dims.append((k, day, name, value if read is None else read(value), n))
        by_bot = Counter(map(itemgetter(key, _DAY, _BOT_NAME), bots))
        dims += [
            (k, day, "bot", name or "bot", n)
            for (k, day, name), n in by_bot.items()
            if k is not None
        ]
        params += _columns(dims, 5)
    return Tally(params, len(counted))


def _columns(rows: Iterable[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows → one list per column (unnest's parameters)."""
    columns = [list(c) for c in zip(*rows, strict=True)]
    return columns or [[] for _ in range(width)]


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
        fresh_ids = await conn.fetchval(INSERT_CLICKS, len(rows))
        if fresh_ids is not None:
            # Redelivered events: out of the batch table too, which the marks are read from.
            await conn.execute(
                "DELETE FROM aggregator_batch WHERE NOT event_id = ANY($1::text[])", fresh_ids
            )
            fresh_set = set(fresh_ids)
            rows = [row for row in rows if row[0] in fresh_set]
        if not rows:
            return Written(0, 0)
        totals = tally(rows)
        if totals.params:
            await conn.execute(ROLLUPS, *totals.params)
    return Written(len(rows), totals.counted)
