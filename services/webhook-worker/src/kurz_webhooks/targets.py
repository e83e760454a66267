"""Which links, groups and workspaces may have something to deliver for a click.

A superset, kept in memory and loaded again whenever `webhook_targets_version` moves
(migration 0019: every change that can add a target moves it, in its own transaction).
The version is read for every batch after the batch was read from the stream, so a click
made after a webhook, a link's URL or a group's notification was committed is always
decided with it in view: the bound on "promptly" is zero clicks. An id in the sets only
means the event is decoded and its facts are loaded, which decide exactly as before.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

_VERSION = "SELECT version FROM webhook_targets_version"
_TARGETS = """
    SELECT 'link' AS kind, id FROM links WHERE cardinality(webhook_urls) > 0
    UNION ALL SELECT 'link', link_id FROM webhooks WHERE enabled AND link_id IS NOT NULL
    UNION ALL SELECT 'workspace', workspace_id FROM webhooks WHERE enabled AND link_id IS NULL
    UNION ALL SELECT 'group', id FROM link_groups
        WHERE webhook_enabled OR mail_notify OR push_notify"""


class Targets:
    def __init__(self) -> None:
        self.links: frozenset[int] = frozenset()
        self.groups: frozenset[int] = frozenset()
        self.workspaces: frozenset[int] = frozenset()
        self.loads = 0  # how many times the sets were loaded
        self._version: int | None = None
        self._lock = asyncio.Lock()

    def wanted(self, workspace_id: int, link_id: int, group_id: int | None) -> bool:
        return (
            link_id in self.links
            or workspace_id in self.workspaces
            or (group_id is not None and group_id in self.groups)
        )

    @property
    def empty(self) -> bool:
        return not (self.links or self.groups or self.workspaces)

    async def refresh(self, pool: asyncpg.Pool[Any]) -> None:
        """Load the sets again if the version moved since the last load (or is missing)."""
        async with self._lock, pool.acquire() as conn:
            version = await conn.fetchval(_VERSION)
            if version is not None and version == self._version:
                return
            # Read after the version: a change committed in between is loaded now and
            # loaded again on the next batch, never missed.
            rows = await conn.fetch(_TARGETS)
        sets: dict[str, set[int]] = {"link": set(), "group": set(), "workspace": set()}
        for kind, target in rows:
            sets[kind].add(target)
        self.links = frozenset(sets["link"])
        self.groups = frozenset(sets["group"])
        self.workspaces = frozenset(sets["workspace"])
        self._version = version
        self.loads += 1
