"""A workspace's own settings: its branding on the edge's pages and where its unknown or
ended links go. Postgres first (with the edge outbox), then the edge's record of the
workspace, like links and groups."""

from __future__ import annotations

from collections.abc import Mapping

from kurz.branding import EdgeWorkspace
from kurz.workspaces import save_edge_settings

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.links.guard import database_available
from kurz_management.core.links.model import LinkError


class WorkspaceSettings:
    __slots__ = ("edge", "name")

    def __init__(self, name: str, edge: EdgeWorkspace) -> None:
        self.name = name
        self.edge = edge


async def get_settings(ctx: AppContext, principal: Principal) -> WorkspaceSettings:
    return await update_settings(ctx, principal, {})


async def update_settings(
    ctx: AppContext, principal: Principal, changes: Mapping[str, str | None]
) -> WorkspaceSettings:
    """Set the given settings (None clears one; none given reads them), every one checked
    before any is written. Raises kurz.validation.InvalidLink naming the setting at
    fault."""
    with database_available():
        async with ctx.pool.acquire() as conn:
            found = await save_edge_settings(conn, ctx.cache, principal.workspace_id, changes)
    if found is None:  # the key's workspace was deleted since it authenticated
        raise LinkError("not_found", "no such workspace")
    return WorkspaceSettings(*found)
