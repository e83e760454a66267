"""A workspace's own settings: its branding on the edge's pages and where its unknown or
ended links go. Postgres first, then the edge's record of the workspace (write-through
with invalidation, like links and groups)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from kurz.branding import EdgeWorkspace
from kurz.workspaces import update_edge_settings
from redis.exceptions import RedisError

from kurz_management.auth import Principal
from kurz_management.context import AppContext
from kurz_management.links.guard import database_available
from kurz_management.links.model import LinkError
from kurz_management.links.writes import EDGE_WRITE_FAILURES, EDGE_WRITE_TIMEOUT

log = logging.getLogger(__name__)


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
        # The edge is written before the commit, under the row's lock: concurrent
        # updates reach Redis in the order they reach Postgres.
        async with ctx.pool.acquire() as conn, conn.transaction():
            found = await update_edge_settings(conn, principal.workspace_id, changes)
            if found is not None and changes:
                await _write_edge(ctx, found[1])
    if found is None:  # the key's workspace was deleted since it authenticated
        raise LinkError("not_found", "no such workspace")
    return WorkspaceSettings(*found)


async def _write_edge(ctx: AppContext, workspace: EdgeWorkspace) -> None:
    """A failure is logged, not raised: Postgres has the change, and `kurz cache rebuild`
    brings Redis up to it, as for links."""
    try:
        async with asyncio.timeout(EDGE_WRITE_TIMEOUT):
            await ctx.cache.put_workspace(workspace)
    except (RedisError, OSError, TimeoutError) as exc:
        EDGE_WRITE_FAILURES.inc()
        log.warning("edge cache write failed, a rebuild will heal it: %r", exc)
