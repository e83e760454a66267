"""Every page the edge serves, driven in Chromium at a phone's and a desktop's viewport,
with destinations on another origin than the edge: each does what it promises, and a
visitor meets no console error, script error or Content-Security-Policy violation."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz.passwords import hash_password

from tests.browser.conftest import Visitor
from tests.conftest import Workspace
from tests.integration.redirector.conftest import create_link, events_of
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
    await page.fill("input[name=password]", "open sesame")
    await page.click("button")
    await page.wait_for_url(f"{landing}/secret", timeout=10_000)
    assert await page.title() == "landed"
    assert visitor.problems(403) == []
    outcomes = [e.outcome for e in await events_of(redis, link.id)]
    assert outcomes == ["password", "redirect"]
