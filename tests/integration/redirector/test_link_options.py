"""Every per-link option over real HTTP: rules, schedule, query merging, pages, bots."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from kurz.edge_cache import EdgeCache
from kurz.edge_records import SELECT_GROUP, edge_group_from_row

from tests.conftest import Workspace
from tests.integration.redirector.conftest import (
    COUNTRY_HEADER,
    create_link,
    events_of,
    future,
    insert_group,
    past,
)

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile"
FACEBOOK = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


async def test_rules_by_country_platform_language(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    rules = [
        {"what": "country", "url": "https://de.example/", "matches": "DE"},
        {"what": "platform", "url": "https://ios.example/", "matches": "ios"},
        {"what": "language", "url": "https://fr.example/", "matches": "fr"},
    ]
    link = await create_link(pool, redis, workspace.id, rules=rules)
    cases = [
        ({COUNTRY_HEADER: "de"}, "https://de.example/"),
        ({"User-Agent": IPHONE}, "https://ios.example/"),
        ({"Accept-Language": "fr-FR,fr;q=0.9"}, "https://fr.example/"),
        ({COUNTRY_HEADER: "US", "Accept-Language": "en"}, link.url),
    ]
    for headers, expected in cases:
        response = await client.get(f"/{link.slug}", headers=headers)
        assert response.headers["location"] == expected, headers
    events = await events_of(redis, link.id)
    assert [e.rule for e in events] == ["country:DE", "platform:ios", "language:fr", None]
    assert events[0].country == "DE"


async def test_rotator_splits_traffic(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    rules = [{"what": "rotator", "url": "https://a.example/", "percentage": 50},
             {"what": "rotator", "url": "https://b.example/", "percentage": 50}]  # fmt: skip
    link = await create_link(pool, redis, workspace.id, rules=rules)
    seen = {(await client.get(f"/{link.slug}")).headers["location"] for _ in range(60)}
    assert seen == {"https://a.example/", "https://b.example/"}


async def test_schedule_pages_and_expiry_url(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    early = await create_link(pool, redis, workspace.id, starts_at=future())
    over = await create_link(pool, redis, workspace.id, expires_at=past())
    onward = await create_link(
        pool, redis, workspace.id, expires_at=past(), expiry_url="https://example.com/ended"
    )
    live = await create_link(pool, redis, workspace.id, starts_at=past(), expires_at=future())
    response = await client.get(f"/{early.slug}")
    assert response.status_code == 403 and "not active yet" in response.text
    response = await client.get(f"/{over.slug}")
    assert response.status_code == 410 and "expired" in response.text
    response = await client.get(f"/{onward.slug}")
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/ended"
    assert (await client.get(f"/{live.slug}")).status_code == 302
    (event,) = await events_of(redis, over.id)
    assert event.outcome == "expired" and not event.counted


async def test_group_settings_win_over_the_link_and_reach_cached_links(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    group_id = await insert_group(pool, workspace.id)
    cache = EdgeCache(redis)
    await cache.put_group(edge_group_from_row(await pool.fetchrow(SELECT_GROUP, group_id)))
    link = await create_link(pool, redis, workspace.id, group_id=group_id, expires_at=future())
    assert (await client.get(f"/{link.slug}")).headers["location"] == link.url  # now cached
    await pool.execute(
        "UPDATE link_groups SET ends_at = $2, expire_url = $3 WHERE id = $1",
        group_id, past(), "https://example.com/group-over",
    )  # fmt: skip
    await cache.put_group(edge_group_from_row(await pool.fetchrow(SELECT_GROUP, group_id)))
    for _ in range(50):
        location = (await client.get(f"/{link.slug}")).headers["location"]
        if location != link.url:
            break
        await asyncio.sleep(0.05)
    assert location == "https://example.com/group-over"
    events = await events_of(redis, link.id)
    assert events[-1].outcome == "expired" and events[-1].group_id == group_id


async def test_forwarded_parameters_and_utm_are_merged(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(
        pool,
        redis,
        workspace.id,
        url="https://example.com/p?ref=own",
        forward_params=True,
        utm_source="news",
        utm_campaign="fall",
    )
    response = await client.get(f"/{link.slug}?ref=visitor&x=%3Cb%3E&qr=1")
    assert response.headers["location"] == (
        "https://example.com/p?ref=own&utm_source=news&utm_campaign=fall&x=%3Cb%3E"
    )
    (event,) = await events_of(redis, link.id)
    assert event.qr
    plain = await create_link(pool, redis, workspace.id, utm_medium="email")
    response = await client.get(f"/{plain.slug}?ignored=1")
    assert response.headers["location"] == plain.url + "?utm_medium=email"


def _csp_allows_inline_script(html: str, csp: str) -> bool:
    import base64
    import hashlib

    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
              for s in scripts}  # fmt: skip
    return all(h in csp for h in hashes)


async def test_page_answers_carry_escaped_destinations_and_strict_csp(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    dest = "https://example.com/x?a=1&b=<2>"
    options: dict[str, dict[str, Any]] = {
        "navigate": {"redirect_type": 200},
        "mailto": {"link_type": "MAILTO", "url": "hello@example.com"},
        "frame": {"cloaked": True},
        "pixels": {"meta_pixel_id": "1234", "ga4_id": "G-ABC", "gtm_id": "GTM-XYZ"},
        "tiktok": {"tiktok_pixel_id": "C4TIKTOK01"},
        "push": {"push_subscribe": True},
    }
    for name, fields in options.items():
        fields.setdefault("url", dest)
        link = await create_link(pool, redis, workspace.id, **fields)
        response = await client.get(f"/{link.slug}")
        assert response.status_code == 200, name
        html, csp = response.text, response.headers["content-security-policy"]
        assert "<2>" not in html, name
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, name
        assert _csp_allows_inline_script(html, csp), name
        (event,) = await events_of(redis, link.id)
        assert event.outcome == "page" and event.counted, name
    mail = await create_link(pool, redis, workspace.id, link_type="MAILTO", url="a@example.com")
    assert 'data-to="mailto:a@example.com"' in (await client.get(f"/{mail.slug}")).text
    pixel = await create_link(pool, redis, workspace.id, meta_pixel_id="99", url=dest)
    html = (await client.get(f"/{pixel.slug}")).text
    assert 'data-meta="99"' in html and "<noscript>" in html and "facebook.com/tr?id=99" in html
    tiktok = await create_link(pool, redis, workspace.id, tiktok_pixel_id="C4TIKTOK02", url=dest)
    response = await client.get(f"/{tiktok.slug}")
    assert response.status_code == 200 and 'data-tiktok="C4TIKTOK02"' in response.text
    assert "https://analytics.tiktok.com/i18n/pixel/events.js" in response.text
    assert "t.load(d.tiktok);t.page()" in response.text
    assert "'strict-dynamic'" in response.headers["content-security-policy"]
    framed = await create_link(pool, redis, workspace.id, cloaked=True)
    response = await client.get(f"/{framed.slug}")
    assert f'<iframe src="{framed.url}"' in response.text
    assert "frame-src http: https:" in response.headers["content-security-policy"]


async def test_raw_tags_are_rendered_with_a_matching_policy(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(
        pool,
        redis,
        workspace.id,
        head_tags="<meta name='owner' content='1'>",
        body_tags="<div id='owner-body'></div>",
    )
    response = await client.get(f"/{link.slug}")
    assert "<meta name='owner' content='1'>" in response.text
    assert "<div id='owner-body'></div>" in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_preview_crawlers_get_open_graph_and_are_not_counted(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(
        pool,
        redis,
        workspace.id,
        og_title="A <title>",
        description="Words & more",
        image="https://img.example/a.png",
    )
    response = await client.get(f"/{link.slug}", headers={"User-Agent": FACEBOOK})
    assert response.status_code == 200
    assert '<meta property="og:title" content="A &lt;title&gt;">' in response.text
    assert '<meta property="og:image" content="https://img.example/a.png">' in response.text
    assert 'name="twitter:card" content="summary_large_image"' in response.text
    assert (await client.get(f"/{link.slug}")).status_code == 302
    preview, person = await events_of(redis, link.id)
    assert preview.outcome == "preview" and preview.bot and not preview.counted
    assert person.counted


async def test_block_bots(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(pool, redis, workspace.id, block_bots=True)
    assert (await client.get(f"/{link.slug}", headers={"User-Agent": GOOGLEBOT})).status_code == 403
    assert (await client.get(f"/{link.slug}", headers={"User-Agent": IPHONE})).status_code == 302
    blocked, passed = await events_of(redis, link.id)
    assert blocked.outcome == "blocked" and blocked.bot and not blocked.counted
    assert passed.counted


async def test_hide_referrer_and_disabled(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    hidden = await create_link(pool, redis, workspace.id, hide_referrer=True)
    assert (await client.get(f"/{hidden.slug}")).headers["referrer-policy"] == "no-referrer"
    off = await create_link(pool, redis, workspace.id, enabled=False)
    assert (await client.get(f"/{off.slug}")).status_code == 404
