"""Workspaces and their API keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import asyncpg

from kurz import edge_outbox
from kurz.apikeys import display_prefix, generate_key, hash_key
from kurz.branding import (
    SETTING_FIELDS,
    WORKSPACE_COLUMNS,
    EdgeWorkspace,
    check_setting,
    edge_workspace_from_row,
)

if TYPE_CHECKING:
    from kurz.edge_cache import EdgeCache


async def create_workspace(
    conn: asyncpg.Connection[Any],
    name: str,
    *,
    plan: str = "selfhosted",
    time_zone: str = "UTC",
    home_country: str | None = None,
    owner_email: str | None = None,
) -> tuple[int, str]:
    """Create a workspace with one API key; return (workspace id, the key in clear)."""
    async with conn.transaction():
        workspace_id: int = await conn.fetchval(
            """INSERT INTO workspaces (name, plan, time_zone, home_country, owner_email)
               VALUES ($1, $2, $3, $4, $5) RETURNING id""",
            name,
            plan,
            time_zone,
            home_country,
            owner_email,
        )
        key = await create_key(conn, workspace_id)
    return workspace_id, key


async def create_key(conn: asyncpg.Connection[Any], workspace_id: int) -> str:
    key = generate_key()
    await conn.execute(
        "INSERT INTO api_keys (workspace_id, key_hash, prefix) VALUES ($1, $2, $3)",
        workspace_id,
        hash_key(key),
        display_prefix(key),
    )
    return key


async def revoke_key(conn: asyncpg.Connection[Any], key: str) -> bool:
    status: str = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1 AND revoked_at IS NULL",
        hash_key(key),
    )
    return status.endswith(" 1")


async def ensure_default_domain(conn: asyncpg.Connection[Any], host: str) -> None:
    """The configured default short domain, shared by every workspace."""
    await conn.execute(
        """INSERT INTO domains (workspace_id, host, verified) VALUES (NULL, $1, true)
           ON CONFLICT (host) DO NOTHING""",
        host,
    )


async def save_edge_settings(
    conn: asyncpg.Connection[Any],
    cache: EdgeCache,
    workspace_id: int,
    changes: Mapping[str, str | None],
) -> tuple[str, EdgeWorkspace] | None:
    """`update_edge_settings` committed with its edge outbox row, then brought to the
    edge cache (a Redis failure is left to the outbox healer). The workspace's lock is
    held until the edge write, so concurrent updates reach Redis in commit order."""
    if not changes:
        return await update_edge_settings(conn, workspace_id, changes)
    async with edge_outbox.locked(conn, "workspace", [workspace_id]):
        async with conn.transaction():
            found = await update_edge_settings(conn, workspace_id, changes)
            outbox = await edge_outbox.record(conn, workspaces=[workspace_id]) if found else []
        if found is not None:
            record = found[1]
            await edge_outbox.settle(conn, outbox, lambda: cache.put_workspace(record))
    return found


async def update_edge_settings(
    conn: asyncpg.Connection[Any],
    workspace_id: int,
    changes: Mapping[str, str | None],
) -> tuple[str, EdgeWorkspace] | None:
    """Set a workspace's branding and not-found redirects (None clears one), every value
    checked before any is written (kurz.validation.InvalidLink names the one at fault).
    Its name and the edge's new record, or None when there is no such workspace."""
    checked = {name: check_setting(name, value) for name, value in changes.items()}
    assert set(checked) <= set(SETTING_FIELDS)
    if checked:
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(checked, start=2))
        sql = (
            f"UPDATE workspaces w SET {assignments} WHERE w.id = $1 "
            f"RETURNING w.name, {WORKSPACE_COLUMNS}"
        )
    else:
        sql = f"SELECT w.name, {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = $1"
    row = await conn.fetchrow(sql, workspace_id, *checked.values())
    return None if row is None else (row["name"], edge_workspace_from_row(row))
