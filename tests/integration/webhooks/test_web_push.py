"""Web push without a browser: subscriptions posted to the edge as a push page posts
them, stored by the worker, and messages sent through the API delivered to a local push
service that checks VAPID and decrypts; a push service's 410 removes the subscription.
Bad input gets a clear error and nothing is stored or sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz import keys, push
from kurz.events import SUBSCRIPTION_FIELD, entry_events

from tests.conftest import Workspace, new_workspace
from tests.integration.redirector.conftest import HOST, create_link, insert_group
from tests.support.inprocess import management_client
from tests.support.push_service import VAPID_PUBLIC, Browser, PushService, push_service
from tests.support.services import Service
from tests.support.streams import stream_entries

Burst = Callable[..., Awaitable[tuple[int, int]]]


@pytest.fixture
def pushes() -> Iterator[PushService]:
    with push_service() as service:
        yield service


@pytest.fixture
async def edge(redirector: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=redirector.url, headers={"host": HOST}) as http:
        yield http


@pytest.fixture
async def api(database_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with management_client(database_url, redis_url) as http:
        yield http


async def _subscribe(edge: httpx.AsyncClient, slug: str, subscription: Any) -> httpx.Response:
    return await edge.post(f"/{slug}/push", json=subscription)


async def test_subscription_stored_and_message_delivered_encrypted_and_signed(
    edge: httpx.AsyncClient, api: httpx.AsyncClient, pushes: PushService, burst: Burst,
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    group_id = await insert_group(pool, workspace.id, push_subscribe=True)
    link = await create_link(pool, redis, workspace.id, group_id=group_id, push_subscribe=True)
    browser = Browser()
    answer = await _subscribe(edge, link.slug, browser.subscription(pushes.endpoint("a", browser)))
    assert answer.status_code == 201, answer.text
    await burst()
    row = await pool.fetchrow("SELECT * FROM push_subscriptions WHERE link_id = $1", link.id)
    assert row is not None
    assert (row["group_id"], row["audience"], row["p256dh"]) == (
        group_id,
        "visitor",
        browser.p256dh,
    )

    sent = await api.post(
        "/api/v1/push/messages",
        headers=workspace.bearer,
        json={"linkId": link.id, "title": "Sale starts", "body": "50% off today",
              "url": "https://shop.example/sale"},
    )  # fmt: skip
    assert sent.status_code == 202, sent.text
    assert sent.json()["subscriptions"] == 1
    await burst()
    assert pushes.refused == []
    [got] = pushes.received
    assert got.vapid_key == VAPID_PUBLIC
    assert got.message["title"] == "Sale starts"
    assert got.message["body"] == "50% off today"
    assert got.message["url"] == "https://shop.example/sale"
    # The same message reaches the group's subscribers by group id too.
    by_group = await api.post(
        "/api/v1/push/messages", headers=workspace.bearer,
        json={"groupId": group_id, "title": "Group news"},
    )  # fmt: skip
    assert by_group.json()["subscriptions"] == 1
    await burst()
    assert [r.message["title"] for r in pushes.received] == ["Sale starts", "Group news"]

    message = await api.get(f"/api/v1/push/messages/{sent.json()['id']}", headers=workspace.bearer)
    assert message.json()["message"]["deliveries"]["sent"] == 1
    deliveries = await api.get(
        f"/api/v1/push/messages/{sent.json()['id']}/deliveries", headers=workspace.bearer
    )
    [delivery] = deliveries.json()["deliveries"]
    assert (delivery["status"], delivery["lastStatus"]) == ("sent", 201)
    assert delivery["pushService"] == pushes.origin


async def test_a_gone_subscription_is_removed(
    edge: httpx.AsyncClient, api: httpx.AsyncClient, pushes: PushService, burst: Burst,
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    link = await create_link(pool, redis, workspace.id, push_subscribe=True)
    kept, dropped = Browser(), Browser()
    for name, browser, gone in (("kept", kept, False), ("dropped", dropped, True)):
        endpoint = pushes.endpoint(name, browser, gone=gone)
        assert (
            await _subscribe(edge, link.slug, browser.subscription(endpoint))
        ).status_code == 201
    await burst()
    sent = await api.post(
        "/api/v1/push/messages", headers=workspace.bearer,
        json={"linkId": link.id, "title": "Hello"},
    )  # fmt: skip
    assert sent.json()["subscriptions"] == 2
    await burst()
    assert [r.path for r in pushes.received] == ["/push/kept"]
    left = await pool.fetch("SELECT endpoint FROM push_subscriptions WHERE link_id = $1", link.id)
    assert [r["endpoint"] for r in left] == [pushes.origin + "/push/kept"]
    statuses = await pool.fetch(
        "SELECT status, last_status FROM push_deliveries WHERE message_id = $1 ORDER BY status",
        sent.json()["id"],
    )
    assert [(r["status"], r["last_status"]) for r in statuses] == [("gone", 410), ("sent", 201)]
    listed = await api.get(f"/api/v1/push/subscriptions?linkId={link.id}", headers=workspace.bearer)
    assert [s["pushService"] for s in listed.json()["subscriptions"]] == [pushes.origin]
    assert "p256dh" not in listed.text  # keys are never shown


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"not json", "not a push subscription"),
        (b'{"endpoint": "ftp://x/y", "keys": {"p256dh": "AA", "auth": "AA"}}', "http(s) URL"),
        (b'{"endpoint": "https://push.example/1", "keys": {"p256dh": "AAAA", "auth": "AA"}}',
         "P-256"),
        (b'{"endpoint": "https://push.example/1"}', "keys"),
        (b"{" + b" " * 5000 + b"}", "4096 bytes"),
    ],
)  # fmt: skip
async def test_the_edge_refuses_a_bad_subscription_and_records_nothing(
    edge: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace, body: bytes, complaint: str,
) -> None:  # fmt: skip
    link = await create_link(pool, redis, workspace.id, push_subscribe=True)
    before = await redis.xlen(keys.CLICK_STREAM)
    answer = await edge.post(f"/{link.slug}/push", content=body)
    assert answer.status_code == 400
    assert complaint in answer.json()["error"]
    entries = await stream_entries(redis, count=before + 10)
    assert not any(SUBSCRIPTION_FIELD in fields for _, fields in entries[before:])


async def test_only_push_links_take_subscriptions(
    edge: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    plain = await create_link(pool, redis, workspace.id)
    valid = Browser().subscription("https://push.example/x")
    assert (await _subscribe(edge, plain.slug, valid)).status_code == 404
    assert (await _subscribe(edge, "no-such-slug-at-all", valid)).status_code == 404


async def test_the_service_worker_is_served_from_the_short_domain(
    edge: httpx.AsyncClient,
) -> None:
    answer = await edge.get(push.SERVICE_WORKER_PATH)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert "showNotification" in answer.text and "notificationclick" in answer.text


async def test_subscription_entries_are_no_clicks() -> None:
    """Click consumers pass over a subscription entry: no event, nothing malformed."""
    found = entry_events({SUBSCRIPTION_FIELD: b"\x90"})
    assert (found.events, found.invalid) == ([], 0)


@pytest.mark.parametrize(
    ("body", "status", "complaint"),
    [
        ({"title": "x"}, 422, "exactly one of linkId and groupId"),
        ({"linkId": 1, "groupId": 1, "title": "x"}, 422, "exactly one"),
        ({"linkId": 1, "title": ""}, 400, "title"),
        ({"linkId": 1, "title": "x" * 201}, 400, "title"),
        ({"linkId": 1, "title": "x", "url": "javascript:alert(1)"}, 422, "url"),
        ({"linkId": 1, "title": "x", "icon": "y"}, 400, "icon"),
        ({"linkId": 2**62, "title": "x"}, 404, "no link"),
    ],
)
async def test_bad_messages_are_refused_and_nothing_is_queued(
    api: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace,
    body: dict[str, Any], status: int, complaint: str,
) -> None:  # fmt: skip
    answer = await api.post("/api/v1/push/messages", headers=workspace.bearer, json=body)
    assert answer.status_code == status, answer.text
    assert complaint in answer.json()["error"]
    count = await pool.fetchval(
        "SELECT count(*) FROM push_messages WHERE workspace_id = $1", workspace.id
    )
    assert count == 0


async def test_another_workspaces_link_is_not_found(
    api: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    other = await new_workspace(pool)
    theirs = await create_link(pool, redis, other.id, push_subscribe=True)
    answer = await api.post(
        "/api/v1/push/messages", headers=workspace.bearer, json={"linkId": theirs.id, "title": "x"}
    )
    assert answer.status_code == 404


async def test_without_vapid_keys_sending_is_refused(
    database_url: str, redis_url: str, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    link = await create_link(pool, redis, workspace.id, push_subscribe=True)
    async with management_client(
        database_url, redis_url, KURZ_VAPID_PRIVATE_KEY="", KURZ_VAPID_PUBLIC_KEY=""
    ) as api:
        answer = await api.post(
            "/api/v1/push/messages",
            headers=workspace.bearer,
            json={"linkId": link.id, "title": "x"},
        )
    assert answer.status_code == 409
    assert "VAPID" in answer.json()["error"]


async def test_subscriptions_go_with_their_link_or_group(
    edge: httpx.AsyncClient, api: httpx.AsyncClient, burst: Burst, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    group_id = await insert_group(pool, workspace.id, push_subscribe=True)
    in_group = await create_link(pool, redis, workspace.id, group_id=group_id, push_subscribe=True)
    alone = await create_link(pool, redis, workspace.id, push_subscribe=True)
    for link in (in_group, alone):
        sub = Browser().subscription(f"https://push.example/{link.slug}")
        assert (await _subscribe(edge, link.slug, sub)).status_code == 201
    await burst()

    async def left() -> set[int]:
        rows = await pool.fetch(
            "SELECT link_id FROM push_subscriptions WHERE workspace_id = $1", workspace.id
        )
        return {r["link_id"] for r in rows}

    assert await left() == {in_group.id, alone.id}
    deleted = await api.delete(f"/api/v1/links/{alone.id}", headers=workspace.bearer)
    assert deleted.status_code in (200, 204), deleted.text
    assert await left() == {in_group.id}
    await pool.execute("DELETE FROM link_groups WHERE id = $1", group_id)
    assert await left() == set()
