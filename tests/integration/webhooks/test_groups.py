"""Group webhooks: metric C every `frequency` clicks, metric P every `frequency` new
unique visitors, each counted exactly once however often the stream redelivers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import redis.asyncio as aioredis
import standardwebhooks
from kurz.webhooks.signing import generate_secret
from kurz_webhooks.fanout import fan_out

from tests.conftest import Workspace
from tests.integration.webhooks.conftest import Receiver, click, make_group, make_link, xadd


async def test_metric_c_fires_every_frequency_clicks_once_under_redelivery(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    burst: Callable[..., Awaitable[tuple[int, int]]],
) -> None:
    receiver = await receivers()
    secret = generate_secret()
    group_id = await make_group(
        pool,
        workspace.id,
        webhook_enabled=True,
        webhook_url=receiver.url,
        webhook_metric="C",
        webhook_frequency=3,
        webhook_secret=secret,
    )
    link = await make_link(pool, workspace.id, group_id=group_id)
    events = [click(link) for _ in range(7)] + [click(link, bot=True)]
    # The same events committed once directly, then redelivered twice through the stream.
    result = await fan_out(pool, events, scheme="https", mail_configured=False)
    assert (result.events, result.deliveries) == (7, 2)
    assert (await fan_out(pool, events, scheme="https", mail_configured=False)).deliveries == 0
    await xadd(redis, events)
    await xadd(redis, events)

    await burst()  # every entry fanned out and every due delivery sent: no more will come
    assert len(receiver.received) == 2
    bodies = sorted(
        (json.loads(r.body) for r in receiver.received), key=lambda b: b["data"]["count"]
    )
    assert [b["data"]["count"] for b in bodies] == [3, 6]
    assert [b["data"]["click_id"] for b in bodies] == [events[2].id, events[5].id]
    assert bodies[0]["type"] == "group.clicks_threshold"
    assert bodies[0]["data"]["metric"] == "C" and bodies[0]["data"]["frequency"] == 3
    for got in receiver.received:
        standardwebhooks.Webhook(secret).verify(got.body, got.headers)
    clicks = await pool.fetchval(
        "SELECT clicks FROM webhook_group_counters WHERE group_id = $1", group_id
    )
    assert clicks == 7


async def test_metric_p_fires_every_frequency_new_unique_visitors(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    burst: Callable[..., Awaitable[tuple[int, int]]],
) -> None:
    receiver = await receivers()
    group_id = await make_group(
        pool,
        workspace.id,
        webhook_enabled=True,
        webhook_url=receiver.url,
        webhook_metric="P",
        webhook_frequency=2,
    )
    link = await make_link(pool, workspace.id, group_id=group_id)
    other_link = await make_link(pool, workspace.id, group_id=group_id)
    visitors = ["a", "a", "b", "c", "c", "d", "a"]
    events = [click(link if i % 2 else other_link, visitor=v) for i, v in enumerate(visitors)]
    await xadd(redis, events[:3])
    await xadd(redis, events)  # the first three redelivered, then the rest
    await burst()
    assert len(receiver.received) == 2
    bodies = sorted(
        (json.loads(r.body) for r in receiver.received), key=lambda b: b["data"]["count"]
    )
    # New visitors in order: a, b (count 2), c, d (count 4).
    assert [b["data"]["count"] for b in bodies] == [2, 4]
    assert [b["data"]["click_id"] for b in bodies] == [events[2].id, events[5].id]
    # Signed with the workspace's secret when the group has none.
    secret = await pool.fetchval(
        "SELECT webhook_secret FROM workspaces WHERE id = $1", workspace.id
    )
    for got in receiver.received:
        standardwebhooks.Webhook(secret).verify(got.body, got.headers)
    row = await pool.fetchrow(
        "SELECT clicks, visitors FROM webhook_group_counters WHERE group_id = $1", group_id
    )
    assert (row["clicks"], row["visitors"]) == (7, 4)


async def test_concurrent_fan_outs_of_the_same_events_count_once(
    pool: asyncpg.Pool[Any], workspace: Workspace, receivers: Callable[..., Awaitable[Receiver]]
) -> None:
    receiver = await receivers()
    group_id = await make_group(
        pool,
        workspace.id,
        webhook_enabled=True,
        webhook_url=receiver.url,
        webhook_metric="C",
        webhook_frequency=5,
    )
    link = await make_link(pool, workspace.id, group_id=group_id)
    events = [click(link) for _ in range(25)]
    results = await asyncio.gather(
        *(
            fan_out(pool, events[i:] + events[:i], scheme="https", mail_configured=False)
            for i in (0, 7, 13, 20)
        )
    )
    assert sum(r.events for r in results) == 25
    assert sum(r.deliveries for r in results) == 5
    counts = await pool.fetchval(
        "SELECT clicks FROM webhook_group_counters WHERE group_id = $1", group_id
    )
    assert counts == 25


async def test_a_disabled_group_webhook_and_a_foreign_group_fire_nothing(
    pool: asyncpg.Pool[Any], workspace: Workspace, receivers: Callable[..., Awaitable[Receiver]]
) -> None:
    receiver = await receivers()
    off = await make_group(pool, workspace.id, webhook_enabled=False, webhook_url=receiver.url)
    link = await make_link(pool, workspace.id, group_id=off)
    result = await fan_out(
        pool, [click(link) for _ in range(3)], scheme="https", mail_configured=False
    )
    assert result == (0, 0, 0)
    # An event claiming a group of another workspace is not counted for it.
    async with pool.acquire() as conn:
        other_ws = await conn.fetchval("INSERT INTO workspaces (name) VALUES ('x') RETURNING id")
    foreign = await make_group(pool, other_ws, webhook_enabled=True, webhook_url=receiver.url)
    result = await fan_out(
        pool, [click(link, group_id=foreign)], scheme="https", mail_configured=False
    )
    assert result.deliveries == 0


async def test_redelivered_link_clicks_create_no_second_delivery(
    pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    link = await make_link(pool, workspace.id, webhook_urls=["https://hooks.example.com/a"])
    events = [click(link) for _ in range(3)]
    first = await fan_out(pool, events, scheme="https", mail_configured=False)
    again = await fan_out(pool, [*events, *events], scheme="https", mail_configured=False)
    assert (first.deliveries, again.deliveries) == (3, 0)
    # Without a group to count, no processed-event record is needed.
    assert not await pool.fetchval(
        "SELECT count(*) FROM webhook_processed_events WHERE event_id = ANY($1)",
        [e.id for e in events],
    )
