"""Where a Redis command failed: the node (host:port), the command and its key's cluster
slot. The place that sends a command knows them and notes them on the exception; the
place that logs it, often several calls up, adds them to its log line with `fields`.
redis-py's own exceptions say none of this, and on a Sentinel set or a Cluster "Redis
failed" does not say which of the nodes to look at."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.crc import key_slot

from kurz import redis_topology

Arg = bytes | str | int

_NOTES = ("redis_node", "redis_command", "redis_slot")


def note(
    exc: BaseException, *, node: str | None = None, command: Arg | None = None,
    key: Arg | None = None,
) -> None:  # fmt: skip
    """Notes where `exc` happened; what an inner call noted first is kept."""
    slot = key_slot(_bytes(key)) if key is not None else None
    name = _bytes(command).decode("ascii", "replace").upper() if command is not None else None
    for attr, value in zip(_NOTES, (node, name, slot), strict=True):
        if value is not None and getattr(exc, attr, None) is None:
            with contextlib.suppress(AttributeError):  # an exception type with __slots__
                setattr(exc, attr, value)


def fields(exc: BaseException) -> dict[str, Any]:
    """Log fields for a failed Redis command: the error and whatever was noted of it."""
    found = {attr: getattr(exc, attr) for attr in _NOTES if getattr(exc, attr, None) is not None}
    # The type and the server's words: redis-py's repr of its errors drops the message.
    return {"error": f"{type(exc).__name__}: {exc}", **found}


def node_of(redis: aioredis.Redis, key: Arg | None = None) -> str | None:
    """The node a client sends `key`'s commands to, as far as it is known without asking:
    a cluster's master of the key's slot, a Sentinel set's service, a node's address."""
    if redis_topology.is_cluster(redis):
        with contextlib.suppress(Exception):  # no slot map yet
            return str(redis.get_node_from_key(key if key is not None else b"").name)  # type: ignore[attr-defined]
        return None
    pool = redis.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        return f"sentinel service {pool.service_name}"
    kwargs = pool.connection_kwargs
    if "path" in kwargs:
        return str(kwargs["path"])
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


@contextlib.contextmanager
def noted(redis: aioredis.Redis, command: str, key: Arg) -> Iterator[None]:
    """Notes on any exception of the block the node, `command` and `key`'s slot."""
    try:
        yield
    except Exception as exc:
        note(exc, node=node_of(redis, key), command=command, key=key)
        raise


def _bytes(value: Arg) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()
