"""Postgres access: pools with kurz's type codecs."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec


async def _init_connection(conn: asyncpg.Connection[Any]) -> None:
    # jsonb columns travel as msgspec-encoded bytes: faster than the json module, and
    # the same encoder every other boundary of kurz uses.
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: b"\x01" + msgspec.json.encode(v),
        decoder=lambda b: msgspec.json.decode(b[1:]),
        schema="pg_catalog",
        format="binary",
    )


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool[Any]:
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=30
    )
    assert pool is not None
    return pool
