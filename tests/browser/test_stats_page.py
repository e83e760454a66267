"""The public statistics page in headless Chromium (Debian's, never a downloaded one):
a wrong password is refused, the right one opens the page, and the chart drawn by the
page's own script shows exactly the clicks and visitors of each day, at desktop and phone
widths, with no Content-Security-Policy violation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from kurz.passwords import hash_password
from playwright.async_api import Browser, Page, ViewportSize

from tests.browser.conftest import CHROMIUM
from tests.conftest import DEFAULT_DOMAIN
from tests.integration.analytics.conftest import (
    IPHONE,
    add_group,
    add_link,
    click,
    new_workspace,
    record,
)
from tests.support.services import Service, one_service, service_env

pytestmark = pytest.mark.browser

PASSWORD = "correct horse"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    env = service_env(database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN)
    yield from one_service("management", env, tmp_root / "browser-logs")


def _day(days_ago: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=days_ago)


@pytest.fixture
async def group(pool: asyncpg.Pool[Any]) -> tuple[int, dict[str, tuple[int, int]]]:
    """A protected group with clicks on three recent days; returns the id and the
    expected {day: (clicks, visitors)}."""
    ws = await new_workspace(pool)
    group_id = await add_group(
        pool, ws.id, "Autumn <campaign> & friends", stats_password_hash=hash_password(PASSWORD)
    )
    first, _ = await add_link(pool, ws.id, group_id, title="Newsletter link")
    second, _ = await add_link(pool, ws.id, group_id, title="Social post")
    plan = {
        1: [("a", first), ("a", first), ("b", second), ("c", first)],
        3: [("a", second)],
        6: [("d", first), ("e", first), ("f", second), ("g", second), ("h", first)],
    }
    events = []
    for days_ago, clicks in plan.items():
        when = f"{_day(days_ago).isoformat()}T12:00:00+00:00"
        for n, (visitor, link) in enumerate(clicks):
            extra = {"user_agent": IPHONE, "country": "FR"} if visitor == "b" else {}
            events.append(
                click(
                    ws.id,
                    link,
                    group_id,
                    when.replace("12:00", f"12:{n:02d}"),
                    visitor,
                    referrer="https://social.example/post",
                    **extra,
                )
            )
    await record(pool, events)
    expected = {_day(d).isoformat(): (len(c), len({v for v, _ in c})) for d, c in plan.items()}
    return group_id, expected


async def _open(browser: Browser, viewport: ViewportSize, **options: Any) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport=viewport, **options)
    page = await context.new_page()
    problems: list[str] = []
    # The refused password's 401 is the one error status the page is expected to get.
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and "401" not in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


async def _chart(page: Page) -> dict[str, Any]:
    await page.wait_for_selector("#chart[data-drawn]")
    result: dict[str, Any] = await page.evaluate("""() => {
        const svg = document.querySelector('#chart svg');
        const bars = [...svg.querySelectorAll('rect.bar')].map(b => ({
            day: b.dataset.day, value: Number(b.dataset.value),
            height: b.getBoundingClientRect().height, attr: Number(b.getAttribute('height'))}));
        const dots = [...svg.querySelectorAll('circle.dot')].map(d => ({
            day: d.dataset.day, value: Number(d.dataset.value)}));
        return {bars, dots, max: Number(svg.dataset.max), plot: Number(svg.dataset.plotHeight),
                overflow: document.documentElement.scrollWidth - window.innerWidth};
    }""")
    return result


def _shoot_dir(tmp_root: Path) -> Path:
    target = Path(os.environ.get("KURZ_SCREENSHOTS", tmp_root / "screenshots"))
    target.mkdir(parents=True, exist_ok=True)
    return target


async def test_login_chart_and_wrong_password(
    browser: Browser,
    server: Service,
    group: tuple[int, dict[str, tuple[int, int]]],
    tmp_root: Path,
) -> None:
    group_id, expected = group
    page, problems = await _open(browser, DESKTOP)
    await page.goto(f"{server.url}/stats/g/{group_id}")
    assert await page.locator("h1").inner_text() == "Protected statistics"
    assert "campaign" not in await page.content()  # nothing of the group before the password
    await page.fill("#password", "not it")
    await page.click("button[type=submit]")
    assert "Wrong password" in await page.locator("#login-error").inner_text()
    assert await page.locator("#chart").count() == 0
    assert not await page.context.cookies()

    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    chart = await _chart(page)
    assert len(chart["bars"]) == 30 and len(chart["dots"]) == 30
    drawn = {b["day"]: b["value"] for b in chart["bars"] if b["value"]}
    assert drawn == {day: clicks for day, (clicks, _) in expected.items()}
    dots = {d["day"]: d["value"] for d in chart["dots"] if d["value"]}
    assert dots == {day: visitors for day, (_, visitors) in expected.items()}
    for bar in chart["bars"]:  # bar heights are to scale
        assert bar["attr"] == pytest.approx(bar["value"] * chart["plot"] / chart["max"], abs=0.01)
    tallest = max(chart["bars"], key=lambda b: b["value"])
    assert tallest["height"] > 50
    assert await page.locator("#group-name").inner_text() == "Autumn <campaign> & friends"
    assert await page.locator("#total-clicks").inner_text() == "10"
    assert await page.locator("#total-visitors").inner_text() == "9"
    assert await page.locator("#links tbody tr").count() == 2
    assert await page.locator("#countries li").first.get_attribute("data-value") == "DE"
    assert await page.locator("#devices li").count() == 2
    cookie = (await page.context.cookies())[0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == f"/stats/g/{group_id}"
    assert chart["overflow"] <= 0
    shots = _shoot_dir(tmp_root)
    await page.screenshot(path=str(shots / "stats-desktop.png"), full_page=True)
    assert problems == []  # no script error, no Content-Security-Policy violation

    phone, phone_problems = await _open(
        browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    await phone.goto(f"{server.url}/stats/g/{group_id}")
    await phone.screenshot(path=str(shots / "stats-phone-login.png"))
    await phone.fill("#password", PASSWORD)
    await phone.click("button[type=submit]")
    small = await _chart(phone)
    assert {b["day"]: b["value"] for b in small["bars"] if b["value"]} == drawn
    assert small["overflow"] <= 0, "the page scrolls sideways on a phone"
    await phone.screenshot(path=str(shots / "stats-phone.png"), full_page=True)
    assert phone_problems == []

    dark, dark_problems = await _open(browser, DESKTOP, color_scheme="dark")
    await dark.goto(f"{server.url}/stats/g/{group_id}")
    await dark.fill("#password", PASSWORD)
    await dark.click("button[type=submit]")
    assert len((await _chart(dark))["bars"]) == 30
    await dark.screenshot(path=str(shots / "stats-dark.png"), full_page=True)
    assert dark_problems == []


async def test_a_year_and_a_chosen_range(
    browser: Browser, server: Service, group: tuple[int, dict[str, tuple[int, int]]]
) -> None:
    group_id, expected = group
    page, problems = await _open(browser, DESKTOP)
    await page.goto(f"{server.url}/stats/g/{group_id}")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.click("text=365 days")
    year = await _chart(page)
    assert len(year["bars"]) == 365
    assert {b["day"]: b["value"] for b in year["bars"] if b["value"]} == {
        day: clicks for day, (clicks, _) in expected.items()
    }
    assert await page.locator('.ranges a[aria-current="page"]').inner_text() == "365 days"

    await page.fill("input[name=start]", _day(6).isoformat())
    await page.fill("input[name=end]", _day(3).isoformat())
    await page.click(".range button")
    chosen = await _chart(page)
    assert [b["day"] for b in chosen["bars"]] == [_day(d).isoformat() for d in (6, 5, 4, 3)]
    assert await page.locator("#total-clicks").inner_text() == "6"
    assert await page.locator('.ranges a[aria-current="page"]').count() == 0
    assert problems == []


# Every Content-Security-Policy violation reaches the test, however Chromium words it.
_CSP_LISTENER = (
    "document.addEventListener('securitypolicyviolation',function(e){"
    "window.__kurzCsp(e.violatedDirective+' blocked '+e.blockedURI)});"
)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
async def test_a_public_link_page_at_phone_and_desktop_sizes(
    browser: Browser, server: Service, pool: asyncpg.Pool[Any], tmp_root: Path, viewport: str
) -> None:
    """No password: the link's own figures, drawn by the page's script, fitting the
    screen, with no script error, console error or policy violation."""
    ws = await new_workspace(pool)
    link, slug = await add_link(pool, ws.id, None, title="Launch <post>", public_analytics=True)
    other, _ = await add_link(pool, ws.id, None, public_analytics=True)
    plan = {1: ["a", "a", "b"], 4: ["c"]}
    events = [
        click(ws.id, link, None, f"{_day(days_ago).isoformat()}T12:{n:02d}:00+00:00", visitor)
        for days_ago, visitors in plan.items()
        for n, visitor in enumerate(visitors)
    ]
    events.append(click(ws.id, other, None, f"{_day(1).isoformat()}T13:00:00+00:00", "z"))
    await record(pool, events)
    size = DESKTOP if viewport == "desktop" else PHONE
    options: dict[str, Any] = (
        {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
        if viewport == "phone"
        else {}
    )
    page, problems = await _open(browser, size, **options)
    await page.context.expose_binding("__kurzCsp", lambda _source, text: problems.append(text))
    await page.context.add_init_script(_CSP_LISTENER)
    response = await page.goto(f"{server.url}/stats/l/{link}")
    assert response is not None and response.status == 200
    chart = await _chart(page)
    assert len(chart["bars"]) == 30
    assert {b["day"]: b["value"] for b in chart["bars"] if b["value"]} == {
        _day(1).isoformat(): 3, _day(4).isoformat(): 1,
    }  # fmt: skip
    assert await page.locator("#link-name").inner_text() == f"http://{DEFAULT_DOMAIN}/{slug}"
    assert await page.locator("#link-title").inner_text() == "Launch <post>"
    assert await page.locator("#total-clicks").inner_text() == "4"
    assert await page.locator("#total-visitors").inner_text() == "3"
    assert chart["overflow"] <= 0, "the page scrolls sideways"
    await page.click("text=7 days")
    assert len((await _chart(page))["bars"]) == 7
    await page.screenshot(path=str(_shoot_dir(tmp_root) / f"stats-link-{viewport}.png"),
                          full_page=True)  # fmt: skip
    assert not await page.context.cookies()
    assert problems == []
    await page.context.close()
