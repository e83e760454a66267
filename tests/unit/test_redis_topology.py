"""REDIS_URL forms: one node, or the master of a Sentinel-watched service; anything else
is refused at start in one line, with the password never shown."""

from __future__ import annotations

import pytest
from kurz import redis_topology
from kurz.settings import load_settings
from redis.asyncio.sentinel import SentinelConnectionPool


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
