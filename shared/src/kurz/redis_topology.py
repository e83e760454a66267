"""Redis clients for every service, from one REDIS_URL, whatever the topology.

- `redis://`, `rediss://`, `unix://`: one node (redis-py's own URL forms).
- `redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]`: the
  master of `service` as the Sentinels name it (`rediss+sentinel://` for TLS). The
  client asks a Sentinel for the master before each new connection, and a connection
  to a master that was demoted (`READONLY`) is dropped, so after a failover the next
  command reaches the new master. The password is the data nodes'; Sentinels that
  need one of their own take `?sentinel_password=`.
- `redis+cluster://[[user]:password@]host:port[,host:port...]`: a Redis Cluster, found
  from any of the nodes given (`rediss+cluster://` for TLS). redis-py's cluster client
  sends each command to the master owning its key's slot, follows `MOVED` and `ASK`, and
  after a lost connection or a failover reads the slot map again. A cluster has one
  database: no `/db`.

Built on redis-py's own Sentinel and Cluster support; nothing here speaks the protocol.
The cluster client is handed out as an `aioredis.Redis`: it answers the same commands
(every key-based one, pipelines, scripts, pub/sub), and the few places that need the
difference ask `is_cluster`.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import BlockingConnectionPool, ConnectionPool, parse_url
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
DEFAULT_SENTINEL_PORT = 26379
DEFAULT_CLUSTER_PORT = 6379


class BadRedisUrl(ValueError):
    pass


class _BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """A Sentinel-managed pool that waits for a free connection instead of failing."""


def is_sentinel(url: str) -> bool:
    return urlsplit(url).scheme in SENTINEL_SCHEMES


def is_cluster_url(url: str) -> bool:
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def is_cluster(redis: object) -> bool:
    """Whether `redis` (from `client`) speaks to a Redis Cluster."""
    return isinstance(redis, RedisCluster)


async def pubsub(redis: aioredis.Redis, *, fresh: bool = False, **options: Any) -> PubSub:
    """A pub/sub connection. On a cluster, once the slot map is known (read again when
    `fresh`: after a lost subscription its node may be gone): redis-py's cluster pub/sub
    picks its node by the channel's slot from the map, and fails with a KeyError when
    asked before any command read it."""
    if is_cluster(redis):
        cluster = cast(RedisCluster, redis)
        await cluster.initialize()
        if fresh:
            await cluster.nodes_manager.initialize()
    return redis.pubsub(**options)


def client(url: str, *, blocking: bool = False, **options: Any) -> aioredis.Redis:
    """A client for `url`. `blocking`: a burst waits for a free connection (up to
    `max_connections`, for `timeout` seconds) instead of failing; `options` are
    redis-py's connection options (timeouts, retry, max_connections)."""
    if is_cluster_url(url):
        return _cluster_client(url, **options)
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
    elif scheme in CLUSTER_SCHEMES:
        _cluster_parts(url)
    elif scheme in ("redis", "rediss", "unix"):
        try:
            parse_url(url)
        except ValueError as exc:
            raise BadRedisUrl(f"{describe(url)}: {exc}") from None
    else:
        raise BadRedisUrl(
            f"{describe(url)}: expected redis://, rediss://, unix://, "
            "redis+sentinel://host:port[,host:port...]/service[/db] or "
            "redis+cluster://host:port[,host:port...]"
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
    node: dict[str, Any] = {"db": int(db), **_node_access(parts)}
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


class _ClusterParts(NamedTuple):
    nodes: list[tuple[str, int]]
    node: dict[str, Any]  # how to reach each node: password, TLS


def _node_access(parts: SplitResult) -> dict[str, Any]:
    """How to reach the data nodes a Sentinel or Cluster URL names: their credentials and
    TLS (`rediss+…`)."""
    access: dict[str, Any] = {}
    if parts.password is not None:
        access["password"] = unquote(parts.password)
    if parts.username:
        access["username"] = unquote(parts.username)
    if parts.scheme.startswith("rediss"):
        access["ssl"] = True
    return access


def _cluster_parts(url: str) -> _ClusterParts:
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    nodes = [_address(h, DEFAULT_CLUSTER_PORT, "cluster node") for h in hosts.split(",") if h]
    if not nodes:
        raise BadRedisUrl(f"{describe(url)}: expected redis+cluster://host:port[,host:port...]")
    if parts.path.strip("/") not in ("", "0"):
        raise BadRedisUrl(f"{describe(url)}: a Redis Cluster has one database, 0")
    node = _node_access(parts)
    return _ClusterParts(nodes, node)


def _cluster_client(url: str, **options: Any) -> aioredis.Redis:
    """redis-py's cluster client. A node's pool never blocks (redis-py has no blocking
    one for clusters): `max_connections` is per node, and a burst past it fails fast.
    Its own retries (a lost node: the slot map read again, the command sent again) stay
    as redis-py sets them."""
    found = _cluster_parts(url)
    for option in ("timeout", "retry"):
        options.pop(option, None)
    cluster = RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in found.nodes],
        **found.node,
        **options,
    )
    return cast(aioredis.Redis, cluster)  # the same command API; see the module's note


def _address(
    text: str, default_port: int = DEFAULT_SENTINEL_PORT, what: str = "Sentinel"
) -> tuple[str, int]:
    """`host:port`, `host` (the default port) or `[ipv6]:port`."""
    host, colon, port = text.rpartition(":")
    if not colon or "]" in port:  # no port given
        host, port = text, ""
    if port and not port.isdecimal():
        raise BadRedisUrl(f"bad {what} address {text!r}: the port must be a number")
    return host.strip("[]"), int(port) if port else default_port
