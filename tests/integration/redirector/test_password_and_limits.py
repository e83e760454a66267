"""Password links and exact click limits, against the running redirector."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import redis.asyncio as aioredis
from kurz import keys
from kurz.edge_cache import EdgeCache
from kurz.edge_records import SELECT_GROUP, edge_group_from_row
from kurz.passwords import hash_password

from tests.conftest import Workspace
from tests.integration.redirector.conftest import (
    create_link,
    events_of,
    insert_group,
    new_slug,
    raw_get,
)
from tests.support.streams import redis_value


async def test_password_form_cookie_and_replay_on_another_link(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    hashed = hash_password("open sesame")
    link = await create_link(pool, redis, workspace.id, password_hash=hashed)
    other = await create_link(pool, redis, workspace.id, password_hash=hashed)
    form = await client.get(f"/{link.slug}?a=1")
    assert form.status_code == 200 and 'type="password"' in form.text
    assert f'action="/{link.slug}?a=1"' in form.text
    wrong = await client.post(f"/{link.slug}?a=1", data={"password": "nope"})
    assert wrong.status_code == 403 and "Wrong password" in wrong.text
    missing = await client.post(f"/{link.slug}", data={"other": "x"})
    assert missing.status_code == 400
    right = await client.post(f"/{link.slug}?a=1", data={"password": "open sesame"})
    # A page that goes on to the link (a 303 would be blocked by the form's CSP as soon
    # as the link redirects to another origin), carrying the cookie.
    assert right.status_code == 200 and f'data-to="/{link.slug}?a=1"' in right.text
    assert "location" not in right.headers
    cookie = right.cookies[f"kurz_pw_{link.id}"]
    assert f"Path=/{link.slug}" in right.headers["set-cookie"]
    assert "HttpOnly" in right.headers["set-cookie"]
    client.cookies.clear()  # send cookies by hand below, exactly as intended
    through = await client.get(f"/{link.slug}", headers={"Cookie": f"kurz_pw_{link.id}={cookie}"})
    assert through.status_code == 302 and through.headers["location"] == link.url
    # The same value under the other link's name, or under its own, is worthless there.
    for name in (f"kurz_pw_{other.id}", f"kurz_pw_{link.id}"):
        replay = await client.get(f"/{other.slug}", headers={"Cookie": f"{name}={cookie}"})
        assert replay.status_code == 200 and 'type="password"' in replay.text
    outcomes = [e.outcome for e in await events_of(redis, link.id)]
    assert outcomes == ["password", "redirect"]


async def test_wrong_passwords_are_throttled_per_visitor_and_link(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(pool, redis, workspace.id, password_hash=hash_password("right"))
    neighbour = await create_link(pool, redis, workspace.id, password_hash=hash_password("right"))
    statuses = [
        (await client.post(f"/{link.slug}", data={"password": f"guess{i}"})).status_code
        for i in range(4)
    ]
    assert statuses == [403, 403, 403, 429]  # KURZ_PASSWORD_ATTEMPTS=3
    # Even the right answer waits out the window once throttled.
    blocked = await client.post(f"/{link.slug}", data={"password": "right"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    # A new user agent from the same address is the same guesser (the throttle counts by
    # address); another link is not affected.
    fresh = await client.post(
        f"/{link.slug}", data={"password": "right"}, headers={"User-Agent": "another browser"}
    )
    assert fresh.status_code == 429
    assert (await client.post(f"/{neighbour.slug}", data={"password": "right"})).status_code == 200
    keys_left = [k async for k in redis.scan_iter(match=f"{keys.PREFIX}pw:{link.id}:*")]
    assert len(keys_left) == 1  # the throttled address's counter


async def test_two_thousand_concurrent_visits_let_exactly_the_limit_through(
    redirector: Any,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(pool, redis, workspace.id, max_clicks=100)
    statuses = await asyncio.gather(
        *(raw_get(redirector.port, f"/{link.slug}") for _ in range(2000))
    )
    assert statuses.count(302) == 100
    assert statuses.count(410) == 1900
    assert int(await redis_value(redis, keys.click_counter(link.id))) == 100
    events = await events_of(redis, link.id)
    assert len(events) == 2000
    assert sum(e.counted for e in events) == 100


async def test_click_limit_with_expiry_url_and_uncounted_visits(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(
        pool, redis, workspace.id, max_clicks=1, expiry_url="https://example.com/sold-out"
    )
    assert (await client.head(f"/{link.slug}")).status_code == 302  # looks, takes no slot
    assert (await client.get(f"/{link.slug}")).headers["location"] == link.url
    after = await client.get(f"/{link.slug}")
    assert after.headers["location"] == "https://example.com/sold-out"
    assert (await client.head(f"/{link.slug}")).headers["location"].endswith("/sold-out")
    outcomes = [e.outcome for e in await events_of(redis, link.id)]
    assert outcomes == ["redirect", "redirect", "limited", "limited"]


async def test_unicode_slug_and_destination(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    slug = "grüße-" + new_slug()
    link = await create_link(pool, redis, workspace.id, slug=slug, url="https://example.com/café",
                             password_hash=hash_password("pw"))  # fmt: skip
    path = "/" + quote(slug)
    right = await client.post(path, data={"password": "pw"})
    assert right.status_code == 200 and f'data-to="{path}"' in right.text
    assert f"Path={path};" in right.headers["set-cookie"]
    cookie = right.cookies[f"kurz_pw_{link.id}"]
    client.cookies.clear()
    through = await client.get(path, headers={"Cookie": f"kurz_pw_{link.id}={cookie}"})
    assert through.headers["location"] == "https://example.com/caf%C3%A9"


async def test_a_group_limit_counts_each_link_under_the_group(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    group_id = await insert_group(pool, workspace.id, max_clicks=2)
    await EdgeCache(redis).put_group(
        edge_group_from_row(await pool.fetchrow(SELECT_GROUP, group_id))
    )
    first = await create_link(pool, redis, workspace.id, group_id=group_id, max_clicks=50)
    second = await create_link(pool, redis, workspace.id, group_id=group_id)
    for link in (first, second):
        statuses = [(await client.get(f"/{link.slug}")).status_code for _ in range(3)]
        assert statuses == [302, 302, 410]  # the group's limit wins over the link's 50
        assert int(await redis_value(redis, keys.group_click_counter(group_id, link.id))) == 2
    # The link's own limit counts its clicks too, under the group's; the other has none.
    assert int(await redis_value(redis, keys.click_counter(first.id))) == 2
    assert await redis.get(keys.click_counter(second.id)) is None


async def test_a_links_own_limit_holds_when_its_group_lifts_its_limit(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    group_id = await insert_group(pool, workspace.id, max_clicks=2)
    edge = EdgeCache(redis)
    await edge.put_group(edge_group_from_row(await pool.fetchrow(SELECT_GROUP, group_id)))
    link = await create_link(pool, redis, workspace.id, group_id=group_id, max_clicks=3)
    statuses = [(await client.get(f"/{link.slug}")).status_code for _ in range(3)]
    assert statuses == [302, 302, 410]  # the group's 2
    await pool.execute("UPDATE link_groups SET max_clicks = NULL WHERE id = $1", group_id)
    await edge.put_group(edge_group_from_row(await pool.fetchrow(SELECT_GROUP, group_id)))

    async def visit() -> int:
        return (await client.get(f"/{link.slug}")).status_code

    for _ in range(100):  # the invalidation reaches the redirector
        if (status := await visit()) == 302:
            break
        await asyncio.sleep(0.05)
    assert status == 302  # the third of the link's own 3
    assert [await visit() for _ in range(3)] == [410, 410, 410]
    assert int(await redis_value(redis, keys.click_counter(link.id))) == 3
