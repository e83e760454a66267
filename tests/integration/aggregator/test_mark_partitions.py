"""The unique-visitor marks live in day partitions (migration 0018): each batch makes
the partitions its local days need, in any time zone, and a visitor stays exactly one
visitor per local day across midnight, across batches and across replays."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz_aggregator.upkeep import MARK_TABLES, mark_partitions

from tests.conftest import new_workspace
from tests.integration.aggregator.conftest import AggregatorFactory, add, at, click, new_link_id


async def _daily(pool: asyncpg.Pool[Any], link: int) -> dict[date, tuple[int, int]]:
    rows = await pool.fetch("SELECT day, clicks, visitors FROM link_daily WHERE link_id = $1", link)
    return {r["day"]: (r["clicks"], r["visitors"]) for r in rows}


async def test_visitors_exact_per_local_day_in_day_partitions(
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, stream: str,
    make_aggregator: AggregatorFactory,
) -> None:  # fmt: skip
    # The two time zones furthest from UTC: local days a day either side of the UTC day.
    east = await new_workspace(pool, time_zone="Pacific/Kiritimati")  # UTC+14
    west = await new_workspace(pool, time_zone="Pacific/Pago_Pago")  # UTC-11
    east_link, west_link = new_link_id(), new_link_id()
    visits = ["2034-07-01T23:30:00+00:00", "2034-07-02T00:30:00+00:00", "2034-07-02T11:00:00+00:00"]
    events = [
        click(ws.id, link, visitor="same", at=at(when))
        for ws, link in ((east, east_link), (west, west_link))
        for when in visits
    ]
    await add(redis, stream, events)
    await make_aggregator().run(burst=True)

    # East: 13:30 and 14:30 on the 2nd, 01:00 on the 3rd. West: 12:30 and 13:30 on the
    # 1st, 00:00 on the 2nd. One visitor a day, whatever the UTC day was.
    assert await _daily(pool, east_link) == {date(2034, 7, 2): (2, 1), date(2034, 7, 3): (1, 1)}
    assert await _daily(pool, west_link) == {date(2034, 7, 1): (2, 1), date(2034, 7, 2): (1, 1)}
    async with pool.acquire() as conn:
        partitions = await mark_partitions(conn)
    for table in MARK_TABLES:
        for day in ("20340630", "20340701", "20340702", "20340703"):
            assert f"{table}_{day}" in partitions
    rows = await pool.fetch(
        "SELECT tableoid::regclass::text AS part, day FROM link_visitors WHERE link_id = $1",
        east_link,
    )
    assert rows and all(r["part"] == f"link_visitors_{r['day']:%Y%m%d}" for r in rows)

    # A later batch, and the same events again: the visitor is still one per day.
    await add(redis, stream, [*events, click(east.id, east_link, visitor="same",
                                             at=at("2034-07-02T12:00:00+00:00"))])  # fmt: skip
    await make_aggregator().run(burst=True)
    assert await _daily(pool, east_link) == {date(2034, 7, 2): (2, 1), date(2034, 7, 3): (2, 1)}
    assert await _daily(pool, west_link) == {date(2034, 7, 1): (2, 1), date(2034, 7, 2): (1, 1)}
