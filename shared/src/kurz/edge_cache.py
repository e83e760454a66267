"""Keeps the edge cache in Redis current: write-through after a Postgres commit,
invalidation on pub/sub, and a full rebuild from Postgres."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from kurz import keys, redis_topology
from kurz.branding import (
    WORKSPACE_COLUMNS,
    EdgeWorkspace,
    edge_workspace_from_row,
    encode_workspace,
)
from kurz.edge_records import (
    GROUP_COLUMNS,
    LINK_COLUMNS,
    edge_group_from_row,
    edge_link_from_row,
)
from kurz.models import EdgeGroup, EdgeLink, encode_group, encode_link

log = logging.getLogger(__name__)


class EdgeCache:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._cluster = redis_topology.is_cluster(redis)

    async def _execute(self, pipe: Any, message: str) -> None:
        """The pipeline's writes, then `message` to every redirector. One round trip on
        one node; a cluster pipeline takes no PUBLISH (it has no key, so no slot): sent
        after the writes there, which is the order that matters."""
        if self._cluster:
            await pipe.execute()
            await self._redis.publish(keys.INVALIDATION_CHANNEL, message)
            return
        pipe.publish(keys.INVALIDATION_CHANNEL, message)
        await pipe.execute()

    async def put_links(
        self, links: Iterable[EdgeLink], *, gone: Iterable[tuple[str, str]] = ()
    ) -> None:
        """Store links and drop addresses no longer in use (deleted, or moved to a new
        slug), in one pipelined round trip, then tell every redirector."""
        pipe = self._redis.pipeline(transaction=False)
        messages = []
        for host, slug in gone:
            pipe.delete(keys.link(host, slug))
            messages.append(keys.link_invalidation(host, slug))
        for link in links:
            pipe.set(keys.link(link.host, link.slug), encode_link(link))
            messages.append(keys.link_invalidation(link.host, link.slug))
        if not messages:
            return
        # One message per batch keeps pub/sub traffic flat for bulk writes.
        await self._execute(pipe, "\n".join(messages))

    async def drop_links(self, addresses: Iterable[tuple[str, str]]) -> None:
        await self.put_links((), gone=addresses)

    async def put_group(self, group: EdgeGroup) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(keys.group(group.id), encode_group(group))
        await self._execute(pipe, keys.group_invalidation(group.id))

    async def drop_group(self, group_id: int) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.delete(keys.group(group_id))
        await self._execute(pipe, keys.group_invalidation(group_id))

    async def put_workspace(self, workspace: EdgeWorkspace) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(keys.workspace(workspace.id), encode_workspace(workspace))
        await self._execute(pipe, keys.workspace_invalidation(workspace.id))

    async def rebuild(self, pool: asyncpg.Pool[Any], *, batch: int = 5000) -> int:
        """Rewrite every link and group record from Postgres; return the links written.
        Click-limit counters are rebuilt from stored clicks where Redis lost them."""
        written = 0
        async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            async for rows in _batches(
                conn, f"SELECT {LINK_COLUMNS} FROM links l WHERE l.deleted_at IS NULL", batch
            ):
                await self.put_links(edge_link_from_row(r) for r in rows)
                written += len(rows)
            async for rows in _batches(conn, f"SELECT {GROUP_COLUMNS} FROM link_groups g", batch):
                for row in rows:
                    await self.put_group(edge_group_from_row(row))
            await self._rebuild_workspaces(conn)
            await self.restore_click_counters(conn)
        await self._redis.publish(keys.INVALIDATION_CHANNEL, keys.FLUSH_ALL)
        return written

    async def _rebuild_workspaces(self, conn: asyncpg.Connection[Any]) -> None:
        """Every workspace's record, and which workspace each verified custom domain is."""
        pipe = self._redis.pipeline(transaction=False)
        for row in await conn.fetch(f"SELECT {WORKSPACE_COLUMNS} FROM workspaces w"):
            pipe.set(keys.workspace(row["id"]), encode_workspace(edge_workspace_from_row(row)))
        domains = await conn.fetch(
            "SELECT host, workspace_id FROM domains WHERE verified AND workspace_id IS NOT NULL"
        )
        for row in domains:
            pipe.set(keys.host_workspace(row["host"]), row["workspace_id"])
        await pipe.execute()

    async def restore_click_counters(self, conn: asyncpg.Connection[Any]) -> None:
        """Counters of limited links, SET NX from the visits Postgres has stored, so a lost
        counter comes back no lower than what was let through (a live counter is kept).

        Every stored visit that went through counts, bots included: a restored counter may
        sit slightly above the true one, never below, so no limit is exceeded."""
        rows = await conn.fetch(
            """SELECT l.id, l.group_id, l.max_clicks IS NOT NULL AS own_limit,
                      g.max_clicks IS NOT NULL AS group_limit,
                      count(c.event_id) FILTER (WHERE c.outcome IN ('redirect', 'page')) AS n,
                      count(c.event_id) FILTER (WHERE c.outcome IN ('redirect', 'page')
                                                  AND c.group_id = l.group_id) AS n_in_group
               FROM links l
               LEFT JOIN link_groups g ON g.id = l.group_id
               LEFT JOIN clicks c ON c.link_id = l.id
               WHERE l.deleted_at IS NULL AND (l.max_clicks IS NOT NULL OR g.max_clicks IS NOT NULL)
               GROUP BY l.id, g.id"""
        )
        if not rows:
            return
        pipe = self._redis.pipeline(transaction=False)
        for row in rows:
            if row["own_limit"]:
                pipe.set(keys.click_counter(row["id"]), row["n"], nx=True)
            if row["group_limit"]:
                pipe.set(
                    keys.group_click_counter(row["group_id"], row["id"]), row["n_in_group"], nx=True
                )
        await pipe.execute()


async def _batches(conn: asyncpg.Connection[Any], query: str, size: int) -> Any:
    chunk: list[Any] = []
    async for row in conn.cursor(query, prefetch=size):
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
