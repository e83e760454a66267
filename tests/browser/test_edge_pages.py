"""The edge's pages do what they promise in a real browser: they navigate on, and their
own inline scripts run under their Content-Security-Policy."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, Page, Route

from tests.conftest import Workspace
from tests.integration.redirector.conftest import create_link, events_of
from tests.support.services import Service

pytestmark = pytest.mark.browser


async def _page(browser: Browser) -> tuple[Page, list[str], list[str]]:
    """A fresh page; outside requests are recorded and refused (the test runs offline)."""
    context = await browser.new_context()
    page = await context.new_page()
    outside: list[str] = []
    violations: list[str] = []

    async def refuse(route: Route) -> None:
        outside.append(route.request.url)
        await route.abort()

    await context.route("https://**/*", refuse)
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    return page, outside, violations


async def test_pixel_interstitial_loads_the_pixels_and_navigates(
    browser: Browser,
    redirector: Service,
    landing: str,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    host = f"127.0.0.1:{redirector.port}"
    link = await create_link(
        pool,
        redis,
        workspace.id,
        host=host,
        url=f"{landing}/after-pixels",
        meta_pixel_id="1234567890",
        ga4_id="G-TEST1",
        gtm_id="GTM-TEST1",
    )
    page, outside, violations = await _page(browser)
    await page.goto(f"http://{host}/{link.slug}", wait_until="commit")
    await page.wait_for_url(f"{landing}/after-pixels", timeout=10_000)
    assert await page.title() == "landed"
    assert any(u.startswith("https://connect.facebook.net/") for u in outside)
    assert any("googletagmanager.com/gtag/js?id=G-TEST1" in u for u in outside)
    assert any("googletagmanager.com/gtm.js?id=GTM-TEST1" in u for u in outside)
    assert violations == []
    (event,) = await events_of(redis, link.id)
    assert event.outcome == "page" and event.counted
    await page.context.close()


async def test_mailto_page_opens_the_mail_client(
    browser: Browser,
    redirector: Service,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    host = f"127.0.0.1:{redirector.port}"
    link = await create_link(
        pool,
        redis,
        workspace.id,
        host=host,
        link_type="MAILTO",
        url="hello@example.com?subject=Hi%20there",
    )
    page, _, violations = await _page(browser)
    cdp = await page.context.new_cdp_session(page)
    requested: list[str] = []
    cdp.on("Page.frameRequestedNavigation", lambda e: requested.append(e["url"]))
    await cdp.send("Page.enable")
    await page.goto(f"http://{host}/{link.slug}", wait_until="commit")
    for _ in range(100):
        if requested:
            break
        await asyncio.sleep(0.05)
    assert requested == ["mailto:hello@example.com?subject=Hi%20there"]
    assert violations == []
    await page.context.close()


async def test_page_type_and_push_pages_go_on(
    browser: Browser,
    redirector: Service,
    landing: str,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    host = f"127.0.0.1:{redirector.port}"
    navigate = await create_link(
        pool, redis, workspace.id, host=host, redirect_type=200, url=f"{landing}/page-type"
    )
    page, _, violations = await _page(browser)
    await page.goto(f"http://{host}/{navigate.slug}", wait_until="commit")
    await page.wait_for_url(f"{landing}/page-type", timeout=10_000)
    # Push landing: the visitor declines and goes on.
    push = await create_link(
        pool, redis, workspace.id, host=host, push_subscribe=True, url=f"{landing}/after-push"
    )
    await page.goto(f"http://{host}/{push.slug}")
    await page.click("#skip")
    await page.wait_for_url(f"{landing}/after-push", timeout=10_000)
    assert violations == []
    await page.context.close()
