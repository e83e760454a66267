"""Links written the way the management service writes them (a row in Postgres, then
the edge record in Redis), with any column set directly: the edge must be safe with
whatever is stored, whether or not an API would have accepted it."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz.edge_cache import EdgeCache
from kurz.edge_records import LINK_COLUMNS, edge_link_from_row
from kurz.models import EdgeLink

from tests.conftest import DEFAULT_DOMAIN


def new_slug() -> str:
    return "x" + uuid.uuid4().hex[:10]


async def stored_link(
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace_id: int, **fields: Any
) -> EdgeLink:
    fields.setdefault("url", "https://example.com/landing")
    fields.setdefault("slug", new_slug())
    columns = ["workspace_id", "host", *fields]
    values = [workspace_id, DEFAULT_DOMAIN, *fields.values()]
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    link_id = await pool.fetchval(
        f"INSERT INTO links ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id", *values
    )
    row = await pool.fetchrow(f"SELECT {LINK_COLUMNS} FROM links l WHERE l.id = $1", link_id)
    assert row is not None
    link = edge_link_from_row(row)
    await EdgeCache(redis).put_links([link])
    return link
