"""Every page the edge serves, driven in Chromium at a phone's and a desktop's viewport,
with destinations on another origin than the edge: each does what it promises, and a
visitor meets no console error, script error or Content-Security-Policy violation."""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz.passwords import hash_password
from playwright.async_api import Browser

from tests.browser.conftest import Visitor
from tests.conftest import Workspace
from tests.integration.redirector.branding import brand, custom_domain
from tests.integration.redirector.conftest import create_link, events_of, future, past
from tests.support.services import Service

pytestmark = pytest.mark.browser


def _edge(redirector: Service) -> str:
    return f"127.0.0.1:{redirector.port}"


async def test_password_wrong_then_right_lands_on_the_destination(
    visitor: Visitor,
    redirector: Service,
    landing: str,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    host = _edge(redirector)
    link = await create_link(
        pool, redis, workspace.id, host=host, url=f"{landing}/secret",
        password_hash=hash_password("open sesame"),
    )  # fmt: skip
    page = visitor.page
    await page.goto(f"http://{host}/{link.slug}")
    assert await page.title() == "Password required"
    await page.fill("input[name=password]", "wrong guess")
    async with page.expect_navigation():
        await page.click("button")
    assert await page.locator(".err").inner_text() == "Wrong password."
    await _shot(visitor, "password-wrong")
    await page.fill("input[name=password]", "open sesame")
    await page.click("button")
    await page.wait_for_url(f"{landing}/secret", timeout=10_000)
    assert await page.title() == "landed"
    assert visitor.problems(403) == []
    outcomes = [e.outcome for e in await events_of(redis, link.id)]
    assert outcomes == ["password", "redirect"]


async def test_password_without_scripts_lands_on_the_destination(
    browser: Browser, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    """With scripts off, the page after the form goes on by its refresh."""
    host = _edge(redirector)
    link = await create_link(pool, redis, workspace.id, host=host, url=f"{landing}/no-script",
                             password_hash=hash_password("pw-2"))  # fmt: skip
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(f"http://{host}/{link.slug}")
    await page.fill("input[name=password]", "pw-2")
    await page.click("button")
    await page.wait_for_url(f"{landing}/no-script", timeout=10_000)
    assert errors == []
    await context.close()


async def _shot(visitor: Visitor, name: str) -> None:
    """With KURZ_BROWSER_SHOTS=<dir>, keep a screenshot of the page to look at."""
    if shots := os.environ.get("KURZ_BROWSER_SHOTS"):
        await visitor.page.screenshot(path=f"{shots}/{name}-{visitor.viewport}.png")


async def test_cloaked_link_shows_the_destination_in_a_frame(
    visitor: Visitor, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    host = _edge(redirector)
    link = await create_link(pool, redis, workspace.id, host=host, url=f"{landing}/framed",
                             cloaked=True, og_title="Our page")  # fmt: skip
    page = visitor.page
    await page.goto(f"http://{host}/{link.slug}")
    assert page.url == f"http://{host}/{link.slug}"  # the short address stays
    frame = page.frame_locator("iframe")
    await frame.locator("text=landed").wait_for(timeout=10_000)
    assert await page.title() == "Our page"
    box = await page.locator("iframe").bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert (box["width"], box["height"]) == (size["width"], size["height"])
    assert visitor.problems() == []


async def test_pixel_interstitial_loads_the_pixels_then_goes_on(
    visitor: Visitor, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    host = _edge(redirector)
    link = await create_link(
        pool, redis, workspace.id, host=host, url=f"{landing}/pixels",
        meta_pixel_id="1234567890", ga4_id="G-TEST1", gtm_id="GTM-TEST1",
        tiktok_pixel_id="C4TIKTOK01",
    )  # fmt: skip
    page = visitor.page
    await page.goto(f"http://{host}/{link.slug}", wait_until="commit")
    await page.wait_for_url(f"{landing}/pixels", timeout=10_000)
    assert any(u.startswith("https://connect.facebook.net/") for u in visitor.outside)
    assert any("gtag/js?id=G-TEST1" in u for u in visitor.outside)
    assert any("gtm.js?id=GTM-TEST1" in u for u in visitor.outside)
    tiktok = "https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=C4TIKTOK01&lib=ttq"
    assert tiktok in visitor.outside
    assert visitor.problems() == []


async def test_push_page_goes_on_when_permission_is_not_given(
    visitor: Visitor, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    host = _edge(redirector)
    link = await create_link(pool, redis, workspace.id, host=host, url=f"{landing}/pushed",
                             push_subscribe=True)  # fmt: skip
    page = visitor.page
    await page.goto(f"http://{host}/{link.slug}")
    assert await page.title() == "Notifications"
    await _shot(visitor, "push")
    # Headless Chromium grants nothing unasked: the prompt is dismissed, or denied.
    await page.click("#allow")
    await page.wait_for_url(f"{landing}/pushed", timeout=10_000)
    assert visitor.problems() == []


@pytest.mark.parametrize(
    ("link_type", "target", "opened"),
    [
        ("MAILTO", "hi@example.com?subject=Hi%20there", "mailto:hi@example.com?subject=Hi%20there"),
        ("TEL", "+15551234567", "tel:+15551234567"),
        ("SMS", "+15551234567?body=Hello", "sms:+15551234567?body=Hello"),
    ],
)  # fmt: skip
async def test_mailto_tel_and_sms_pages_open_the_application(
    visitor: Visitor, redirector: Service, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace, link_type: str, target: str, opened: str,
) -> None:  # fmt: skip
    host = _edge(redirector)
    link = await create_link(pool, redis, workspace.id, host=host, link_type=link_type,
                             url=target)  # fmt: skip
    page = visitor.page
    cdp = await visitor.context.new_cdp_session(page)
    requested: list[str] = []
    cdp.on(
        "Page.frameRequestedNavigation",
        lambda e: None if e["url"].startswith("http") else requested.append(e["url"]),
    )
    await cdp.send("Page.enable")
    # As a visitor does: a tap on the short link somewhere. Chromium lets a page open an
    # application without a gesture of its own only once per gesture in the browser.
    await page.set_content(f'<a id="go" href="http://{host}/{link.slug}">open</a>')
    await page.click("#go", no_wait_after=True)
    for _ in range(100):
        if requested:
            break
        await page.wait_for_timeout(50)
    assert requested == [opened]
    await page.locator(f'a[href="{opened}"]').wait_for()  # a tap opens it too
    # No handler is installed for these schemes here; a visitor's phone has one.
    assert [p for p in visitor.problems() if not p.startswith("Failed to launch")] == []


async def test_redirect_type_200_navigates_to_the_destination(
    visitor: Visitor, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    host = _edge(redirector)
    link = await create_link(pool, redis, workspace.id, host=host, url=f"{landing}/paged",
                             redirect_type=200)  # fmt: skip
    await visitor.page.goto(f"http://{host}/{link.slug}", wait_until="commit")
    await visitor.page.wait_for_url(f"{landing}/paged", timeout=10_000)
    assert await visitor.page.title() == "landed"
    assert visitor.problems() == []


PREVIEW_AGENT = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"


async def test_preview_crawler_gets_the_card(
    visitor: Visitor, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    host = _edge(redirector)
    link = await create_link(
        pool, redis, workspace.id, host=host, url=f"{landing}/card", og_title="Spring sale",
        description="Everything <half> price", image="https://img.example/sale.png",
    )  # fmt: skip
    page = visitor.page
    await page.set_extra_http_headers({"User-Agent": PREVIEW_AGENT})
    response = await page.goto(f"http://{host}/{link.slug}")
    assert response is not None and response.status == 200
    meta = page.locator('meta[property="og:description"]')
    assert await meta.get_attribute("content") == "Everything <half> price"
    assert await page.locator('meta[property="og:image"]').get_attribute("content") == (
        "https://img.example/sale.png"
    )
    assert await page.title() == "Spring sale"
    await _shot(visitor, "preview")
    assert visitor.problems() == []


async def test_preview_crawler_follows_a_link_with_only_a_title(
    visitor: Visitor, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    """A title is the owner's label for the link in their dashboard, not a card."""
    host = _edge(redirector)
    link = await create_link(pool, redis, workspace.id, host=host, url=f"{landing}/titled",
                             title="Q3 newsletter, footer link")  # fmt: skip
    await visitor.page.set_extra_http_headers({"User-Agent": PREVIEW_AGENT})
    await visitor.page.goto(f"http://{host}/{link.slug}")
    assert visitor.page.url == f"{landing}/titled"
    assert visitor.problems() == []


async def test_expired_link_goes_to_its_expiry_url(
    visitor: Visitor, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    host = _edge(redirector)
    link = await create_link(pool, redis, workspace.id, host=host, url=f"{landing}/live",
                             expires_at=past(), expiry_url=f"{landing}/over")  # fmt: skip
    await visitor.page.goto(f"http://{host}/{link.slug}")
    assert visitor.page.url == f"{landing}/over"
    assert visitor.problems() == []


@pytest.mark.parametrize(
    ("fields", "status", "heading"),
    [
        ({"expires_at": past()}, 410, "Link expired"),
        ({"starts_at": future()}, 403, "Not active yet"),
        ({"max_clicks": 0}, 410, "Link no longer available"),
        ({"enabled": False}, 404, "Not found"),
    ],
    ids=["expired", "not-started", "over-limit", "disabled"],
)
async def test_status_pages(
    visitor: Visitor, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace, fields: dict[str, Any], status: int,
    heading: str,
) -> None:  # fmt: skip
    host = _edge(redirector)
    link = await create_link(pool, redis, workspace.id, host=host, url=f"{landing}/x", **fields)
    response = await visitor.page.goto(f"http://{host}/{link.slug}")
    assert response is not None and response.status == status
    assert await visitor.page.locator("h1").inner_text() == heading
    await _shot(visitor, heading.lower().replace(" ", "-"))
    assert visitor.problems(status) == []


async def test_unknown_slug(visitor: Visitor, redirector: Service) -> None:
    response = await visitor.page.goto(f"http://{_edge(redirector)}/no-such-link-here")
    assert response is not None and response.status == 404
    assert await visitor.page.locator("h1").inner_text() == "Not found"
    await _shot(visitor, "not-found")
    assert visitor.problems(404) == []


async def test_blocked_bot(
    visitor: Visitor, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    host = _edge(redirector)
    link = await create_link(pool, redis, workspace.id, host=host, url=f"{landing}/x",
                             block_bots=True)  # fmt: skip
    await visitor.page.set_extra_http_headers(
        {"User-Agent": "ExampleBot/2.0 (+https://bot.example)"}
    )
    response = await visitor.page.goto(f"http://{host}/{link.slug}")
    assert response is not None and response.status == 403
    assert await visitor.page.locator("h1").inner_text() == "Access denied"
    assert visitor.problems(403) == []


async def test_branded_pages_and_not_found_redirects(
    visitor: Visitor, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    """A workspace's name, logo (on another origin) and accent colour on its pages; then
    its custom domain's root, an unknown slug and an ended link each go to its URLs."""
    domain = await custom_domain(pool, workspace.id, port=redirector.port)
    await brand(pool, redis, workspace.id, brand_name="Acme <Outdoor> & Co",
                logo_url=f"{landing}/logo.svg", accent_color="#0e9384")  # fmt: skip
    locked = await create_link(pool, redis, workspace.id, host=domain, url=f"{landing}/in",
                               password_hash=hash_password("pw-1"))  # fmt: skip
    ended = await create_link(pool, redis, workspace.id, host=domain, expires_at=past())
    page = visitor.page
    for path, status, name in (
        (f"/{locked.slug}", 200, "password"), (f"/{ended.slug}", 410, "expired"),
        ("/no-such-link", 404, "not-found"),
    ):  # fmt: skip
        response = await page.goto(f"http://{domain}{path}")
        assert response is not None and response.status == status
        assert await page.locator(".brand span").inner_text() == "Acme <Outdoor> & Co"
        logo = page.locator(".brand img")
        assert await logo.evaluate("img => img.complete && img.naturalWidth > 0")
        button_or_link = "button" if name == "password" else "h1"
        assert await page.locator(button_or_link).count() == 1
        await _shot(visitor, f"branded-{name}")
    assert visitor.problems(404, 410) == []
    color = await page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--accent')"
    )
    assert color.strip() == "#0e9384"
    await brand(pool, redis, workspace.id, base_url_redirect=f"{landing}/home",
                invalid_link_redirect=f"{landing}/unknown",
                expired_link_redirect=f"{landing}/ended")  # fmt: skip
    for path, landed in (("/", "home"), ("/no-such-link", "unknown"), (f"/{ended.slug}", "ended")):
        await page.goto(f"http://{domain}{path}")
        assert page.url == f"{landing}/{landed}"
    assert visitor.problems(404, 410) == []
