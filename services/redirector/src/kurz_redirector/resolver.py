"""Resolve (host, slug) to a link: local cache, else Redis, else Postgres (read-only).

Redis is refilled from Postgres with SET NX, so a fill never overwrites a newer record
that the management service wrote in between.

With a read replica (DATABASE_REPLICA_URL), reads go to the replica, which may be
behind. What it finds is refilled into Redis (which keeps records until they change)
only once the primary confirms the row is current, by its id and version, a one-row
index lookup; a row the primary has changed or deleted since is read from the primary
instead, so a lagging replica never brings a deleted link back. What the replica does
not find is remembered for a second only: a link made on the primary a moment ago is
found as soon as the replica replays it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz import keys, redis_topology
from kurz.db import create_pool
from kurz.edge_records import SELECT_GROUP, SELECT_LINK, edge_group_from_row, edge_link_from_row
from kurz.models import (
    EdgeGroup,
    EdgeLink,
    decode_group,
    decode_link,
    effective_link,
    encode_group,
    encode_link,
)
from kurz.redis_failures import fields
from redis.exceptions import RedisClusterException, RedisError

from kurz_redirector.cache import Counters, Entry, LinkCache
from kurz_redirector.lookups import BatchedGets
from kurz_redirector.metrics import EdgeStats
from kurz_redirector.wire import make_wire

log = logging.getLogger(__name__)

_DATABASE_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
_RETRY_POOL_AFTER = 1.0  # seconds
_REPLICA_MISS_SECONDS = 1.0  # how long a miss on a replica that may be behind is believed
SELECT_LINK_AND_VERSION = SELECT_LINK.replace(" FROM links l", ", l.version FROM links l", 1)
_CURRENT = "SELECT 1 FROM links WHERE id = $1 AND version = $2 AND deleted_at IS NULL"


class Unavailable(Exception):
    """Neither Redis nor Postgres could tell whether the address exists."""


class Resolver:
    def __init__(
        self,
        cache: LinkCache,
        redis: aioredis.Redis,
        database_url: str,
        prepare: Callable[[EdgeLink, float, Counters | None], Entry],
        *,
        replica_url: str | None = None,
        pool_max: int = 4,
        stats: EdgeStats | None = None,
    ) -> None:
        self.cache = cache
        self.stats = stats or EdgeStats()
        self._redis = redis
        self._gets = BatchedGets(make_wire(redis))
        # Reads go to the replica when there is one; the primary only confirms them.
        self._reads = _LazyPool(replica_url or database_url, pool_max)
        self._primary = _LazyPool(database_url, 2) if replica_url else None
        self._prepare = prepare
        self._loading: dict[str, asyncio.Future[Entry]] = {}
        # Told every invalidation message after the link cache, and "*" on a resubscribe.
        self.listeners: list[Callable[[str], None]] = []

    async def resolve(self, host: str, slug: str) -> Entry:
        """A cache miss: load once even if many requests for the same address arrive."""
        key = f"{host}/{slug}"
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Entry] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            epoch = self.cache.epoch
            entry = await self._load(host, slug)
            # An invalidation during the load may have been about this very record: then
            # answer with what was read, but do not keep it.
            if self.cache.epoch == epoch:
                self.cache.put(key, entry)
            future.set_result(entry)
            return entry
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters, if any, get it from shield
            raise
        finally:
            del self._loading[key]

    async def _load(self, host: str, slug: str) -> Entry:
        link, group = await self._from_redis(host, slug)
        if link is None:
            link, group = await self._from_postgres(host, slug)
        if link is None:
            if self._primary is not None:  # the replica may not have it yet
                return Entry.unknown(time.monotonic() + _REPLICA_MISS_SECONDS)
            return Entry.unknown(self.cache.deadline())
        effective = effective_link(link, group)
        return self._prepare(effective, self.cache.deadline(), _counters(link, group))

    async def full_link(self, host: str, slug: str) -> EdgeLink | None:
        """The effective EdgeLink, also for a plain redirect whose cache entry dropped it;
        read from Redis (or Postgres), not cached. For the side paths (QR codes)."""
        link, group = await self._from_redis(host, slug)
        if link is None:
            link, group = await self._from_postgres(host, slug)
        return None if link is None else effective_link(link, group)

    async def _from_redis(self, host: str, slug: str) -> tuple[EdgeLink | None, EdgeGroup | None]:
        try:
            raw = await self._gets.get(keys.link(host, slug))
            if raw is None:
                return None, None
            link = decode_link(raw)
            group = None
            if link.group_id is not None:
                raw_group = await self._gets.get(keys.group(link.group_id))
                if raw_group is None:
                    return link, await self._group_from_postgres(link.group_id)
                group = decode_group(raw_group)
            return link, group
        except (RedisError, RedisClusterException) as exc:
            log.warning(
                "redis lookup failed; reading Postgres",
                extra={"host": host, "slug": slug, **fields(exc)},
            )
            return None, None

    async def _from_postgres(
        self, host: str, slug: str
    ) -> tuple[EdgeLink | None, EdgeGroup | None]:
        pool = await self._get_pool()
        try:
            row = await pool.fetchrow(SELECT_LINK_AND_VERSION, host, slug)
            if row is not None and self._primary is not None:
                row = await self._current(row, host, slug)
        except _DATABASE_ERRORS as exc:
            raise Unavailable("postgres lookup failed") from exc
        if row is None:
            return None, None
        link = edge_link_from_row(row)
        await self._refill(keys.link(host, slug), encode_link(link))
        group = await self._group_from_postgres(link.group_id) if link.group_id else None
        return link, group

    async def _current(self, row: Any, host: str, slug: str) -> Any:
        """The replica's row if the primary has it unchanged, else the primary's (None:
        deleted there)."""
        assert self._primary is not None
        primary = await self._primary.get()
        if await primary.fetchval(_CURRENT, row["id"], row["version"]):
            return row
        self.stats.replica_stale += 1
        return await primary.fetchrow(SELECT_LINK_AND_VERSION, host, slug)

    async def _group_from_postgres(self, group_id: int) -> EdgeGroup | None:
        pool = await self._get_pool()
        try:
            row = await pool.fetchrow(SELECT_GROUP, group_id)
        except _DATABASE_ERRORS as exc:
            raise Unavailable("postgres lookup failed") from exc
        if row is None:
            return None
        group = edge_group_from_row(row)
        await self._refill(keys.group(group_id), encode_group(group))
        return group

    async def _refill(self, key: str, value: bytes) -> None:
        with contextlib.suppress(RedisError, RedisClusterException):
            await self._redis.set(key, value, nx=True)

    def _tell(self, message: str) -> None:
        for listener in self.listeners:
            listener(message)

    async def database_pool(self) -> asyncpg.Pool[Any]:
        """The read-only pool, for the other edge records read on a miss (workspaces)."""
        return await self._get_pool()

    async def _get_pool(self) -> asyncpg.Pool[Any]:
        return await self._reads.get()

    async def close(self) -> None:
        await self._gets.close()
        for pool in (self._reads, self._primary):
            if pool is not None:
                await pool.close()

    async def listen(self, channel: str = keys.INVALIDATION_CHANNEL) -> None:
        """Apply invalidations until cancelled.

        When the subscription drops, the whole cache goes as soon as it is made again:
        messages may have been missed in between. Until then, cached links keep being
        served: while Redis is unreachable nothing can be published through it either,
        and the TTL still bounds how old an entry gets."""
        delay = 0.1
        lost = False
        while True:
            pubsub: Any = None
            try:
                pubsub = await redis_topology.pubsub(
                    self._redis, fresh=lost, ignore_subscribe_messages=True
                )
                await pubsub.subscribe(channel)
                self.cache.clear()
                self._tell(keys.FLUSH_ALL)
                self.stats.redis_up = 1
                delay = 0.1
                async for message in pubsub.listen():
                    data = message.get("data")
                    if isinstance(data, bytes):
                        text = data.decode("utf-8", "replace")
                        self.cache.invalidate(text)
                        self._tell(text)
            # KeyError: redis-py's cluster pub/sub looking up a slot its map lacks.
            except (RedisError, RedisClusterException, OSError, KeyError) as exc:
                lost = True
                self.stats.redis_up = 0
                log.warning("invalidation channel lost; reconnecting", extra={"error": repr(exc)})
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


class _LazyPool:
    """A pool made on first need (a redirector whose links all sit in Redis never
    connects to Postgres); after a failed attempt, it fails fast for a moment."""

    def __init__(self, url: str, max_size: int) -> None:
        self._url, self._max_size = url, max_size
        self._pool: asyncpg.Pool[Any] | None = None
        self._lock = asyncio.Lock()
        self._failed_at = float("-inf")

    async def get(self) -> asyncpg.Pool[Any]:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    loop = asyncio.get_running_loop()
                    if loop.time() - self._failed_at < _RETRY_POOL_AFTER:
                        raise Unavailable("postgres unreachable")
                    try:
                        self._pool = await create_pool(
                            self._url, min_size=0, max_size=self._max_size
                        )
                    except _DATABASE_ERRORS as exc:
                        self._failed_at = loop.time()
                        raise Unavailable("postgres unreachable") from exc
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


def _counters(link: EdgeLink, group: EdgeGroup | None) -> Counters | None:
    """The click limits a visit must pass, each with its counter: the link's own, always
    counted whatever its group does (lifting the group's limit later must not let the
    link past its own), and its group's (each link of the group gets the group's limit,
    counted per link)."""
    found: list[tuple[str, int]] = []
    if link.max_clicks is not None:
        found.append((keys.click_counter(link.id), link.max_clicks))
    if group is not None and group.max_clicks is not None:
        found.append((keys.group_click_counter(group.id, link.id), group.max_clicks))
    return tuple(found) or None
