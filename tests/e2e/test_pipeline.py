"""The whole pipeline over real HTTP and real processes: a link created through the API
redirects at the edge, and the click shows up in the link's statistics."""

from __future__ import annotations

import asyncio

import httpx
import redis.asyncio as aioredis
from kurz.events import entry_events

from tests.conftest import Workspace
from tests.support.services import Stack
from tests.support.streams import stream_entries
from tests.support.waiting import wait_for


async def test_created_link_redirects_and_counts(
    stack: Stack, workspace: Workspace, redis: aioredis.Redis
) -> None:
    api = stack["management"].url
    with httpx.Client(base_url=api, headers=workspace.bearer, timeout=10) as client:
        created = client.post(
            "/api/v1/links",
            json={
                "url": "https://example.com/pricing?plan=pro",
                "title": "Pricing",
                "utmSource": "newsletter",
            },
        )
        assert created.status_code == 201, created.text
        link = created.json()["link"]
        # Answered with its UTM parameters: where a plain visit goes.
        assert link["url"] == "https://example.com/pricing?plan=pro&utm_source=newsletter"
        short_url = link["shortUrl"]
        assert short_url.startswith(stack["redirector"].url + "/")

        visit = httpx.get(
            short_url,
            follow_redirects=False,
            headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"},
        )
        assert visit.status_code == 302
        location = visit.headers["location"]
        assert location.startswith("https://example.com/pricing?")
        assert location == link["url"]

        # The click event was durable in the stream before the response.
        entries = await stream_entries(redis, "clicks")
        events = [e for _, fields in entries for e in entry_events(fields).events]
        assert any(e.link_id == int(link["id"]) and e.counted for e in events)

        def clicks() -> int:
            return int(client.get(f"/api/v1/links/{link['id']}").json()["link"]["clicks"])

        await wait_for(lambda: clicks() == 1, 15, "the click is counted")

        # A second visit by a bot is recorded but not counted.
        bot = httpx.get(short_url, follow_redirects=False, headers={"User-Agent": "Googlebot/2.1"})
        assert bot.status_code == 302
        await asyncio.sleep(1.0)  # give the aggregator time to (wrongly) count it
        assert clicks() == 1


async def test_unknown_slug_is_404_page(stack: Stack) -> None:
    answer = httpx.get(stack["redirector"].url + "/no-such-link-here")
    assert answer.status_code == 404
    assert "text/html" in answer.headers["content-type"]
