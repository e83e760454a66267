"""End to end in one process: click events on the stream become signed deliveries to
local receivers, verified with the `standardwebhooks` package."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
import standardwebhooks
from aiohttp import web
from kurz.settings import WebhookSettings, load_settings
from kurz.webhooks import registry
from kurz_webhooks.app import Worker

from tests.conftest import Workspace
from tests.integration.webhooks.conftest import (
    Received,
    Receiver,
    click,
    make_link,
    wait_until,
    workspace_secret,
    xadd,
)


async def test_every_counted_click_yields_a_verified_delivery_per_webhook(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    worker_factory: Callable[..., Awaitable[Worker]],
) -> None:
    per_link_url, link_level, workspace_level = [await receivers() for _ in range(3)]
    link = await make_link(pool, workspace.id, webhook_urls=[per_link_url.url])
    other = await make_link(pool, workspace.id)
    settings = load_settings({"KURZ_WEBHOOK_ALLOW_PRIVATE": "true"}).webhooks
    async with pool.acquire() as conn:
        hook = await registry.register_webhook(
            conn, workspace.id, link_level.url, link_id=link.id, settings=settings
        )
        ws_hook = await registry.register_webhook(
            conn, workspace.id, workspace_level.url, format="linkly", settings=settings
        )
    await worker_factory()
    counted = [click(link) for _ in range(5)]
    not_counted = [
        click(link, bot=True),
        click(link, outcome="expired"),
        click(link, method="HEAD"),
    ]
    await xadd(redis, [*counted, *not_counted, click(other)])

    await wait_until(
        lambda: (
            len(per_link_url.received) >= 5
            and len(link_level.received) >= 5
            and len(workspace_level.received) >= 6
        )
    )
    await asyncio.sleep(0.3)  # nothing more arrives
    expected = sorted(f"evt_{e.id}" for e in counted)
    assert sorted(per_link_url.ids()) == expected
    assert sorted(link_level.ids()) == expected
    # The workspace-level webhook fires for every link of the workspace.
    assert len(workspace_level.received) == 6

    link_secret = await workspace_secret(pool, workspace.id)
    assert link_secret.startswith("whsec_")
    for receiver, secret in (
        (per_link_url, link_secret),
        (link_level, hook.secret),
        (workspace_level, ws_hook.secret),
    ):
        for got in receiver.received:
            standardwebhooks.Webhook(secret).verify(got.body, got.headers)
            with pytest.raises(standardwebhooks.WebhookVerificationError):
                standardwebhooks.Webhook(
                    ws_hook.secret if secret != ws_hook.secret else hook.secret
                ).verify(got.body, got.headers)

    body = json.loads(per_link_url.received[0].body)
    assert body["type"] == "link.clicked"
    assert body["id"] == per_link_url.received[0].message_id
    assert body["data"]["link"]["id"] == link.id
    assert body["data"]["link"]["short_url"] == f"http://kurz.test/{link.slug}"
    assert body["data"]["click"]["country"] == "DE"
    linkly = json.loads(workspace_level.received[0].body)
    assert linkly["event"] == "click"
    assert linkly["link"]["slug"].startswith("/")
    assert linkly["timestamp"].endswith("Z")
    # Linkly's /support/webhooks: the click payload's link carries these fields.
    assert {
        "id", "name", "url", "full_url", "domain", "slug", "destination", "workspace_id",
        "enabled", "cloaking", "forward_params", "block_bots", "public_analytics",
        "utm_source", "utm_medium", "utm_campaign", "og_title", "og_description", "rules",
    } <= set(linkly["link"])  # fmt: skip


async def test_a_receiver_failing_three_times_gets_the_event_once_more_with_the_same_id(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    worker_factory: Callable[..., Awaitable[Worker]],
) -> None:
    async def flaky(got: Received, n: int) -> web.StreamResponse:
        return web.Response(status=500 if n <= 3 else 200)

    receiver = await receivers(flaky)
    link = await make_link(pool, workspace.id, webhook_urls=[receiver.url])
    await worker_factory()
    event = click(link)
    await xadd(redis, [event])

    await wait_until(lambda: len(receiver.received) >= 4)
    await asyncio.sleep(1.5)  # longer than the whole retry schedule: no fifth request
    assert receiver.ids() == [f"evt_{event.id}"] * 4
    assert len({r.body for r in receiver.received}) == 1
    async with pool.acquire() as conn:
        [delivery] = await registry.list_deliveries(conn, workspace.id)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("succeeded", 4, 200)
    assert delivery.last_error is None


async def never_answers(got: Received, n: int) -> web.StreamResponse:
    await asyncio.sleep(30)
    return web.Response(status=200)


async def _send_spaced(redis: aioredis.Redis, link: Any, count: int) -> dict[str, float]:
    sent_at: dict[str, float] = {}
    for _ in range(count):
        event = click(link)
        sent_at[f"evt_{event.id}"] = event.at
        await xadd(redis, [event])
        await asyncio.sleep(0.1)
    return sent_at


def _assert_prompt(receiver: Receiver, sent_at: dict[str, float], within: float) -> None:
    assert sorted(receiver.ids()) == sorted(sent_at)
    delays = [r.at - sent_at[r.message_id] for r in receiver.received]
    assert max(delays) < within, delays


async def test_a_dead_receiver_is_retried_on_schedule_and_dead_lettered_as_a_healthy_one_keeps_up(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    worker_factory: Callable[..., Awaitable[Worker]],
) -> None:
    dead = await receivers(never_answers)
    healthy = await receivers()
    link = await make_link(pool, workspace.id, webhook_urls=[dead.url, healthy.url])
    await worker_factory(KURZ_WEBHOOK_TIMEOUT="0.5", KURZ_WEBHOOK_PER_ENDPOINT="20")

    sent_at = await _send_spaced(redis, link, 10)
    await wait_until(lambda: len(healthy.received) >= 10)
    _assert_prompt(healthy, sent_at, within=2.5)

    async def all_dead() -> bool:
        n = await pool.fetchval(
            "SELECT count(*) FROM webhook_dead_letters WHERE workspace_id = $1", workspace.id
        )
        return bool(n == 10)

    await wait_until(all_dead, timeout=30)
    rows = await pool.fetch(
        """SELECT attempts, status, last_error FROM webhook_deliveries
           WHERE workspace_id = $1 AND url = $2""",
        workspace.id,
        dead.url,
    )
    assert [(r["attempts"], r["status"]) for r in rows] == [(4, "dead")] * 10
    assert all("no answer within 0.5s" in r["last_error"] for r in rows)
    # Each message's attempts follow the schedule: a 0.5 s timeout, then 0.2, 0.4 and
    # 0.8 s (±20 % jitter) before the next try.
    for message_id in sent_at:
        times = [r.at for r in dead.received if r.message_id == message_id]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(gaps) == 3
        for gap, step in zip(gaps, (0.2, 0.4, 0.8), strict=True):
            assert 0.5 + step * 0.8 - 0.05 <= gap <= 0.5 + step * 1.2 + 0.5, gaps


async def test_a_saturated_endpoint_holds_only_its_own_slots(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    worker_factory: Callable[..., Awaitable[Worker]],
) -> None:
    dead = await receivers(never_answers)
    healthy = await receivers()
    link = await make_link(pool, workspace.id, webhook_urls=[dead.url, healthy.url])
    await worker_factory(
        KURZ_WEBHOOK_TIMEOUT="3", KURZ_WEBHOOK_PER_ENDPOINT="2", KURZ_WEBHOOK_CONCURRENCY="4"
    )
    sent_at = await _send_spaced(redis, link, 10)
    await wait_until(lambda: len(healthy.received) >= 10)
    _assert_prompt(healthy, sent_at, within=2.0)  # < the 3 s a shared slot would cost
    assert len(dead.received) <= 2  # the dead endpoint never had more than its two slots


async def test_retry_after_is_honoured(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    worker_factory: Callable[..., Awaitable[Worker]],
) -> None:
    async def busy_once(got: Received, n: int) -> web.StreamResponse:
        if n == 1:
            return web.Response(status=429, headers={"Retry-After": "1"})
        return web.Response(status=200)

    receiver = await receivers(busy_once)
    link = await make_link(pool, workspace.id, webhook_urls=[receiver.url])
    await worker_factory()
    await xadd(redis, [click(link)])
    await wait_until(lambda: len(receiver.received) >= 2)
    gap = receiver.received[1].at - receiver.received[0].at
    assert gap >= 0.95  # the schedule alone would retry after about 0.2 s


async def test_redirects_are_not_followed(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    worker_factory: Callable[..., Awaitable[Worker]],
) -> None:
    target = await receivers()

    async def redirect(got: Received, n: int) -> web.StreamResponse:
        return web.Response(status=307, headers={"Location": target.url})

    receiver = await receivers(redirect)
    link = await make_link(pool, workspace.id, webhook_urls=[receiver.url])
    await worker_factory(KURZ_WEBHOOK_RETRY_SCHEDULE="0.1")
    await xadd(redis, [click(link)])
    await wait_until(lambda: len(receiver.received) >= 2)
    await asyncio.sleep(0.3)
    assert target.received == []
    status = await pool.fetchval(
        "SELECT last_status FROM webhook_deliveries WHERE workspace_id = $1", workspace.id
    )
    assert status == 307


async def test_private_targets_are_refused_at_delivery_unless_allowed(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    worker_factory: Callable[..., Awaitable[Worker]],
) -> None:
    receiver = await receivers()
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    link = await make_link(pool, workspace.id, webhook_urls=[receiver.url, by_name])
    await worker_factory(KURZ_WEBHOOK_ALLOW_PRIVATE="false", KURZ_WEBHOOK_RETRY_SCHEDULE="0.1")
    await xadd(redis, [click(link)])

    async def both_dead() -> bool:
        rows = await pool.fetch(
            "SELECT status, last_error FROM webhook_deliveries WHERE workspace_id = $1",
            workspace.id,
        )
        return len(rows) == 2 and all(r["status"] == "dead" for r in rows)

    await wait_until(both_dead)
    errors = await pool.fetch(
        "SELECT last_error FROM webhook_deliveries WHERE workspace_id = $1", workspace.id
    )
    assert all("loopback" in r["last_error"] for r in errors)
    assert receiver.received == []


async def test_a_malformed_stream_entry_is_acknowledged_and_does_not_block(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    worker_factory: Callable[..., Awaitable[Worker]],
) -> None:
    from kurz import keys

    receiver = await receivers()
    link = await make_link(pool, workspace.id, webhook_urls=[receiver.url])
    await worker_factory()
    await redis.xadd(keys.CLICK_STREAM, {b"e": b"\xc1not msgpack"})
    await redis.xadd(keys.CLICK_STREAM, {b"other": b"x"})
    await xadd(redis, [click(link)])
    await wait_until(lambda: len(receiver.received) == 1)

    async def nothing_pending() -> bool:
        info = await redis.xpending(keys.CLICK_STREAM, keys.WEBHOOK_GROUP)
        return bool(info["pending"] == 0)

    await wait_until(nothing_pending)


async def test_linklys_click_payload_shows_the_link_as_it_is(
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]], burst: Callable[..., Awaitable[tuple[int, int]]],
) -> None:  # fmt: skip
    # Linkly's /support/webhooks: "link": {..., "destination", "cloaking", "forward_params",
    # "block_bots", "public_analytics", "utm_*", "og_title", "og_description", "rules"}.
    receiver = await receivers()
    link = await make_link(pool, workspace.id, url="https://shop.example/sale")
    await pool.execute(
        """UPDATE links SET cloaked = true, forward_params = true, utm_source = 'mail',
               utm_campaign = 'spring', og_title = 'Spring', description = 'All of it',
               public_analytics = true,
               rules = '[{"what": "country", "url": "https://shop.example/de",
                          "matches": "DE"}]'
           WHERE id = $1""",
        link.id,
    )
    async with pool.acquire() as conn:
        await registry.register_webhook(
            conn, workspace.id, receiver.url, settings=WebhookSettings(allow_private_targets=True),
            format="linkly",
        )  # fmt: skip
    await xadd(redis, [click(link)])
    await burst()
    [got] = receiver.received
    shown = json.loads(got.body)["link"]
    assert (shown["destination"], shown["cloaking"], shown["forward_params"]) == (
        "https://shop.example/sale", True, True,
    )  # fmt: skip
    assert (shown["utm_source"], shown["utm_campaign"], shown["og_title"]) == (
        "mail", "spring", "Spring",
    )  # fmt: skip
    assert shown["og_description"] == "All of it" and shown["public_analytics"] is True
    assert shown["rules"] == [
        {"what": "country", "url": "https://shop.example/de", "matches": "DE"}
    ]


async def test_one_url_subscribed_on_the_link_and_the_workspace_gets_both(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    burst: Callable[..., Awaitable[tuple[int, int]]],
) -> None:
    """Linkly's clients subscribe a URL per link and per workspace; both fire."""
    receiver = await receivers()
    link = await make_link(pool, workspace.id)
    allowed = WebhookSettings(allow_private_targets=True)
    async with pool.acquire() as conn:
        for link_id in (link.id, None):
            await registry.register_webhook(
                conn, workspace.id, receiver.url, settings=allowed, link_id=link_id,
                format="linkly",
            )  # fmt: skip
    await xadd(redis, [click(link)])
    await burst()
    assert len(receiver.received) == 2
    assert len({got.message_id for got in receiver.received}) == 2
