"""Running statistics queries. asyncpg prepares every statement, and after five runs
Postgres may switch a prepared statement to a generic plan, one made without knowing the
parameters: for these queries (a date range, an optional id list) that plan can be a
hundred times slower (measured: 6 ms becoming 400-700 ms over a year of 1,000 groups).
Each query is therefore planned for its own parameters, which costs well under a
millisecond."""

from __future__ import annotations

from typing import Any

import asyncpg

_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


async def fetch(pool: asyncpg.Pool[Any], query: str, *args: Any) -> list[asyncpg.Record]:
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await conn.execute(_CUSTOM_PLANS)
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
        return rows


async def fetchrow(pool: asyncpg.Pool[Any], query: str, *args: Any) -> asyncpg.Record | None:
    rows = await fetch(pool, query, *args)
    return rows[0] if rows else None


async def custom_plans(conn: asyncpg.Connection[Any]) -> None:
    """For a connection already in a transaction (a streamed export's cursor)."""
    await conn.execute(_CUSTOM_PLANS)
