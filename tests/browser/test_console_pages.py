"""The console's pages in Chromium, on a phone and a desktop: no script error or CSP
violation, nothing wider than the screen, every control labelled, keyboard focus
visible, and the dark theme followed; the rules builder adds rows without a round trip."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import CHROMIUM, VIEWPORTS, Visitor
from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.integration.analytics.conftest import add_link, click, record
from tests.support.console import new_user
from tests.support.services import Service, one_service, service_env

# Every control a person can reach must have a name a screen reader reads out.
_UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && !e.hidden && e.getAttribute('aria-hidden') !== 'true')
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.outerHTML.slice(0, 120))"""


# WCAG contrast of every element's own text against the background it is drawn on.
_LOW_CONTRAST = """() => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92
    : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e)
    .backgroundColor); if (c.length < 4 || c[3] > 0) return c; } return [255, 255, 255]; };
  const bad = [];
  for (const e of document.querySelectorAll('body *')) {
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !e.getClientRects().length || e.closest('.sr-only, [hidden]')) continue;
    const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(background(e))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) bad.push(e.tagName + '.' + e.className + ' ' + ratio.toFixed(2));
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def server(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    env = service_env(database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN)
    yield from one_service("management", env, tmp_root / "console-browser-logs")


async def _sign_in(visitor: Visitor, server: Service, email: str, password: str) -> None:
    page = visitor.page
    await page.goto(f"{server.url}/console/links")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_label("Password").press("Enter")  # the keyboard alone signs in
    await expect(page.get_by_role("heading", name="Links")).to_be_visible()


async def test_each_page_works_fits_and_labels_every_control(
    visitor: Visitor, server: Service, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    await _sign_in(visitor, server, *await new_user(pool, workspace.id))
    page = visitor.page
    width = VIEWPORTS[visitor.viewport]["viewport"]["width"]
    # A tagged link, so the list shows a tag's colour (an image the CSP must allow).
    tag = await pool.fetchval(
        "INSERT INTO tags (workspace_id, name, color) VALUES ($1, 'promo', '#0e9384') RETURNING id",
        workspace.id,
    )
    await page.goto(f"{server.url}/console/links/new")
    await page.get_by_label("Destination", exact=True).fill("https://example.com/tagged")
    await page.get_by_label("promo").check()
    await page.get_by_role("button", name="Create link").click()
    await page.goto(f"{server.url}/console/links?tag={tag}")
    dot = page.locator(".tag img.swatch")
    assert await dot.evaluate("img => img.complete && img.naturalWidth > 0")
    for path in ("/console/links", "/console/links/new", "/console/links/import",
                 "/console/keys", "/console/stats"):  # fmt: skip
        await page.goto(f"{server.url}{path}")
        assert await page.evaluate(_UNLABELLED) == [], path
        overflow = await page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, (path, overflow, width)
    assert visitor.problems() == []


async def test_the_rules_builder_adds_a_labelled_row_and_the_link_keeps_every_rule(
    visitor: Visitor, server: Service, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    await _sign_in(visitor, server, *await new_user(pool, workspace.id))
    page = visitor.page
    await page.goto(f"{server.url}/console/links/new")
    await page.get_by_label("Destination", exact=True).fill("https://example.com/")
    rows = [("country", "DE", "", "https://example.de/"), ("language", "fr", "", "https://example.fr/"),
            ("platform", "ios", "", "https://apps.example/"), ("rotator", "", "30", "https://b.example/"),
            ("rotator", "", "70", "https://a.example/")]  # fmt: skip
    for _ in range(len(rows) - 3):  # three empty rows are offered; the builder adds more
        await page.get_by_role("button", name="Add a rule").click()
    for number, (what, matches, share, url) in enumerate(rows, start=1):
        await page.get_by_label(f"Rule {number}: matches").select_option(what)
        await page.locator(f"#rule-matches-{number}").fill(matches)
        await page.locator(f"#rule-percentage-{number}").fill(share)
        await page.locator(f"#rule-url-{number}").fill(url)
    await page.get_by_role("button", name="Create link").click()
    await expect(page.get_by_role("status")).to_have_text("The link is created.")
    for number, (what, _, _, url) in enumerate(rows, start=1):
        await expect(page.get_by_label(f"Rule {number}: matches")).to_have_value(what)
        await expect(page.locator(f"#rule-url-{number}")).to_have_value(url)
    link_id = int(page.url.split("/")[-1].split("?")[0])
    stored = await pool.fetchval("SELECT rules FROM links WHERE id = $1", link_id)
    assert "https://apps.example/" in str(stored) and "30" in str(stored)
    assert visitor.problems() == []


async def test_a_link_statistics_page_draws_its_chart_from_its_numbers(
    visitor: Visitor, server: Service, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    link_id, _ = await add_link(pool, workspace.id, None)
    day = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT12:00:00+00:00")
    await record(pool, [click(workspace.id, link_id, None, day, f"v{n}") for n in range(3)])
    await _sign_in(visitor, server, *await new_user(pool, workspace.id))
    page = visitor.page
    await page.goto(f"{server.url}/console/links/{link_id}/stats?days=7")
    # The public page's script draws one bar per day of the numbers table.
    await expect(page.locator("#chart")).to_have_attribute("data-drawn", "7")
    tallest = await page.evaluate(
        "Math.max(...[...document.querySelectorAll('#chart rect.bar')]"
        ".map(b => Number(b.dataset.value)))"
    )
    assert tallest == 3
    await expect(page.locator("#total-clicks")).to_have_text("3")
    assert await page.evaluate(_UNLABELLED) == []
    width = VIEWPORTS[visitor.viewport]["viewport"]["width"]
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    assert visitor.problems() == []


async def test_the_dark_theme_follows_the_system_and_text_keeps_its_contrast(
    browser: Browser, server: Service, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    email, password = await new_user(pool, workspace.id)
    colours = {}
    for scheme in ("light", "dark"):
        context = await browser.new_context(color_scheme=scheme)
        page = await context.new_page()
        await page.goto(f"{server.url}/console/links/new")
        await page.get_by_label("E-mail address").fill(email)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in").click()
        for path in ("/console/links/new", "/console/links", "/console/keys"):
            await page.goto(f"{server.url}{path}")
            assert await page.evaluate(_LOW_CONTRAST) == [], (scheme, path)
        await context.clear_cookies()
        await page.goto(f"{server.url}/console/sign-in")
        colours[scheme] = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        await page.keyboard.press("Tab")  # from the e-mail field to the password, visibly
        focused = await page.evaluate(
            "[document.activeElement.id, getComputedStyle(document.activeElement).outlineStyle]"
        )
        assert focused == ["password", "solid"]
        await context.close()
    assert colours["light"] == "rgb(244, 245, 248)" and colours["dark"] == "rgb(15, 20, 32)"
