"""Rows written straight into Postgres, for tests that set up state the API would refuse
or that they must not depend on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg


async def insert_row(pool: asyncpg.Pool[Any], table: str, values: Mapping[str, Any]) -> int:
    """One row of `table` (column → value, names as the table has them); its id."""
    columns = ", ".join(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    row_id: int = await pool.fetchval(
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING id", *values.values()
    )
    return row_id
