"""A workspace's branding on the edge's pages, and its not-found redirects: the root of
its own domain, an unknown or disabled slug, a link past its end or click limit."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from kurz import keys
from kurz.branding import decode_workspace
from kurz.edge_cache import EdgeCache
from kurz.passwords import hash_password

from tests.conftest import Workspace
from tests.integration.redirector.branding import assert_strict_csp, brand, custom_domain
from tests.integration.redirector.conftest import HOST, create_link, events_of, future, past
from tests.support.streams import redis_value

LOGO = "https://cdn.example/logo.png"


async def test_unknown_addresses_of_a_custom_domain(
    client: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    host = await custom_domain(pool, workspace.id)
    await brand(pool, redis, workspace.id, brand_name="Acme <b>", logo_url=LOGO,
                accent_color="#ff6600")  # fmt: skip
    for path in ("/no-such-link", "/"):
        page = await client.get(path, headers={"Host": host})
        assert page.status_code == 404 and "Acme &lt;b&gt;" in page.text
        assert f'<img src="{LOGO}"' in page.text and "--accent:#ff6600" in page.text
        assert (
            "img-src 'self' data: https://cdn.example;" in page.headers["content-security-policy"]
        )
        assert_strict_csp(page)
    # The shared domain belongs to no workspace: kurz's own page.
    shared = await client.get("/no-such-link", headers={"Host": HOST})
    assert shared.status_code == 404 and "Acme" not in shared.text
    assert_strict_csp(shared)
    # Now with redirects: the edge learns of them by invalidation, not by waiting.
    await brand(pool, redis, workspace.id, invalid_link_redirect="https://acme.example/404",
                base_url_redirect="https://acme.example/")  # fmt: skip
    unknown = await client.get("/no-such-link", headers={"Host": host})
    assert unknown.status_code == 302
    assert unknown.headers["location"] == "https://acme.example/404"
    root = await client.get("/", headers={"Host": host})
    assert root.status_code == 302 and root.headers["location"] == "https://acme.example/"
    assert (await client.get("/no-such-link", headers={"Host": HOST})).status_code == 404
    assert (await client.get("/", headers={"Host": HOST})).status_code == 404


async def test_ended_and_disabled_links_go_where_the_workspace_says(
    client: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    expired = await create_link(pool, redis, workspace.id, expires_at=past())
    own_url = await create_link(pool, redis, workspace.id, expires_at=past(),
                                expiry_url="https://own.example/over")  # fmt: skip
    used_up = await create_link(pool, redis, workspace.id, max_clicks=0)
    disabled = await create_link(pool, redis, workspace.id, enabled=False)
    waiting = await create_link(pool, redis, workspace.id, starts_at=future())
    # Before: kurz's pages, in the workspace's colours.
    await brand(pool, redis, workspace.id, brand_name="Acme", accent_color="#0e9384")
    before = await client.get(f"/{expired.slug}")
    assert before.status_code == 410 and "Acme" in before.text and "#0e9384" in before.text
    assert_strict_csp(before)
    await brand(pool, redis, workspace.id, expired_link_redirect="https://acme.example/ended",
                invalid_link_redirect="https://acme.example/gone")  # fmt: skip
    expected = {
        expired.slug: "https://acme.example/ended",
        own_url.slug: "https://own.example/over",  # the link's own expiry URL wins
        used_up.slug: "https://acme.example/ended",
        disabled.slug: "https://acme.example/gone",
    }
    for slug, location in expected.items():
        answer = await client.get(f"/{slug}")
        assert (answer.status_code, answer.headers.get("location")) == (302, location), slug
    not_yet = await client.get(f"/{waiting.slug}")
    assert not_yet.status_code == 403 and "Acme" in not_yet.text
    (event,) = await events_of(redis, used_up.id)
    assert (event.outcome, event.destination) == ("limited", "https://acme.example/ended")


async def test_password_pages_carry_the_branding(
    client: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    await brand(pool, redis, workspace.id, brand_name="Acme", logo_url=LOGO,
                accent_color="#ffd400")  # fmt: skip
    link = await create_link(pool, redis, workspace.id, password_hash=hash_password("pw-1"))
    for answer in (
        await client.get(f"/{link.slug}"),
        await client.post(f"/{link.slug}", data={"password": "wrong"}),
        await client.post(f"/{link.slug}", data={"password": "pw-1"}),
    ):
        assert "Acme" in answer.text and f'<img src="{LOGO}"' in answer.text, answer.status_code
        assert "--on-accent:#111" in answer.text  # dark text on a light accent
        assert_strict_csp(answer)


async def test_postgres_on_a_miss_and_the_rebuild(
    client: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    """Redis without the workspace's record or its domain's owner: the edge reads
    Postgres and refills Redis; `kurz cache rebuild` writes both as well."""
    host = await custom_domain(pool, workspace.id)
    await pool.execute("UPDATE workspaces SET brand_name = 'Straight from SQL' WHERE id = $1",
                       workspace.id)  # fmt: skip
    page = await client.get("/no-such-link", headers={"Host": host})
    assert page.status_code == 404 and "Straight from SQL" in page.text
    assert decode_workspace(await redis_value(redis, keys.workspace(workspace.id))).brand_name == (
        "Straight from SQL"
    )
    assert int(await redis_value(redis, keys.host_workspace(host))) == workspace.id
    await redis.delete(keys.workspace(workspace.id), keys.host_workspace(host))
    await EdgeCache(redis).rebuild(pool)
    assert decode_workspace(await redis_value(redis, keys.workspace(workspace.id))).brand_name == (
        "Straight from SQL"
    )
    assert int(await redis_value(redis, keys.host_workspace(host))) == workspace.id
