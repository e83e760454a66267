"""The write side of the edge outbox: what a committed write must bring to the edge cache.

A writer records, in its own transaction, what the edge must learn (`record`: links,
addresses links left, groups, workspaces: an `edge_outbox` row each), then after the
commit applies what it has in hand and forgets those rows (`settle`). If Redis fails,
the rows stay and the management service's healer applies the current truth for them.
Writers of one group or workspace hold its advisory lock from before their transaction
until their edge write (`locked`), and so does the healer, so that two versions of one
record never reach Redis out of order. Links use the links layer's per-link locks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Literal

import asyncpg
import redis.exceptions
from prometheus_client import Counter

log = logging.getLogger(__name__)

WRITE_TIMEOUT = 2.0  # seconds a writer waits for Redis before leaving it to the healer
EDGE_WRITE_FAILURES = Counter(
    "kurz_management_edge_write_failures_total",
    "Edge cache writes that failed after a committed change (the outbox healer applies them)",
)
_REDIS_FAULTS: tuple[type[BaseException], ...] = (
    redis.exceptions.RedisError,
    OSError,
    TimeoutError,
)
_DATABASE_FAULTS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
Kind = Literal["group", "workspace"]
_LOCK_CLASSES: dict[Kind, int] = {"group": 1_801_001, "workspace": 1_801_002}


async def record(
    conn: asyncpg.Connection[Any],
    *,
    links: Iterable[int] = (),
    addresses: Iterable[tuple[str, str]] = (),
    groups: Iterable[int] = (),
    workspaces: Iterable[int] = (),
) -> list[int]:
    """Inside the writer's transaction: what the edge must learn; the rows' ids."""
    rows: list[tuple[int | None, str | None, str | None, int | None, int | None]] = [
        *((i, None, None, None, None) for i in links),
        *((None, host, slug, None, None) for host, slug in addresses),
        *((None, None, None, i, None) for i in groups),
        *((None, None, None, None, i) for i in workspaces),
    ]
    if not rows:
        return []
    columns = list(zip(*rows, strict=True))
    found = await conn.fetch(
        """INSERT INTO edge_outbox (link_id, host, slug, group_id, workspace_id)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[],
                                $5::bigint[])
           RETURNING id""",
        *(list(column) for column in columns),
    )
    return [r["id"] for r in found]


async def settle(
    conn: asyncpg.Connection[Any], outbox_ids: list[int], write: Callable[[], Awaitable[None]]
) -> None:
    """After the commit, on the writer's connection: apply the change with the rows in
    hand, then forget the outbox rows. A Redis failure is counted and logged, never
    raised: the healer applies the change."""
    try:
        async with asyncio.timeout(WRITE_TIMEOUT):
            await write()
    except _REDIS_FAULTS as exc:
        EDGE_WRITE_FAILURES.inc()
        log.warning("edge cache write failed; the outbox healer will apply it: %r", exc)
        return
    if outbox_ids:
        with contextlib.suppress(*_DATABASE_FAULTS):  # the healer re-applies: harmless
            await conn.execute("DELETE FROM edge_outbox WHERE id = ANY($1)", outbox_ids)


async def lock(conn: asyncpg.Connection[Any], kind: Kind, ids: Iterable[int]) -> None:
    for key in sorted({i % 2**31 for i in ids}):  # one order: writers cannot deadlock
        await conn.execute("SELECT pg_advisory_lock($1, $2)", _LOCK_CLASSES[kind], key)


async def unlock(conn: asyncpg.Connection[Any], kind: Kind, ids: Iterable[int]) -> None:
    for key in sorted({i % 2**31 for i in ids}):
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", _LOCK_CLASSES[kind], key)


@contextlib.asynccontextmanager
async def locked(
    conn: asyncpg.Connection[Any], kind: Kind, ids: Iterable[int]
) -> AsyncIterator[None]:
    """`kind`'s advisory locks on `ids`, held for the block (session-level: across the
    transaction and the edge write after it)."""
    held = sorted(set(ids))
    await lock(conn, kind, held)
    try:
        yield
    finally:
        with contextlib.suppress(*_DATABASE_FAULTS):
            await unlock(conn, kind, held)
