"""kurz on a Redis Cluster: three masters, three replicas, all real, and every service
reaching it through `REDIS_URL=redis+cluster://…` with the click stream in four shards.

The flow runs whole (a link made, redirected, counted, a group webhook delivered, a
click limit exact under concurrency), first visits to links on every shard and calls
that rate-limit each second leave no cross-slot refusal on any node, and a master that
owns a stream shard dies under a steady load: its replica takes over, redirects go on,
every visit answered is counted once and every group webhook is delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from kurz import keys

from tests.conftest import Workspace
from tests.faults.conftest import FaultServers, ServiceFactory, api, create_links, start_pipeline
from tests.faults.kit import (
    BROWSER,
    Load,
    Receiver,
    assert_each_visit_counted_once_and_delivered,
    counted,
    group_with_webhook,
    in_thread,
    metric,
)
from tests.support.redis_cluster import RedisCluster
from tests.support.services import service_env
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

SHARDS = 4
LIMIT = 25
FIRST_VISITS = 40


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    started = RedisCluster(Path(tmp_path_factory.mktemp("cluster"))).start()
    yield started
    started.stop()


def cluster_env(cluster: RedisCluster, **env: str) -> dict[str, str]:
    return {"REDIS_URL": cluster.url(), "KURZ_STREAM_SHARDS": str(SHARDS), **env}


def vivoldi(answer: httpx.Response) -> Any:
    body = answer.json()
    assert answer.status_code == 200 and body["code"] == 0, (answer.status_code, body)
    return body["result"]


async def test_flow_on_a_cluster_with_no_cross_slot_command(
    fault_servers: FaultServers, services: ServiceFactory, cluster: RedisCluster,
    tenant: Workspace, fault_pool: asyncpg.Pool[Any],
) -> None:  # fmt: skip
    # The stream shards sit on more than one master: the spread is what is tested.
    assert len({cluster.owner(s) for s in keys.click_streams(SHARDS)}) > 1
    cluster.reset_stats()
    receiver = await Receiver().start()
    stack = services(**cluster_env(cluster))
    management, redirector = await start_pipeline(stack, fault_servers)
    vivoldi_api = httpx.AsyncClient(
        base_url=management.url, headers={"Authorization": f"APIKey {tenant.key}"}, timeout=60
    )
    async with api(management, tenant) as client, vivoldi_api:
        group = vivoldi(
            await vivoldi_api.post(
                "/api/link-group/v1/create",
                json={"nm": "cluster", "webhookEnableYn": "Y", "webhookCallbackUrl": receiver.url,
                      "webhookMetric": "C", "webhookFrequency": 1},
            )
        )["grpIdx"]  # fmt: skip
        (grouped,) = await create_links(client, 1, groupId=group)
        (limited,) = await create_links(client, 1, maxClicks=LIMIT)
        firsts = await create_links(client, FIRST_VISITS)
        # Calls of one key over several seconds: its rate-limit key changes every second.
        for _ in range(8):
            vivoldi(await vivoldi_api.get("/api/link-group/v1/list"))
            await asyncio.sleep(0.3)

    # Redirected, counted, and the group's webhook delivered.
    async with httpx.AsyncClient(headers={"User-Agent": BROWSER}) as visitor:
        answer = await visitor.get(grouped["shortUrl"])
        assert answer.status_code == 302 and answer.headers["location"] == grouped["url"]
    await wait_for(lambda: bool(receiver.ids), 60, "the group webhook arrives", 0.2)

    # Exact under concurrency: LIMIT of 100 visits racing go through, the rest are refused.
    limited_load = await Load([limited["shortUrl"]], 100, concurrency=100, timeout=60).run()
    through = {r for r in limited_load.ids(302) if limited_load.locations[r] == limited["url"]}
    assert 0 not in limited_load.tally(), limited_load.tally()
    assert len(through) == LIMIT, limited_load.tally()

    # First visits all at once to links whose records lie on every master: one batch of
    # cache misses, read slot by slot.
    first_load = await Load([f["shortUrl"] for f in firsts], FIRST_VISITS,
                            concurrency=FIRST_VISITS).run()  # fmt: skip
    assert first_load.tally() == {302: FIRST_VISITS}
    owners = {cluster.owner(keys.link(*f["shortUrl"].split("/")[2:4])) for f in firsts}
    assert len(owners) == 3

    # A change reaches the redirector, which holds the link in memory, through pub/sub
    # on the cluster. Its visits are bots': they are not counted below.
    moved = "https://example.com/moved"
    async with api(management, tenant) as client:
        answer = await client.patch(f"/api/v1/links/{firsts[0]['id']}", json={"url": moved})
        assert answer.status_code == 200, answer.text

    async def edge_follows() -> bool:
        async with httpx.AsyncClient(headers={"User-Agent": "Googlebot/2.1"}) as bot:
            answer = await bot.get(firsts[0]["shortUrl"])
            return bool(answer.headers.get("location") == moved)

    await wait_for(edge_follows, 30, "the redirector follows the change", 0.2)

    wanted = {int(grouped["id"]): 1, int(limited["id"]): LIMIT}
    wanted |= {int(f["id"]): 1 for f in firsts}

    async def all_counted() -> bool:
        return await counted(fault_pool, list(wanted)) == wanted

    with contextlib.suppress(AssertionError):
        await wait_for(all_counted, 60, "the aggregator counted every visit once")
    assert await counted(fault_pool, list(wanted)) == wanted
    assert len(receiver.ids) == 1 and receiver.duplicates == 0
    await receiver.stop()

    # No node ever refused a command for spanning slots.
    stats = await in_thread(cluster.error_stats)
    crossslot = {port: s for port, s in stats.items() if any("CROSSSLOT" in k for k in s)}
    assert not crossslot, crossslot
    edge = httpx.get(redirector.url + "/metrics").text
    assert metric(edge, "kurz_click_events_total", state="dropped") == 0
    assert metric(edge, "kurz_click_event_buffer") == 0

    # The CLI on the cluster: a lost click-limit counter comes back from stored clicks.
    counter = keys.click_counter(int(limited["id"]))
    node = cluster.node(cluster.owner(counter))
    assert node.delete(counter) == 1
    env = service_env(fault_servers.postgres.url, cluster.url())
    done = subprocess.run(
        [sys.executable, "-m", "kurz.cli", "cache", "rebuild"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert node.get(counter) == str(LIMIT).encode()


async def test_a_stream_master_dies_under_load_and_every_answered_visit_counts_once(
    fault_servers: FaultServers, services: ServiceFactory, cluster: RedisCluster,
    tenant: Workspace, fault_pool: asyncpg.Pool[Any],
) -> None:  # fmt: skip
    # WAIT for one replica: a batch answered is on the replica that will be promoted.
    receiver = await Receiver().start()
    stack = services(**cluster_env(cluster, KURZ_EDGE_WAIT_REPLICAS="1", KURZ_EDGE_WAIT_MS="2000",
                                   KURZ_WEBHOOK_CLAIM_IDLE_MS="3000"))  # fmt: skip
    management, redirector = await start_pipeline(stack, fault_servers)
    group = await group_with_webhook(management.url, tenant.key, receiver)
    async with api(management, tenant) as client:
        links = await create_links(client, 2)
        links += await create_links(client, 1, groupId=group)  # a webhook for every click
    urls = [link["shortUrl"] for link in links]

    victim = cluster.owner(keys.click_stream(0))
    load = Load(urls, 1500, concurrency=8, timeout=30)
    running = asyncio.create_task(load.run())
    await wait_for(lambda: load.done >= 300, 60, "visits under way", 0.05)
    done_at_kill = load.done
    await in_thread(cluster.kill, victim)
    await wait_for(lambda: in_thread(lambda: cluster.owner(keys.click_stream(0)) != victim), 60,
                   "a replica took over the shard", 0.2)  # fmt: skip
    await running
    assert done_at_kill < load.total  # the kill came while visits were under way

    assert load.tally() == {302: 1500}
    await assert_each_visit_counted_once_and_delivered(
        fault_pool, load, links, redirector.url, tenant.id, receiver
    )
    await receiver.stop()
