"""Redis clients for every service, from one REDIS_URL, whatever the topology.

- `redis://`, `rediss://`, `unix://`: one node (redis-py's own URL forms).
- `redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]`: the
  master of `service` as the Sentinels name it (`rediss+sentinel://` for TLS). The
  client asks a Sentinel for the master before each new connection, and a connection
  to a master that was demoted (`READONLY`) is dropped, so after a failover the next
  command reaches the new master. The password is the data nodes'; Sentinels that
  need one of their own take `?sentinel_password=`.

Built on redis-py's own Sentinel support; nothing here speaks the protocol.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.connection import BlockingConnectionPool, ConnectionPool, parse_url
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
DEFAULT_SENTINEL_PORT = 26379


class BadRedisUrl(ValueError):
    pass


class _BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """A Sentinel-managed pool that waits for a free connection instead of failing."""


def is_sentinel(url: str) -> bool:
    return urlsplit(url).scheme in SENTINEL_SCHEMES


def client(url: str, *, blocking: bool = False, **options: Any) -> aioredis.Redis:
    """A client for `url`. `blocking`: a burst waits for a free connection (up to
    `max_connections`, for `timeout` seconds) instead of failing; `options` are
    redis-py's connection options (timeouts, retry, max_connections)."""
    if is_sentinel(url):
        return _sentinel_client(url, blocking=blocking, **options)
    pool_class: type[ConnectionPool] = BlockingConnectionPool if blocking else ConnectionPool
    if not blocking:
        options.pop("timeout", None)
    return aioredis.Redis.from_pool(pool_class.from_url(url, **options))


def describe(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    hosts = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{hosts}").geturl()


def check(url: str) -> None:
    """Refuses (BadRedisUrl) a URL no client here can be made from, without connecting."""
    scheme = urlsplit(url).scheme
    if scheme in SENTINEL_SCHEMES:
        _sentinel_parts(url)
    elif scheme in ("redis", "rediss", "unix"):
        try:
            parse_url(url)
        except ValueError as exc:
            raise BadRedisUrl(f"{describe(url)}: {exc}") from None
    else:
        raise BadRedisUrl(
            f"{describe(url)}: expected redis://, rediss://, unix:// or "
            "redis+sentinel://host:port[,host:port...]/service[/db]"
        )


class _SentinelParts(NamedTuple):
    sentinels: list[tuple[str, int]]
    service: str
    node: dict[str, Any]  # how to reach the data nodes: db, password, TLS
    sentinel_password: str | None


def _sentinel_parts(url: str) -> _SentinelParts:
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    sentinels = [_address(h) for h in hosts.split(",") if h]
    path = [p for p in parts.path.split("/") if p]
    if not sentinels or not path or len(path) > 2:
        raise BadRedisUrl(
            f"{describe(url)}: expected redis+sentinel://host:port[,host:port...]/service[/db]"
        )
    db = path[1] if len(path) == 2 else "0"
    if not db.isdecimal():
        raise BadRedisUrl(f"{describe(url)}: the database must be a number, got {db!r}")
    node: dict[str, Any] = {"db": int(db)}
    if parts.password is not None:
        node["password"] = unquote(parts.password)
    if parts.username:
        node["username"] = unquote(parts.username)
    if parts.scheme.startswith("rediss"):
        node["ssl"] = True
    password = parse_qs(parts.query).get("sentinel_password", [None])[0]
    return _SentinelParts(sentinels, unquote(path[0]), node, password)


def _sentinel_client(url: str, *, blocking: bool, **options: Any) -> aioredis.Redis:
    found = _sentinel_parts(url)
    sentinel_options: dict[str, Any] = {
        "socket_timeout": options.get("socket_timeout"),
        "socket_connect_timeout": options.get("socket_connect_timeout"),
    }
    if found.sentinel_password is not None:
        sentinel_options["password"] = found.sentinel_password
    manager = Sentinel(found.sentinels, sentinel_kwargs=sentinel_options, **found.node)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
    if not blocking:
        options.pop("timeout", None)
    pool_class = _BlockingSentinelPool if blocking else SentinelConnectionPool
    master: aioredis.Redis = manager.master_for(
        found.service, connection_pool_class=pool_class, **options
    )
    return master


def _address(text: str) -> tuple[str, int]:
    """`host:port`, `host` (the default port) or `[ipv6]:port`."""
    host, colon, port = text.rpartition(":")
    if not colon or "]" in port:  # no port given
        host, port = text, ""
    if port and not port.isdecimal():
        raise BadRedisUrl(f"bad Sentinel address {text!r}: the port must be a number")
    return host.strip("[]"), int(port) if port else DEFAULT_SENTINEL_PORT
