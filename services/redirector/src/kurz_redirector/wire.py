"""A Redis connection of the hot path's own, spoken to below redis-py's command layer.

redis-py's full call path (retry wrapper, pool checkout, a task per socket write for its
timeout, observability hooks) costs about 80 µs of Python per command: as much as a dozen
redirects. Here hiredis packs the command, one asyncio timeout covers the round trip, and
redis-py's Connection still does the connecting (TLS, auth, RESP parsing).

On a Redis Cluster (`ClusterWire`) there is one such connection per master, and each
command goes to the master owning its key's slot, as redis-py's slot map says; a
redirection, a read-only (demoted) node, a lost connection or a cluster still electing
reads the slot map again and sends the command once more. `make_wire` picks the kind.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

import hiredis
import redis.asyncio as aioredis
from kurz import redis_failures, redis_topology
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import (
    AskError,
    ClusterDownError,
    ConnectionError,
    MovedError,
    ReadOnlyError,
    RedisClusterException,
    ResponseError,
    TryAgainError,
)

Arg = bytes | str | int


def make_wire(redis: aioredis.Redis, *, timeout: float = 2.0) -> Wire | ClusterWire:
    """The hot path's own connection(s) to what `redis` speaks to."""
    if redis_topology.is_cluster(redis):
        return ClusterWire(cast(RedisCluster, redis), timeout=timeout)
    return Wire(redis, timeout=timeout)


class Wire:
    def __init__(self, redis: aioredis.Redis, *, timeout: float = 2.0) -> None:
        pool = redis.connection_pool
        self._connection: AbstractConnection = _unbounded(
            pool.connection_class, pool.connection_kwargs
        )
        self._timeout = timeout

    @classmethod
    def to_node(cls, node: ClusterNode, *, timeout: float) -> Wire:
        wire = cls.__new__(cls)
        wire._connection = _unbounded(node.connection_class, node.connection_kwargs)
        wire._timeout = timeout
        return wire

    async def call_for(self, key: Arg, *args: Arg) -> Any:
        """`call`, on the node holding `key` (one node here: there is only one)."""
        try:
            return await self.call(*args)
        except Exception as exc:
            redis_failures.note(exc, key=key)
            raise

    async def mget(self, keys: Sequence[str]) -> list[Any]:
        values: list[Any] = await self.call(b"MGET", *keys)
        return values

    async def call(self, *args: bytes | str | int) -> Any:
        """One command, one reply. A connection found broken (Redis restarted since its
        last use) is replaced once; other failures raise (RedisError, OSError,
        TimeoutError) and leave the connection closed, to be made again next time. A
        failure carries the node and the command (kurz.redis_failures)."""
        try:
            return await self._call(args)
        except Exception as exc:
            connection = self._connection
            node = getattr(connection, "path", None) or (
                f"{getattr(connection, 'host', '?')}:{getattr(connection, 'port', '?')}"
            )
            redis_failures.note(exc, node=node, command=args[0] if args else None)
            raise

    async def _call(self, args: tuple[bytes | str | int, ...]) -> Any:
        connection = self._connection
        command = hiredis.pack_command(args)  # type: ignore[arg-type]  # its stub says 1-tuple
        for attempt in (1, 2):
            was_connected = connection.is_connected
            try:
                async with asyncio.timeout(self._timeout):
                    if not was_connected:
                        # connect() itself, as redis-py's pools do: a Sentinel-managed
                        # connection asks for the master's address there (sending on an
                        # unconnected one would reach its default address instead).
                        await connection.connect()  # type: ignore[no-untyped-call]  # untyped in redis-py
                    await connection.send_packed_command(command, check_health=False)
                    return await connection.read_response()
            except ResponseError:
                raise  # a complete exchange: the connection stays usable
            except ConnectionError:
                await connection.disconnect(nowait=True)
                if not was_connected or attempt == 2:
                    raise
            except BaseException:
                # The reply may still be on its way: never reuse a connection mid-exchange.
                await connection.disconnect(nowait=True)
                raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self._connection.disconnect()


def _unbounded(
    connection_class: type[AbstractConnection], kwargs: dict[str, Any]
) -> AbstractConnection:
    # No socket timeout of its own: the call's timeout covers the whole exchange.
    return connection_class(**{**kwargs, "socket_timeout": None})


# What sends a command to a cluster once more, after reading the slot map again: the
# node no longer serves the slot, was demoted, is gone, or the cluster is electing.
_REROUTE = (MovedError, ReadOnlyError, ClusterDownError, TryAgainError, ConnectionError,
            OSError, TimeoutError, RedisClusterException)  # fmt: skip
_ATTEMPTS = 3
_PAUSE = 0.2  # seconds between attempts: a failover takes a moment to settle


class ClusterWire:
    """One `Wire` per master of a Redis Cluster, chosen by the slot of each command's key.
    redis-py's cluster client keeps the slot map; this only reads it. Not for concurrent
    use by several tasks (as a `Wire` is not): each user owns its ClusterWire."""

    def __init__(self, cluster: RedisCluster, *, timeout: float = 2.0) -> None:
        self._cluster = cluster
        self._timeout = timeout
        self._wires: dict[str, Wire] = {}

    async def call_for(self, key: Arg, *args: Arg) -> Any:
        """`args` on the master owning `key`'s slot, following redirections."""
        try:
            return await self._call_for(key, args)
        except Exception as exc:
            redis_failures.note(exc, key=key)
            raise

    async def _call_for(self, key: Arg, args: tuple[Arg, ...]) -> Any:
        slot = self._cluster.keyslot(key)
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                await self._cluster.initialize()
                node = self._cluster.nodes_manager.get_node_from_slot(slot)
                return await self._wire(node).call(*args)
            except MovedError:
                # Not only one slot moved: a failover moves every slot of a master.
                await self._refresh()
                if attempt == _ATTEMPTS:
                    raise
            except AskError as exc:
                # A slot being migrated: this key already lives on the importing node.
                # Not recorded: the next command asks the slot's owner first again.
                return await self._ask(exc, args)
            except _REROUTE:
                if attempt == _ATTEMPTS:
                    raise
                await asyncio.sleep(_PAUSE * attempt)
                await self._refresh()
        raise AssertionError("unreachable")

    async def call(self, *args: Arg) -> Any:
        """A command without a key (PING): on the master of slot 0."""
        return await self.call_for(b"", *args)

    async def mget(self, keys: Sequence[str]) -> list[Any]:
        """MGET of keys on any slots: one MGET per slot (never across slots), the nodes
        asked one after another; values in the order of `keys`."""
        by_slot: dict[int, list[int]] = defaultdict(list)
        for index, key in enumerate(keys):
            by_slot[self._cluster.keyslot(key)].append(index)
        values: list[Any] = [None] * len(keys)
        for indexes in by_slot.values():
            found = await self.call_for(keys[indexes[0]], b"MGET", *(keys[i] for i in indexes))
            for index, value in zip(indexes, found, strict=True):
                values[index] = value
        return values

    async def _ask(self, redirect: AskError, args: tuple[Arg, ...]) -> Any:
        node = self._cluster.nodes_manager.get_node(redirect.host, redirect.port)
        if node is None:
            await self._refresh()
            raise ConnectionError(f"no node at {redirect.host}:{redirect.port}")
        wire = self._wire(node)
        await wire.call(b"ASKING")
        return await wire.call(*args)

    def _wire(self, node: ClusterNode) -> Wire:
        wire = self._wires.get(node.name)
        if wire is None:
            wire = self._wires[node.name] = Wire.to_node(node, timeout=self._timeout)
        return wire

    async def _refresh(self) -> None:
        """The slot map read again; a node that cannot be reached leaves it as it was
        (the next attempt, or the next batch, tries again)."""
        with contextlib.suppress(RedisClusterException, ConnectionError, OSError, TimeoutError):
            await self._cluster.nodes_manager.initialize()

    async def close(self) -> None:
        for wire in self._wires.values():
            await wire.close()
        self._wires.clear()
