"""The redirector's own connections to a Redis Cluster (three masters, three replicas,
all real): a command reaches the master of its key's slot even when the slot map it
holds is wrong (MOVED), a key of a slot being migrated is reached on the importing node
(ASK), and a batch of lookups over every master is one MGET per slot, never a CROSSSLOT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import redis.asyncio as aioredis
from kurz import keys, redis_topology
from kurz_redirector.lookups import BatchedGets
from kurz_redirector.wire import ClusterWire, make_wire
from redis.asyncio.cluster import RedisCluster as ClusterClient

from tests.support.redis_cluster import RedisCluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    started = RedisCluster(Path(tmp_path_factory.mktemp("wire-cluster"))).start()
    yield started
    started.stop()


@pytest.fixture
async def client(cluster: RedisCluster) -> AsyncIterator[aioredis.Redis]:
    made = redis_topology.client(cluster.url())
    yield made
    await made.aclose()


def cluster_wire(client: aioredis.Redis) -> ClusterWire:
    wire = make_wire(client)
    assert isinstance(wire, ClusterWire)
    return wire


async def test_a_stale_slot_map_is_corrected_on_moved(
    cluster: RedisCluster, client: aioredis.Redis
) -> None:
    wire = cluster_wire(client)
    stream = keys.click_stream(1)
    await wire.call_for(stream, b"XADD", stream, b"*", b"f", b"1")
    # Point the slot at another master, as after a failover the map has not seen yet.
    manager = cast(ClusterClient, client).nodes_manager
    slot = cast(ClusterClient, client).keyslot(stream)
    owner = manager.slots_cache[slot][0]
    other = next(n for n in manager.nodes_cache.values()
                  if n.server_type == "primary" and n.name != owner.name)  # fmt: skip
    manager.slots_cache[slot] = [other]
    cluster.reset_stats()

    await wire.call_for(stream, b"XADD", stream, b"*", b"f", b"2")

    assert cluster.node(cluster.owner(stream)).xlen(stream) == 2
    assert manager.slots_cache[slot][0].name == owner.name  # the map was read again
    moved = cluster.error_stats()[int(other.port)]
    assert moved.get("errorstat_MOVED", {}).get("count") == 1  # one refusal, then right
    await wire.close()


async def test_a_key_of_a_migrating_slot_is_reached_on_the_importing_node(
    cluster: RedisCluster, client: aioredis.Redis
) -> None:
    wire = cluster_wire(client)
    stream = keys.click_stream(7)
    slot = cast(ClusterClient, client).keyslot(stream)
    source = cluster.owner(stream)
    target = next(p for p in cluster.master_ports() if p != source)
    source_id, target_id = (_node_id(cluster, p) for p in (source, target))
    cluster.node(target).cluster("SETSLOT", slot, "IMPORTING", source_id)
    cluster.node(source).cluster("SETSLOT", slot, "MIGRATING", target_id)
    cluster.reset_stats()
    try:
        # The stream does not exist on the source yet: it answers ASK, and the entry is
        # made on the importing node.
        await wire.call_for(stream, b"XADD", stream, b"*", b"f", b"1")
        assert cluster.error_stats()[source].get("errorstat_ASK", {}).get("count") == 1
        assert _asking(cluster, target, "XLEN", stream) == 1
    finally:
        _asking(cluster, target, "DEL", stream)
        for port in (source, target):
            cluster.node(port).cluster("SETSLOT", slot, "STABLE")
        await wire.close()


def _asking(cluster: RedisCluster, port: int, *command: Any) -> Any:
    """`command` on a node importing its key's slot: after ASKING, on one connection."""
    pipe = cluster.node(port).pipeline(transaction=False)
    pipe.execute_command("ASKING")  # type: ignore[no-untyped-call]  # untyped in redis-py
    pipe.execute_command(*command)  # type: ignore[no-untyped-call]  # untyped in redis-py
    return pipe.execute()[1]


def _node_id(cluster: RedisCluster, port: int) -> str:
    raw: Any = cluster.node(port).cluster("MYID")
    return raw.decode() if isinstance(raw, bytes) else str(raw)


async def test_lookups_over_every_master_are_one_mget_per_slot(
    cluster: RedisCluster, client: aioredis.Redis
) -> None:
    names = [keys.link("cluster.test", f"s{i}") for i in range(60)]
    for i, name in enumerate(names[::2]):
        await client.set(name, f"v{i}")
    assert len({cluster.owner(n) for n in names}) == 3
    cluster.reset_stats()
    gets = BatchedGets(make_wire(client))

    values = await asyncio.gather(*(gets.get(n) for n in names))

    assert values == [f"v{i // 2}".encode() if i % 2 == 0 else None for i in range(60)]
    stats = cluster.error_stats()
    assert not any("CROSSSLOT" in k for s in stats.values() for k in s), stats
    await gets.close()
