"""Web push end to end, in Chromium, with a local push service in place of FCM or
Mozilla's. The only thing stubbed is PushManager.prototype.subscribe: it answers a
subscription whose endpoint is the local service and whose keys this test made, and
reports the applicationServerKey the page passed. Everything else is real: the push
page's own script and service worker, kurz's edge, stream, worker and API, and the
service checking the VAPID token against that key and decrypting with the test's key."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz import push
from kurz.passwords import hash_password
from playwright.async_api import Browser, BrowserContext, Page

from tests.browser.conftest import CHROMIUM, VIEWPORTS
from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.integration.redirector.conftest import create_link, insert_group
from tests.support.push_service import VAPID_PUBLIC, PushService, push_service
from tests.support.push_service import Browser as PushBrowser
from tests.support.services import Service, one_service, service_env

pytestmark = pytest.mark.browser
Burst = Callable[..., Awaitable[tuple[int, int]]]
PASSWORD = "milestones please"
CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)

# Stands in for the browser's push service: the subscription it answers carries the
# local endpoint and the test's keys; the key the page asked with goes to the test.
_STUB = """
(() => {
  if (!('PushManager' in window)) return;
  const sub = %s;
  PushManager.prototype.subscribe = function (options) {
    const bytes = new Uint8Array(options.applicationServerKey);
    let s = ''; for (const b of bytes) s += String.fromCharCode(b);
    const key = btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
    return Promise.resolve(window.__kurzSubscribed(key, options.userVisibleOnly))
      .then(() => ({endpoint: sub.endpoint, options, toJSON: () => sub}));
  };
})();
"""


@pytest.fixture(scope="module")
def management(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    env = service_env(database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN)
    yield from one_service("management", env, tmp_root / "push-browser-logs")


@pytest.fixture
def pushes() -> Iterator[PushService]:
    with push_service() as service:
        yield service


async def _context(
    browser: Browser, subscription: dict[str, Any], viewport: str
) -> tuple[BrowserContext, Page, list[tuple[str, bool]], list[str]]:
    context = await browser.new_context(**VIEWPORTS[viewport])
    asked: list[tuple[str, bool]] = []
    problems: list[str] = []
    await context.expose_binding(
        "__kurzSubscribed", lambda _source, key, visible: asked.append((key, visible))
    )
    await context.add_init_script(_STUB % json.dumps(subscription))
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, asked, problems


async def _send(api: Service, workspace: Workspace, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=api.url, headers=workspace.bearer) as http:
        answer = await http.post("/api/v1/push/messages", json=body)
    assert answer.status_code == 202, answer.text
    result: dict[str, Any] = answer.json()
    return result


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_push_link_subscribes_and_a_message_arrives_decrypted(
    browser: Browser, redirector: Service, management: Service, landing: str,
    pushes: PushService, burst: Burst, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace, viewport: str,
) -> None:  # fmt: skip
    host = f"127.0.0.1:{redirector.port}"
    link = await create_link(pool, redis, workspace.id, host=host, url=f"{landing}/after-push",
                             push_subscribe=True)  # fmt: skip
    visitor = PushBrowser()
    endpoint = pushes.endpoint(f"visitor-{viewport}", visitor)
    context, page, asked, problems = await _context(
        browser, visitor.subscription(endpoint), viewport
    )
    await page.goto(f"http://{host}/{link.slug}")
    assert await page.title() == "Notifications"
    # The visitor says yes to the browser's prompt, then to the page's button.
    await context.grant_permissions(["notifications"], origin=f"http://{host}")
    await page.click("#allow")
    await page.wait_for_url(f"{landing}/after-push", timeout=15_000)
    await context.close()
    assert asked == [(VAPID_PUBLIC, True)]  # the server's key, userVisibleOnly
    assert problems == []

    await burst()
    stored = await pool.fetchrow(
        "SELECT audience, endpoint, p256dh FROM push_subscriptions WHERE link_id = $1", link.id
    )
    assert stored is not None
    assert dict(stored) == {"audience": "visitor", "endpoint": endpoint, "p256dh": visitor.p256dh}

    sent = {"title": "Doors open at 9", "body": "See you there", "url": f"{landing}/event"}
    answer = await _send(management, workspace, {"linkId": link.id, **sent})
    assert answer["subscriptions"] == 1
    await burst()
    assert pushes.refused == []
    [got] = pushes.received
    assert got.vapid_key == asked[0][0]  # verified against the key the page subscribed with
    assert {k: got.message[k] for k in sent} == sent


async def test_owner_notify_me_then_a_click_milestone_arrives(
    browser: Browser, redirector: Service, management: Service, pushes: PushService,
    burst: Burst, pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    group_id = await insert_group(
        pool, workspace.id, name="Spring launch", push_notify=True,
        stats_password_hash=hash_password(PASSWORD),
    )  # fmt: skip
    host = f"127.0.0.1:{redirector.port}"
    link = await create_link(pool, redis, workspace.id, host=host, group_id=group_id)
    owner = PushBrowser()
    endpoint = pushes.endpoint("owner", owner)
    context, page, asked, problems = await _context(
        browser, owner.subscription(endpoint), "desktop"
    )
    await page.goto(f"{management.url}/stats/g/{group_id}")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#group-name")
    await context.grant_permissions(["notifications"], origin=management.url)
    await page.click("#allow")
    status = page.locator("#push-status")
    await status.filter(has_text="Notifications are on").wait_for(timeout=15_000)
    await context.close()
    assert asked == [(VAPID_PUBLIC, True)]
    assert problems == []
    await burst()
    stored = await pool.fetchval(
        "SELECT audience FROM push_subscriptions WHERE group_id = $1 AND endpoint = $2",
        group_id, endpoint,
    )  # fmt: skip
    assert stored == "owner"

    # 100 counted clicks: the group's first milestone.
    visits = {"host": host, "user-agent": CHROME_UA}
    async with httpx.AsyncClient(base_url=redirector.url, headers=visits) as edge:
        for _ in range(100):
            assert (await edge.get(f"/{link.slug}")).status_code == 302
    await burst()
    assert pushes.refused == []
    [got] = pushes.received
    assert got.vapid_key == VAPID_PUBLIC
    assert got.message["title"] == "\u201cSpring launch\u201d reached 100 clicks"
    assert "100 counted clicks" in got.message["body"]


async def test_the_service_worker_shows_what_is_pushed(
    browser: Browser, redirector: Service, landing: str, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    """A real push event (DevTools delivers it as a push service would, to kurz's worker)
    becomes a notification with the message's title, body and URL."""
    host = f"127.0.0.1:{redirector.port}"
    link = await create_link(pool, redis, workspace.id, host=host, url=f"{landing}/on",
                             push_subscribe=True)  # fmt: skip
    visitor = PushBrowser()
    context, page, _, problems = await _context(
        browser, visitor.subscription("https://push.example/sw"), "desktop"
    )
    await context.grant_permissions(["notifications"], origin=f"http://{host}")
    devtools = await context.new_cdp_session(page)
    registrations: dict[str, str] = {}
    devtools.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.update(
            {r["scopeURL"]: r["registrationId"] for r in event["registrations"]}
        ),
    )
    await devtools.send("ServiceWorker.enable")
    await page.goto(f"http://{host}/{link.slug}")  # allowed already: subscribes, goes on
    await page.wait_for_url(f"{landing}/on", timeout=15_000)
    scope = f"http://{host}{push.SERVICE_WORKER_SCOPE}"
    assert scope in registrations
    message = {"title": "Doors open", "body": "At nine", "url": f"{landing}/event", "id": 7}
    await devtools.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": f"http://{host}", "registrationId": registrations[scope],
         "data": json.dumps(message)},
    )  # fmt: skip
    [worker] = [w for w in context.service_workers if w.url.startswith(f"http://{host}/")]
    shown = await worker.evaluate(
        """async () => {
            for (let i = 0; i < 50; i++) {
                const found = await self.registration.getNotifications();
                if (found.length) return found.map(n => ({title: n.title, body: n.body,
                                                           url: n.data.url, tag: n.tag}));
                await new Promise(r => setTimeout(r, 100));
            }
            return [];
        }"""
    )
    await context.close()
    assert shown == [{"title": "Doors open", "body": "At nine", "url": f"{landing}/event",
                      "tag": "7"}]  # fmt: skip
    assert problems == []
