"""A Redis stream consumer group, as every stream consumer of kurz uses it.

    group = ConsumerGroup(redis, keys.CLICK_STREAM, keys.AGGREGATOR_GROUP, consumer_name())
    await group.ensure()                          # XGROUP CREATE ... MKSTREAM (idempotent)
    entries = await group.own_pending()           # what this consumer held before a restart
    entries = await group.reclaim(30_000, 500)    # XAUTOCLAIM from consumers idle >= 30 s
    entries = await group.read(500, block_ms=1000)  # XREADGROUP ... > (new entries)
    ...commit their effect...
    await group.ack([e.id for e in entries])      # XACK only after the effect is durable

Entries are delivered at least once: a consumer that dies before acknowledging leaves
them pending, and another consumer (or itself after a restart) takes them over. Making
the effect idempotent is the consumer's part of the bargain.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any, NamedTuple

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from kurz.redis_failures import noted


class Entry(NamedTuple):
    id: bytes  # the stream id, e.g. b"1700000000000-0"
    fields: dict[bytes, bytes]


def consumer_name() -> str:
    """Unique per process and readable in XINFO: host and pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _entries(raw: Sequence[Any]) -> list[Entry]:
    # Entries deleted from the stream (trimmed) while pending come back without fields.
    return [Entry(entry_id, fields) for entry_id, fields in raw if fields is not None]


class EntrySizes:
    """Click events per stream entry, as lately seen: a redirector writes one entry per
    group commit (one event when idle, hundreds under load), so a consumer asks for as
    many entries as make about the batch of events it wants, and the redirector trims the
    stream to as many entries as hold about its bound in events.

    `weight` is how far one observation moves the estimate: 1 takes the latest as it is
    (a consumer's next read follows its last one); less smooths it (a trim bound that
    does not swing with every batch)."""

    def __init__(self, weight: float = 1.0) -> None:
        self.per_entry = 1.0
        self._weight = weight

    def entries_for(self, events: int) -> int:
        return max(1, int(events / self.per_entry))

    def saw(self, entries: int, events: int) -> None:
        if entries:
            self.per_entry += (max(1.0, events / entries) - self.per_entry) * self._weight


class ConsumerGroup:
    """One consumer of one consumer group on one stream. Methods map to one command each,
    except `reclaim`, which walks XAUTOCLAIM's cursor until it has `count` entries."""

    def __init__(self, redis: aioredis.Redis, stream: str, group: str, consumer: str) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer

    async def ensure(self, start_id: str = "0") -> None:
        """Create the group (and the stream) when missing. `start_id` "0" delivers what is
        already in the stream; "$" only what arrives from now on."""
        try:
            with noted(self.redis, "XGROUP", self.stream):
                await self.redis.xgroup_create(self.stream, self.group, id=start_id, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read(self, count: int, block_ms: int | None = None) -> list[Entry]:
        """New entries, never delivered to anyone. `block_ms` None returns at once."""
        with noted(self.redis, "XREADGROUP", self.stream):
            reply: Any = await self.redis.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms
            )
        return _entries(reply[0][1]) if reply else []

    async def own_pending(self, count: int) -> list[Entry]:
        """Entries delivered to this consumer name and not acknowledged: after a restart
        under the same name, they are the ones the previous process held."""
        with noted(self.redis, "XREADGROUP", self.stream):
            reply: Any = await self.redis.xreadgroup(
                self.group, self.consumer, {self.stream: "0"}, count=count
            )
        return _entries(reply[0][1]) if reply else []

    async def reclaim(self, min_idle_ms: int, count: int) -> list[Entry]:
        """Take over up to `count` entries pending on any consumer for at least
        `min_idle_ms` (a consumer that died, or stalled that long)."""
        found: list[Entry] = []
        cursor: bytes | str = "0-0"
        while len(found) < count:
            with noted(self.redis, "XAUTOCLAIM", self.stream):
                reply: Any = await self.redis.xautoclaim(
                    self.stream,
                    self.group,
                    self.consumer,
                    min_idle_ms,
                    cursor,
                    count=count - len(found),
                )
            cursor = reply[0]
            found.extend(_entries(reply[1]))
            if cursor in (b"0-0", "0-0"):
                break
        return found

    async def ack(self, ids: Sequence[bytes]) -> int:
        if not ids:
            return 0
        with noted(self.redis, "XACK", self.stream):
            acked: int = await self.redis.xack(self.stream, self.group, *ids)
        return acked

    async def lag(self) -> tuple[int | None, int]:
        """(entries not yet delivered to the group, entries delivered and not acknowledged).
        Lag is None when Redis cannot tell (after some trims)."""
        for info in await self.redis.xinfo_groups(self.stream):
            name = info["name"]
            if (name.decode() if isinstance(name, bytes) else name) == self.group:
                return info.get("lag"), int(info["pending"])
        return None, 0

    async def prune_consumers(self, idle_ms: int) -> list[str]:
        """Forget other consumers idle for `idle_ms` with nothing pending (processes that
        are gone), so XINFO stays readable after many restarts."""
        removed: list[str] = []
        for info in await self.redis.xinfo_consumers(self.stream, self.group):
            raw = info["name"]
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            if name != self.consumer and info["pending"] == 0 and info["idle"] >= idle_ms:
                await self.redis.xgroup_delconsumer(self.stream, self.group, name)
                removed.append(name)
        return removed
