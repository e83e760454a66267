"""REDIS_URL forms: one node, the master of a Sentinel-watched service, or a Redis
Cluster; anything else is refused at start in one line, with the password never shown."""

from __future__ import annotations

from typing import cast

import pytest
from kurz import keys, redis_topology
from kurz.settings import load_settings
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.crc import key_slot


def test_a_sentinel_url_names_the_sentinels_the_service_and_the_database() -> None:
    client = redis_topology.client(
        "redis+sentinel://:secret@10.0.0.1:26380,10.0.0.2,[::1]:26381/orders/3"
        "?sentinel_password=watch",
        socket_timeout=2.0,
    )
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "orders"
    manager = pool.sentinel_manager
    assert [(s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs[
        "port"]) for s in manager.sentinels] == [
        ("10.0.0.1", 26380), ("10.0.0.2", 26379), ("::1", 26381)
    ]  # fmt: skip
    assert manager.sentinels[0].connection_pool.connection_kwargs["password"] == "watch"
    assert pool.connection_kwargs["db"] == 3 and pool.connection_kwargs["password"] == "secret"


def test_a_blocking_client_waits_for_a_connection_in_either_topology() -> None:
    for url in ("redis://127.0.0.1:6390/0", "redis+sentinel://127.0.0.1:26390/kurz"):
        client = redis_topology.client(url, blocking=True, max_connections=3, timeout=1.5)
        pool = client.connection_pool
        assert type(pool).__name__ in ("BlockingConnectionPool", "_BlockingSentinelPool")
        assert pool.max_connections == 3 and pool.timeout == 1.5  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        "memcached://127.0.0.1:11211",
        "redis+sentinel://127.0.0.1:26379/",  # no service
        "redis+sentinel://127.0.0.1:26379/kurz/zero",
        "redis+sentinel://127.0.0.1:port/kurz",
        "redis+sentinel://:hunter2@/kurz",  # no Sentinel
        "redis+cluster://:hunter2@/",  # no node
        "redis+cluster://127.0.0.1:7000/3",  # a cluster has database 0 only
        "redis+cluster://127.0.0.1:port",
    ],
)
def test_a_url_no_client_can_use_stops_the_start_in_one_line(url: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        load_settings({"REDIS_URL": url})
    message = str(stopped.value)
    assert message.startswith("kurz: invalid configuration:") and "\n" not in message
    assert "hunter2" not in message


def test_one_node_urls_are_taken_as_before() -> None:
    for url in ("redis://127.0.0.1:6379/0", "rediss://:pw@cache.internal:6380/1",
                "unix:///run/redis.sock?db=2"):  # fmt: skip
        assert load_settings({"REDIS_URL": url}).redis.url == url


def test_a_cluster_url_names_its_startup_nodes_and_credentials() -> None:
    made: object = redis_topology.client(
        "rediss+cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2,[::1]:7002",
        socket_timeout=2.0, blocking=True, timeout=1.5, max_connections=8,
    )  # fmt: skip
    assert redis_topology.is_cluster(made)
    client = cast(RedisCluster, made)
    nodes = client.nodes_manager.startup_nodes
    assert sorted((n.host, int(n.port)) for n in nodes.values()) == sorted(
        [("10.0.0.1", 7000), ("10.0.0.2", 6379), ("::1", 7002)]
    )
    node = next(iter(nodes.values()))
    assert node.connection_kwargs["password"] == "s@cret"
    assert node.connection_kwargs["username"] == "app"
    assert node.connection_kwargs["socket_timeout"] == 2.0
    assert node.max_connections == 8
    assert not redis_topology.is_cluster(redis_topology.client("redis://127.0.0.1:6390/0"))
    assert load_settings({"REDIS_URL": "redis+cluster://10.0.0.1:7000"}).redis.url


def test_click_stream_shards_keep_the_first_name_and_tag_the_others() -> None:
    assert keys.click_streams(1) == ["clicks"]
    assert keys.click_streams(3) == ["clicks", "clicks:{1}", "clicks:{2}"]
    settings = load_settings({"KURZ_STREAM_SHARDS": "4"})
    assert settings.redis.click_streams == keys.click_streams(4)
    with pytest.raises(SystemExit):
        load_settings({"KURZ_STREAM_SHARDS": "0"})


def test_a_callers_rate_limit_keys_share_one_slot_across_windows() -> None:
    first, later = keys.rate_limit("api", "key-1", 100), keys.rate_limit("api", "key-1", 101)
    assert first != later
    assert key_slot(first.encode()) == key_slot(later.encode())
