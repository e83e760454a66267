"""Entries that fail every time: found by trying a failed batch one entry at a time, and
moved to a dead-letter stream so that one bad entry cannot stall every click after it.

Only failures that would repeat are treated so: invalid data for Postgres, or a bug met
by one event. Outages (connections, timeouts, Redis, deadlocks, a server shutting down)
and errors in kurz's own SQL are retried as they are, however long it takes.
"""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis
from kurz import keys
from kurz.stream import Entry
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

DEAD_LETTER_MAXLEN = 100_000

# SQLSTATE classes of errors the same data meets again: data exception, integrity
# constraint violation, program limit exceeded (e.g. an index row too large).
_DATA_CLASSES = frozenset({"22", "23", "54"})
_OUTAGES = (asyncpg.InterfaceError, RedisError, OSError, TimeoutError)


def repeats(exc: BaseException) -> bool:
    """Would the same entries fail the same way on a retry?"""
    if isinstance(exc, asyncpg.PostgresError):
        return str(exc.sqlstate or "")[:2] in _DATA_CLASSES
    return isinstance(exc, Exception) and not isinstance(exc, _OUTAGES)


async def dead_letter(redis: aioredis.Redis, stream: str, entry: Entry, exc: BaseException) -> None:
    """Keep the entry (its fields as they were, plus where it came from and why)."""
    fields: dict[FieldT, EncodableT] = {key: value for key, value in entry.fields.items()}
    fields[b"source"] = f"{stream} {entry.id.decode()}".encode()
    fields[b"error"] = repr(exc)[:1000].encode()
    target = keys.DEAD_CLICK_STREAM if stream == keys.CLICK_STREAM else f"{stream}:dead"
    await redis.xadd(target, fields, maxlen=DEAD_LETTER_MAXLEN, approximate=True)
