"""Workspace time zones and group statistics flags, cached for a short time.

A batch needs them for every event; they change rarely, and a change reaching the
aggregator `ttl` seconds late only affects clicks made in that window.
"""

from __future__ import annotations

import logging
import time
import zoneinfo
from collections.abc import Iterable
from datetime import UTC, tzinfo
from typing import Any

import asyncpg
import msgspec

from kurz_aggregator.isp import IspLookup

log = logging.getLogger("kurz.aggregator")


class WorkspaceFacts(msgspec.Struct, frozen=True):
    tz: tzinfo
    home_country: str | None  # upper-case ISO alpha-2


UNKNOWN_WORKSPACE = WorkspaceFacts(UTC, None)


def time_zone(name: str | None) -> tzinfo:
    """The named zone; UTC (with a log line) when the name is not a known zone."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone, using UTC", extra={"time_zone": name})
        return UTC


class Lookups:
    def __init__(self, ttl: float, *, isp_lookup: bool = True) -> None:
        self.ttl = ttl
        self.isp = IspLookup(isp_lookup)
        self._workspaces: dict[int, tuple[float, WorkspaceFacts]] = {}
        self._groups: dict[int, tuple[float, bool]] = {}

    def workspace(self, workspace_id: int) -> WorkspaceFacts:
        entry = self._workspaces.get(workspace_id)
        return entry[1] if entry else UNKNOWN_WORKSPACE

    def blocks_overseas(self, group_id: int | None) -> bool:
        if group_id is None:
            return False
        entry = self._groups.get(group_id)
        return entry[1] if entry else False

    async def load(
        self,
        conn: asyncpg.Connection[Any],
        workspace_ids: Iterable[int],
        group_ids: Iterable[int],
    ) -> None:
        """Fetch what is missing or stale, in one query per kind."""
        now = time.monotonic()
        stale_ws = [w for w in set(workspace_ids) if self._stale(self._workspaces.get(w), now)]
        stale_groups = [g for g in set(group_ids) if self._stale(self._groups.get(g), now)]
        if stale_ws:
            rows = await conn.fetch(
                "SELECT id, time_zone, home_country FROM workspaces WHERE id = ANY($1)", stale_ws
            )
            for w in stale_ws:  # unknown ids are cached too, so they are not asked again
                self._workspaces[w] = (now, UNKNOWN_WORKSPACE)
            for row in rows:
                country = (row["home_country"] or "").strip().upper() or None
                facts = WorkspaceFacts(time_zone(row["time_zone"]), country)
                self._workspaces[row["id"]] = (now, facts)
        if stale_groups:
            rows = await conn.fetch(
                "SELECT id, block_overseas_stats FROM link_groups WHERE id = ANY($1)", stale_groups
            )
            for g in stale_groups:
                self._groups[g] = (now, False)
            for row in rows:
                self._groups[row["id"]] = (now, bool(row["block_overseas_stats"]))

    def _stale(self, entry: tuple[float, object] | None, now: float) -> bool:
        return entry is None or now - entry[0] > self.ttl
