"""The multi-row statements of a write: one INSERT and one UPDATE for the whole
batch (from unnest), the tag links, and the per-link locks that order edge writes."""

from __future__ import annotations

from typing import Any

import asyncpg

from kurz_management.core.links import rows
from kurz_management.core.links.validate import Change

# Session-level advisory locks on link ids, held from before the transaction until the
# edge cache is written: two updates of one link reach Redis in commit order. Ids share
# LOCK_BUCKETS locks, so a bulk update holds a bounded number of them (Postgres' lock
# table is small), taken in one order so writers cannot deadlock.
_LINK_LOCK_CLASS = 1_801_000
LOCK_BUCKETS = 256
_BUCKETS = f"""SELECT DISTINCT (x % {LOCK_BUCKETS})::int AS b FROM unnest($1::bigint[]) AS x
               ORDER BY 1"""


def _expressions(prefix: str) -> list[str]:
    """Column expressions over unnest()'s text forms."""
    out = []
    for name, _ in rows.COLUMNS:
        if name == "webhook_urls":
            urls = f"string_to_array(NULLIF({prefix}.webhook_urls, ''), E'\\n')"
            out.append(f"COALESCE({urls}, '{{}}')")
        elif name == "rules":
            out.append(f"{prefix}.rules::jsonb")
        else:
            out.append(f"{prefix}.{name}")
    return out


def _unnest(first: int, *, with_id: bool) -> str:
    types = [("id", "bigint")] if with_id else []
    types += [(n, "text" if n in ("rules", "webhook_urls") else t) for n, t in rows.COLUMNS]
    params = ", ".join(f"${first + i}::{t}[]" for i, (_, t) in enumerate(types))
    return f"unnest({params}) AS v({', '.join(n for n, _ in types)})"


_NAMES = ", ".join(rows.COLUMN_NAMES)
INSERT = f"""
INSERT INTO links (workspace_id, created_by_key, {_NAMES})
SELECT $1, $2, {", ".join(_expressions("v"))} FROM {_unnest(3, with_id=False)}
ON CONFLICT (host, slug) WHERE deleted_at IS NULL DO NOTHING
RETURNING id, host, slug
"""
_ASSIGN = ", ".join(f"{n} = {e}" for n, e in zip(rows.COLUMN_NAMES, _expressions("v"), strict=True))
UPDATE = f"""
UPDATE links l SET {_ASSIGN}, version = l.version + 1, updated_at = now()
FROM {_unnest(2, with_id=True)}
WHERE l.id = v.id AND l.workspace_id = $1 AND l.deleted_at IS NULL
RETURNING l.id
"""


def _arguments(changes: list[Change]) -> list[list[Any]]:
    return rows.unnest_arguments([c.values for c in changes])


async def lock_links(conn: asyncpg.Connection[Any], link_ids: list[int]) -> None:
    if link_ids:
        await conn.execute(
            f"SELECT pg_advisory_lock({_LINK_LOCK_CLASS}, b) FROM ({_BUCKETS}) s", link_ids
        )


async def unlock_links(conn: asyncpg.Connection[Any], link_ids: list[int]) -> None:
    if link_ids:
        await conn.execute(
            f"SELECT pg_advisory_unlock({_LINK_LOCK_CLASS}, b) FROM ({_BUCKETS}) s", link_ids
        )


async def load_for_update(
    conn: asyncpg.Connection[Any], workspace_id: int, link_ids: list[int]
) -> dict[int, dict[str, Any]]:
    if not link_ids:
        return {}
    found = await conn.fetch(
        """SELECT * FROM links WHERE workspace_id = $1 AND id = ANY($2::bigint[])
           AND deleted_at IS NULL ORDER BY id FOR UPDATE""",
        workspace_id,
        sorted(set(link_ids)),
    )
    return {r["id"]: dict(r) for r in found}


async def insert(
    conn: asyncpg.Connection[Any], workspace_id: int, key_id: int | None, creates: list[Change]
) -> None:
    """Insert the creates, made with API key `key_id` (None: not through a key), and
    set link_id on each. One left without a row lost a race for its address (ON CONFLICT
    DO NOTHING)."""
    if not creates:
        return
    inserted = await conn.fetch(INSERT, workspace_id, key_id, *_arguments(creates))
    by_address = {(r["host"], r["slug"]): r["id"] for r in inserted}
    for change in creates:
        change.link_id = by_address.get(change.address)


async def update(conn: asyncpg.Connection[Any], workspace_id: int, updates: list[Change]) -> None:
    if updates:
        await conn.execute(UPDATE, workspace_id, [c.link_id for c in updates], *_arguments(updates))


async def replace_tags(conn: asyncpg.Connection[Any], changes: list[Change]) -> None:
    changed = [c for c in changes if c.tag_ids is not None and c.link_id is not None]
    if not changed:
        return
    updated = [c.link_id for c in changed if c.stored is not None]
    if updated:
        await conn.execute("DELETE FROM link_tags WHERE link_id = ANY($1::bigint[])", updated)
    pairs = [(c.link_id, t) for c in changed for t in c.tag_ids or []]
    if pairs:
        await conn.execute(
            """INSERT INTO link_tags (link_id, tag_id)
               SELECT * FROM unnest($1::bigint[], $2::bigint[])""",
            [p[0] for p in pairs],
            [p[1] for p in pairs],
        )


async def fetch_records(conn: asyncpg.Connection[Any], link_ids: list[int]) -> dict[int, Any]:
    found = await conn.fetch(f"{rows.RECORD_SELECT} WHERE l.id = ANY($1::bigint[])", link_ids)
    return {r["id"]: r for r in found}
