"""API keys → workspaces. Every family extracts the key its own way, then calls here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from kurz.apikeys import hash_key


@dataclass(frozen=True)
class Principal:
    workspace_id: int
    plan: str
    entitlements: dict[str, Any]
    time_zone: str
    key_id: int


async def authenticate(pool: asyncpg.Pool[Any], key: str | None) -> Principal | None:
    """The workspace a key belongs to, or None for a missing, unknown or revoked key.
    Looked up on every request (one indexed read), so a revocation applies at once."""
    if not key:
        return None
    # The same statement notes when the key was last used, at most once a minute.
    row = await pool.fetchrow(
        """WITH found AS (
             SELECT k.id AS key_id, k.last_used_at, w.id AS workspace_id, w.plan,
                    w.time_zone, p.entitlements
             FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
             JOIN plans p ON p.code = w.plan
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL
           ), touched AS (
             UPDATE api_keys SET last_used_at = now()
             WHERE id = (SELECT key_id FROM found)
               AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
           )
           SELECT key_id, workspace_id, plan, time_zone, entitlements FROM found""",
        hash_key(key),
    )
    if row is None:
        return None
    return Principal(
        row["workspace_id"], row["plan"], row["entitlements"], row["time_zone"], row["key_id"]
    )
