"""Workspaces as the edge's pages need them (branding, not-found redirects), and which
workspace a custom domain belongs to: in process, else Redis, else Postgres (read-only,
refilling Redis). Only pages and unknown addresses ask; plain redirects never do.

A workspace record is invalidated by pub/sub ("w <id>") like links; domain ownership
changes rarely and rides on the TTL. Any failure answers None: a page is never refused
for want of its branding."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz import keys
from kurz.branding import (
    SELECT_HOST_WORKSPACE,
    SELECT_WORKSPACE,
    EdgeWorkspace,
    decode_workspace,
    edge_workspace_from_row,
    encode_workspace,
)
from redis.exceptions import RedisError

from kurz_redirector.resolver import Unavailable

log = logging.getLogger(__name__)
_MAX_ENTRIES = 10_000
_FAILURES = (
    RedisError, OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, Unavailable
)  # fmt: skip
Pool = Callable[[], Awaitable["asyncpg.Pool[Any]"]]


class Sites:
    def __init__(self, redis: aioredis.Redis, pool: Pool, ttl: float) -> None:
        self._redis = redis
        self._pool = pool
        self._ttl = ttl
        self._workspaces: dict[int, tuple[float, EdgeWorkspace | None]] = {}
        self._hosts: dict[str, tuple[float, int | None]] = {}
        # Bumped by every invalidation: a load that overlapped one may hold stale data.
        self._epoch = 0

    async def for_workspace(self, workspace_id: int) -> EdgeWorkspace | None:
        hit = self._workspaces.get(workspace_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        epoch = self._epoch
        try:
            found = await self._load_workspace(workspace_id)
        except _FAILURES as exc:
            log.warning("workspace branding unavailable", extra={"error": repr(exc)})
            return None
        if self._epoch == epoch:
            self._keep(self._workspaces, workspace_id, found)
        return found

    async def for_host(self, host: str) -> EdgeWorkspace | None:
        """The workspace whose verified custom domain `host` is; None on a shared one."""
        hit = self._hosts.get(host)
        if hit is not None and hit[0] > time.monotonic():
            workspace_id = hit[1]
        else:
            try:
                workspace_id = await self._load_host(host)
            except _FAILURES as exc:
                log.warning("domain owner unavailable", extra={"error": repr(exc)})
                return None
            self._keep(self._hosts, host, workspace_id)
        return None if workspace_id is None else await self.for_workspace(workspace_id)

    def invalidate(self, message: str) -> None:
        """The redirector's invalidation messages: "w <id>" drops a workspace, "*" all."""
        self._epoch += 1
        for line in message.splitlines():
            kind, _, target = line.strip().partition(" ")
            if kind == "*":
                self.clear()
            elif kind == "w" and target.isdigit():
                self._workspaces.pop(int(target), None)

    def clear(self) -> None:
        self._epoch += 1
        self._workspaces.clear()
        self._hosts.clear()

    def _keep(self, entries: dict[Any, tuple[float, Any]], key: Any, value: Any) -> None:
        if len(entries) >= _MAX_ENTRIES:
            entries.clear()  # a bound, not an LRU: this is far from the hot path
        entries[key] = (time.monotonic() + self._ttl, value)

    async def _load_workspace(self, workspace_id: int) -> EdgeWorkspace | None:
        with contextlib.suppress(RedisError):
            raw = await self._redis.get(keys.workspace(workspace_id))
            if isinstance(raw, bytes):
                return decode_workspace(raw)
        pool = await self._pool()
        row = await pool.fetchrow(SELECT_WORKSPACE, workspace_id)
        if row is None:
            return None
        found = edge_workspace_from_row(row)
        with contextlib.suppress(RedisError):
            await self._redis.set(keys.workspace(workspace_id), encode_workspace(found), nx=True)
        return found

    async def _load_host(self, host: str) -> int | None:
        with contextlib.suppress(RedisError):
            raw = await self._redis.get(keys.host_workspace(host))
            if raw is not None:
                return int(raw)
        pool = await self._pool()
        workspace_id: int | None = await pool.fetchval(SELECT_HOST_WORKSPACE, host)
        if workspace_id is not None:
            with contextlib.suppress(RedisError):
                await self._redis.set(keys.host_workspace(host), workspace_id, nx=True)
        return workspace_id
