"""A workspace's API keys, as its owners manage them: list, create (the key is shown
once, only its hash is kept), revoke (at once: every request looks the key up)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from kurz.workspaces import create_key

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext


class KeyRecord(msgspec.Struct, frozen=True):
    id: int
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


async def list_keys(ctx: AppContext, principal: Principal) -> list[KeyRecord]:
    """Active keys first, then revoked ones; newest first within each."""
    rows = await ctx.pool.fetch(
        """SELECT id, prefix, created_at, last_used_at, revoked_at FROM api_keys
           WHERE workspace_id = $1 ORDER BY revoked_at IS NOT NULL, id DESC""",
        principal.workspace_id,
    )
    return [KeyRecord(**dict(r)) for r in rows]


async def new_key(ctx: AppContext, principal: Principal) -> str:
    """A new key of the workspace, in clear: the only time it can be seen."""
    async with ctx.pool.acquire() as conn:
        return await create_key(conn, principal.workspace_id)


async def revoke_key(ctx: AppContext, principal: Principal, key_id: int) -> bool:
    """False when the workspace has no such active key (another workspace's key is the
    same as none)."""
    status: str = await ctx.pool.execute(
        """UPDATE api_keys SET revoked_at = now()
           WHERE id = $1 AND workspace_id = $2 AND revoked_at IS NULL""",
        key_id,
        principal.workspace_id,
    )
    return status.endswith(" 1")
