"""/docs in headless Chromium: Swagger UI, served by kurz itself, renders the OpenAPI
document, and its "Try it out" creates a link with an API key, against the same server,
with no Content-Security-Policy violation and no request to anywhere else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser

from tests.browser.conftest import CHROMIUM
from tests.conftest import DEFAULT_DOMAIN, new_workspace
from tests.support.services import Service, one_service, service_env

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    env = service_env(database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN)
    yield from one_service("management", env, tmp_root / "docs-browser-logs")


async def test_try_it_out_creates_a_link_with_an_api_key(
    browser: Browser, server: Service, pool: asyncpg.Pool[Any]
) -> None:
    ws = await new_workspace(pool, "swagger")
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"{m.text} {m.location}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda r: elsewhere.append(r.url) if not r.url.startswith(server.url) else None,
    )

    await page.goto(f"{server.url}/docs")
    await page.wait_for_selector(".opblock-tag-section")
    await page.click("button.authorize")
    await page.fill("#auth-bearer-value", ws.key)
    bearer = page.locator("form").filter(has=page.locator("#auth-bearer-value"))
    await bearer.locator("button.authorize").click()
    await page.click("button.btn-done")

    operation = page.locator("#operations-native-native_post_api_v1_links")
    await operation.locator(".opblock-summary").click()
    await operation.locator("button.try-out__btn").click()
    body = {"url": "https://example.com/from-docs", "customSlug": "from-swagger-ui"}
    await operation.locator("textarea.body-param__text").fill(json.dumps(body))
    async with page.expect_response(lambda r: r.url.endswith("/api/v1/links")) as answer:
        await operation.locator("button.execute").click()
    response = await answer.value
    assert response.status == 201, await response.text()
    assert response.request.headers["authorization"] == f"Bearer {ws.key}"
    await operation.locator(".live-responses-table .response-col_status").first.wait_for()
    shown = await operation.locator(".live-responses-table").inner_text()
    assert "201" in shown and "from-swagger-ui" in shown

    row = await pool.fetchrow(
        "SELECT url FROM links WHERE workspace_id = $1 AND slug = 'from-swagger-ui'", ws.id
    )
    assert row is not None and row["url"] == "https://example.com/from-docs"
    assert elsewhere == []
    assert problems == [], problems  # no script error, no Content-Security-Policy violation
