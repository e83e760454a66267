"""The edge's HTML pages: stored user content escaped (checked in the raw HTML with a
parser), a Content-Security-Policy on every page, no open redirect through any
parameter, password pages throttled, and an unlock cookie good for one link only."""

from __future__ import annotations

import html
import io
import re
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
import zxingcpp
from kurz.passwords import hash_password
from PIL import Image

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.security.edge_links import stored_link

XSS = "\"'><script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>"
PREVIEW_AGENT = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
BOT_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
EVIL = "https://evil.example/steal"


class Markup(HTMLParser):
    """Every element and attribute the browser would build from the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def injected(html: str) -> list[str]:
    """What of XSS became markup rather than text."""
    page = Markup()
    page.feed(html)
    found = [f"<{t}>" for t, attrs in page.tags if t == "svg" or attrs.get("src") == "x"]
    found += [f"{t} {a}" for t, attrs in page.tags for a in attrs if a.startswith("on")]
    found += [s for s in page.scripts if "alert(" in s]
    return found


def assert_safe_page(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html"), response.headers
    csp = response.headers.get("content-security-policy", "")
    assert "default-src" in csp and "frame-ancestors 'none'" in csp, csp
    script_src = next((d for d in csp.split(";") if d.strip().startswith("script-src")), "")
    assert "'unsafe-inline'" not in script_src
    assert not injected(response.text), injected(response.text)


PAGES: dict[str, tuple[dict[str, Any], dict[str, str], int]] = {
    # name: (stored columns, request headers, expected status)
    "preview": ({"og_title": XSS, "description": XSS, "image": "https://img.example/" + XSS,
                 "title": XSS}, {"User-Agent": PREVIEW_AGENT}, 200),
    "password": ({"title": XSS, "password_hash": hash_password("pw")}, {}, 200),
    "expired": ({"title": XSS, "expires_at": datetime.now(UTC) - timedelta(hours=1)}, {}, 410),
    "not started": ({"title": XSS, "starts_at": datetime.now(UTC) + timedelta(hours=1)}, {},
                    403),
    "frame": ({"title": XSS, "cloaked": True, "url": "https://example.com/?q=" + XSS}, {}, 200),
    "navigate": ({"redirect_type": 200, "url": "https://example.com/?q=" + XSS}, {}, 200),
    "pixels": ({"meta_pixel_id": XSS, "ga4_id": XSS, "gtm_id": XSS, "tiktok_pixel_id": XSS,
                "url": "https://example.com/?q=" + XSS}, {}, 200),
    "push": ({"push_subscribe": True, "title": XSS, "url": "https://example.com/?" + XSS}, {},
             200),
    "mailto": ({"link_type": "MAILTO", "url": "a@example.com?subject=" + XSS}, {}, 200),
    "blocked bot": ({"block_bots": True, "title": XSS}, {"User-Agent": BOT_AGENT}, 403),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PAGES))
async def test_stored_content_is_escaped_and_every_page_has_a_csp(
    edge: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace, name: str,
) -> None:  # fmt: skip
    columns, headers, status = PAGES[name]
    link = await stored_link(pool, redis, workspace.id, **columns)
    # The query is reflected by some pages (the password form's action): it is hostile too.
    response = await edge.get(f"/{link.slug}", params={"q": XSS}, headers=headers)
    assert response.status_code == status, response.text
    assert_safe_page(response)


async def test_error_pages_have_a_csp_and_reflect_nothing(edge: httpx.AsyncClient) -> None:
    for path in ("/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/a/b/c", "//evil.example"):
        response = await edge.get(path, params={"x": XSS})
        assert response.status_code == 404 and "location" not in response.headers
        assert_safe_page(response)
    response = await edge.put("/some-slug", content=XSS)
    assert response.status_code == 405
    assert_safe_page(response)


async def test_the_stats_page_escapes_the_group_name(
    http: httpx.AsyncClient, workspace: Workspace
) -> None:
    created = await http.post(
        "/api/link-group/v1/create", headers={"Authorization": f"APIKey {workspace.key}"},
        json={"nm": XSS, "nonmemberSticsPwd": "stats-pass-1"},
    )  # fmt: skip
    assert created.status_code == 200, created.text
    group = created.json()["result"]["grpIdx"]
    login = await http.get(f"/stats/g/{group}")
    assert login.status_code in (200, 401)
    assert_safe_page(login)
    opened = await http.post(f"/stats/g/{group}", data={"password": "stats-pass-1"})
    assert opened.status_code == 303
    cookie = opened.headers["set-cookie"].split(";", 1)[0]
    page = await http.get(f"/stats/g/{group}", headers={"Cookie": cookie})
    assert page.status_code == 200 and "&lt;script&gt;" in page.text
    assert_safe_page(page)


HOSTILE_PARAMS = {
    "next": EVIL, "url": EVIL, "redirect": EVIL, "return_to": "//evil.example",
    "continue": "/\\evil.example", "to": "javascript:alert(1)", "dest": EVIL,
}  # fmt: skip


def assert_not_evil(location: str | None) -> None:
    if location is None:
        return
    parts = urlsplit(location)
    assert parts.hostname in (None, "example.com", "expired.example", DEFAULT_DOMAIN), location
    assert not location.startswith(("//", "/\\")), location
    assert parts.scheme in ("", "http", "https"), location


async def test_no_parameter_redirects_anywhere_else(
    edge: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    past = datetime.now(UTC) - timedelta(hours=1)
    links = [
        await stored_link(pool, redis, workspace.id),
        await stored_link(pool, redis, workspace.id, forward_params=True),
        await stored_link(pool, redis, workspace.id, expires_at=past),
        await stored_link(pool, redis, workspace.id, expires_at=past,
                          expiry_url="https://expired.example/over"),
        await stored_link(pool, redis, workspace.id, max_clicks=0),
    ]  # fmt: skip
    for link in links:
        response = await edge.get(f"/{link.slug}", params=HOSTILE_PARAMS)
        assert response.status_code in (301, 302, 307, 308, 410), response.text
        assert_not_evil(response.headers.get("location"))
        if link.url and response.status_code == 302 and not link.expiry_url:
            assert urlsplit(response.headers["location"]).hostname == "example.com"


async def test_the_password_form_only_returns_to_its_own_link(
    edge: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    link = await stored_link(pool, redis, workspace.id, password_hash=hash_password("open-1"))
    answer = await edge.post(f"/{link.slug}", params=HOSTILE_PARAMS,
                             data={"password": "open-1"})  # fmt: skip
    assert answer.status_code == 200 and "location" not in answer.headers
    [location] = [html.unescape(to) for to in re.findall(r'data-to="([^"]*)"', answer.text)]
    assert location.startswith(f"/{link.slug}") and not location.startswith("//")
    assert_not_evil(location)
    for path in ("//evil.example", "/\\evil.example", "/%2F%2Fevil.example"):
        answer = await edge.post(path, data={"password": "open-1"})
        assert answer.status_code == 404 and "location" not in answer.headers


def qr_text(png: bytes) -> str:
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return str(found.text)


async def test_the_qr_code_always_encodes_the_link_itself(
    edge: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    link = await stored_link(pool, redis, workspace.id)
    response = await edge.get(f"/{link.slug}/qr", params={**HOSTILE_PARAMS, "size": "200"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    text = qr_text(response.content)
    parts = urlsplit(text)  # the short link itself, with the QR-scan marker at most
    assert (parts.hostname, parts.path, parts.query) in {
        (DEFAULT_DOMAIN, f"/{link.slug}", ""),
        (DEFAULT_DOMAIN, f"/{link.slug}", "qr=1"),
    }, text
    bad = await edge.get(f"/{link.slug}/qr", params={"size": XSS, "format": XSS})
    assert bad.status_code == 400 and XSS not in bad.text


async def test_wrong_passwords_are_throttled_per_visitor_address(
    edge: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    link = await stored_link(pool, redis, workspace.id, password_hash=hash_password("right-1"))
    for attempt in range(3):  # KURZ_PASSWORD_ATTEMPTS in the security redirector
        wrong = await edge.post(f"/{link.slug}", data={"password": f"guess{attempt}"},
                                headers={"User-Agent": f"agent-{attempt}"})  # fmt: skip
        assert wrong.status_code == 403
        assert_safe_page(wrong)
    # A new user agent is not a new visitor to the throttle: guesses come from one address.
    for agent in ("agent-0", "another-agent"):
        blocked = await edge.post(f"/{link.slug}", data={"password": "right-1"},
                                  headers={"User-Agent": agent})  # fmt: skip
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert "set-cookie" not in blocked.headers
        assert_safe_page(blocked)


async def test_an_unlock_cookie_opens_one_link_only(
    edge: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    first = await stored_link(pool, redis, workspace.id, password_hash=hash_password("same-1"))
    second = await stored_link(pool, redis, workspace.id, password_hash=hash_password("same-1"))
    unlocked = await edge.post(f"/{first.slug}", data={"password": "same-1"})
    assert unlocked.status_code == 200
    name, _, rest = unlocked.headers["set-cookie"].partition("=")
    value = rest.split(";", 1)[0]
    assert "HttpOnly" in unlocked.headers["set-cookie"]
    own = await edge.get(f"/{first.slug}", headers={"Cookie": f"{name}={value}"})
    assert own.status_code == 302, own.text
    for cookie in (f"{name}={value}", f"kurz_pw_{second.id}={value}"):
        replayed = await edge.get(f"/{second.slug}", headers={"Cookie": cookie})
        assert replayed.status_code == 200 and 'type="password"' in replayed.text
    forged_expiry = f"{int(time.time()) + 10**6}.{value.split('.', 1)[1]}"
    forged = await edge.get(f"/{first.slug}", headers={"Cookie": f"{name}={forged_expiry}"})
    assert forged.status_code == 200 and 'type="password"' in forged.text


async def stats_group(http: httpx.AsyncClient, ws: Workspace, password: str) -> int:
    created = await http.post(
        "/api/link-group/v1/create", headers={"Authorization": f"APIKey {ws.key}"},
        json={"nm": "stats", "nonmemberSticsPwd": password},
    )  # fmt: skip
    assert created.status_code == 200, created.text
    group: int = created.json()["result"]["grpIdx"]
    return group


async def test_the_stats_page_cookie_opens_one_group_only(
    http: httpx.AsyncClient, workspace: Workspace
) -> None:
    first = await stats_group(http, workspace, "shared-pass-1")
    second = await stats_group(http, workspace, "shared-pass-1")
    opened = await http.post(f"/stats/g/{first}", data={"password": "shared-pass-1"})
    assert opened.status_code == 303
    name, _, rest = opened.headers["set-cookie"].partition("=")
    value = rest.split(";", 1)[0]
    own = await http.get(f"/stats/g/{first}", headers={"Cookie": f"{name}={value}"})
    assert own.status_code == 200 and 'type="password"' not in own.text
    renamed = name.replace(str(first), str(second))
    for cookie in (f"{name}={value}", f"{renamed}={value}"):
        replayed = await http.get(f"/stats/g/{second}", headers={"Cookie": cookie})
        assert replayed.status_code == 200 and 'type="password"' in replayed.text


async def test_stats_page_passwords_are_throttled(
    http: httpx.AsyncClient, workspace: Workspace
) -> None:
    group = await stats_group(http, workspace, "right-pass-1")
    statuses = []
    for attempt in range(6):  # KURZ_PASSWORD_ATTEMPTS defaults to 5
        wrong = await http.post(f"/stats/g/{group}", data={"password": f"guess-{attempt}"},
                                headers={"User-Agent": f"agent-{attempt}"})  # fmt: skip
        statuses.append(wrong.status_code)
        assert_safe_page(wrong)
    assert statuses[:4] == [401] * 4 and statuses[-1] == 429, statuses
    blocked = await http.post(f"/stats/g/{group}", data={"password": "right-pass-1"})
    assert blocked.status_code == 429 and "set-cookie" not in blocked.headers
