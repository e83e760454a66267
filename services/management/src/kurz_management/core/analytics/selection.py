"""Turn what a request names (links, a group, a tag) into a workspace-scoped Selection.

Ids of another workspace are refused exactly like ids that do not exist, so a response
never confirms that someone else's link or group exists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from kurz.plans import Entitlements, clicks_by_group_denial
from kurz.validation import is_id

from kurz_management.core.analytics.model import AnalyticsError, Selection


async def select(
    pool: asyncpg.Pool[Any],
    workspace_id: int,
    time_zone: str,
    *,
    entitlements: Entitlements,
    link_ids: Sequence[int] | None = None,
    group_id: int | None = None,
    tag: str | None = None,
) -> Selection:
    """At most one of link_ids, group_id and tag narrows the selection; a group's
    statistics are the plan's to allow, whichever API asks."""
    if sum(x is not None for x in (link_ids, group_id, tag)) > 1:
        raise AnalyticsError("invalid", "filter by links, by a group or by a tag, not several")
    if group_id is not None:
        require_group_statistics(entitlements, [group_id])
        await check_groups(pool, workspace_id, [group_id])
        return Selection(workspace_id, time_zone, group_id=group_id)
    if link_ids is not None:
        return Selection(
            workspace_id, time_zone, link_ids=await check_links(pool, workspace_id, link_ids)
        )
    if tag is not None:
        return Selection(workspace_id, time_zone, link_ids=await tagged(pool, workspace_id, tag))
    return Selection(workspace_id, time_zone)


def require_group_statistics(entitlements: Entitlements, group_ids: Sequence[int] | None) -> None:
    """The plan gate on statistics by group (None: every group of the workspace)."""
    denial = clicks_by_group_denial(entitlements, group_ids)
    if denial is not None:
        raise AnalyticsError("forbidden", denial)


async def check_links(
    pool: asyncpg.Pool[Any], workspace_id: int, link_ids: Sequence[int]
) -> tuple[int, ...]:
    """The ids, once each, when every one is a link of the workspace (deleted links keep
    their statistics and so stay selectable)."""
    wanted = sorted(set(link_ids))
    found = await _owned(pool, "links", workspace_id, wanted)
    missing = [i for i in wanted if i not in found]
    if missing:
        raise AnalyticsError("not_found", f"no link {missing[0]} in this workspace", "link_id")
    return tuple(wanted)


async def check_groups(
    pool: asyncpg.Pool[Any], workspace_id: int, group_ids: Sequence[int]
) -> None:
    wanted = sorted(set(group_ids))
    found = await _owned(pool, "link_groups", workspace_id, wanted)
    missing = [i for i in wanted if i not in found]
    if missing:
        raise AnalyticsError("not_found", f"no group {missing[0]} in this workspace", "group_id")


async def tagged(pool: asyncpg.Pool[Any], workspace_id: int, tag: str) -> tuple[int, ...]:
    rows = await pool.fetch(
        """SELECT t.id, lt.link_id FROM tags t LEFT JOIN link_tags lt ON lt.tag_id = t.id
           WHERE t.workspace_id = $1 AND t.name = $2""",
        workspace_id,
        tag,
    )
    if not rows:
        raise AnalyticsError("not_found", f"no tag {tag!r} in this workspace", "tag")
    return tuple(sorted({r["link_id"] for r in rows if r["link_id"] is not None}))


async def _owned(
    pool: asyncpg.Pool[Any], table: str, workspace_id: int, ids: list[int]
) -> set[int]:
    valid = [i for i in ids if is_id(i)]
    if not valid:
        return set()
    rows = await pool.fetch(
        f"SELECT id FROM {table} WHERE workspace_id = $1 AND id = ANY($2::bigint[])",
        workspace_id,
        valid,
    )
    return {r["id"] for r in rows}
