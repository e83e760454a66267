"""A workspace's own settings: its branding on the edge's pages and where its unknown or
ended links go. Postgres first, then the edge's record of the workspace (write-through
with invalidation, like links and groups)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from kurz.branding import (
    SETTING_FIELDS,
    WORKSPACE_COLUMNS,
    EdgeWorkspace,
    check_setting,
    edge_workspace_from_row,
)
from redis.exceptions import RedisError

from kurz_management.auth import Principal
from kurz_management.context import AppContext
from kurz_management.links.guard import database_available
from kurz_management.links.model import LinkError
from kurz_management.links.writes import EDGE_WRITE_FAILURES, EDGE_WRITE_TIMEOUT

log = logging.getLogger(__name__)
_SELECT = f"SELECT w.name, {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = $1"


class WorkspaceSettings:
    __slots__ = ("edge", "name")

    def __init__(self, name: str, edge: EdgeWorkspace) -> None:
        self.name = name
        self.edge = edge


def _settings(row: Mapping[str, Any]) -> WorkspaceSettings:
    return WorkspaceSettings(row["name"], edge_workspace_from_row(row))


async def get_settings(ctx: AppContext, principal: Principal) -> WorkspaceSettings:
    with database_available():
        row = await ctx.pool.fetchrow(_SELECT, principal.workspace_id)
    if row is None:  # the key's workspace was deleted since it authenticated
        raise LinkError("not_found", "no such workspace")
    return _settings(row)


async def update_settings(
    ctx: AppContext, principal: Principal, changes: Mapping[str, str | None]
) -> WorkspaceSettings:
    """Set the given settings (None clears one), every one checked before any is
    written. Raises kurz.validation.InvalidLink naming the setting at fault."""
    checked = {name: check_setting(name, value) for name, value in changes.items()}
    if not checked:
        return await get_settings(ctx, principal)
    assert set(checked) <= set(SETTING_FIELDS)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(checked, start=2))
    with database_available():
        row = await ctx.pool.fetchrow(
            f"UPDATE workspaces w SET {assignments} WHERE w.id = $1 "
            f"RETURNING w.name, {WORKSPACE_COLUMNS}",
            principal.workspace_id,
            *checked.values(),
        )
    if row is None:
        raise LinkError("not_found", "no such workspace")
    settings = _settings(row)
    await _write_edge(ctx, settings.edge)
    return settings


async def _write_edge(ctx: AppContext, workspace: EdgeWorkspace) -> None:
    """A failure is logged, not raised: Postgres has the change, and `kurz cache rebuild`
    brings Redis up to it, as for links."""
    try:
        async with asyncio.timeout(EDGE_WRITE_TIMEOUT):
            await ctx.cache.put_workspace(workspace)
    except (RedisError, OSError, TimeoutError) as exc:
        EDGE_WRITE_FAILURES.inc()
        log.warning("edge cache write failed, a rebuild will heal it: %r", exc)
