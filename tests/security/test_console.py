"""The web console's defences, through its real forms and routes: every form refused
without its CSRF token, session fixation, sign-in brute force, workspaces kept apart on
every page and form, roles, and user input escaped on every page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from kurz_management.console import routes as console_routes
from starlette.routing import Mount, Route

from tests.conftest import DEFAULT_DOMAIN, Workspace, new_workspace
from tests.support.console import create_link, csrf_of, dead_delivery, new_user, post_form, sign_in
from tests.support.inprocess import InProcessApp, management_app

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
URL_XSS = 'https://example.com/"><script>alert(1)</script>'  # a URL that is one, no spaces


@pytest.fixture(scope="module")
async def app(database_url: str, redis_url: str) -> AsyncIterator[InProcessApp]:
    async with management_app(database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN) as a:
        yield a


async def _signed_in(app: InProcessApp, email: str, password: str) -> httpx.AsyncClient:
    client = app.client()
    answer = await sign_in(client, email, password)
    assert answer.status_code == 303, answer.text
    return client


def _console_routes() -> list[tuple[str, str]]:
    """(method, path template) of every console route, from the app's own table."""
    found: list[tuple[str, str]] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                walk(route.routes, prefix + route.path)
            elif isinstance(route, Route):
                methods = sorted(set(route.methods or ()) - {"HEAD"})
                found.extend((m, prefix + route.path) for m in methods)

    walk(console_routes, "")
    return found


async def test_every_form_without_its_csrf_token_is_refused_and_changes_nothing(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    client = await _signed_in(app, *await new_user(pool, workspace.id))
    link_id = await create_link(client, title="before")
    key_id = await pool.fetchval("SELECT id FROM api_keys WHERE workspace_id = $1", workspace.id)
    ids = {"link_id": link_id, "key_id": key_id}
    posts = [path for method, path in _console_routes() if method == "POST"]
    assert {"/console/links", "/console/sign-in", "/console/keys"} <= set(posts)
    before = await _snapshot(pool, workspace.id)
    for template in posts:
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(ids.get(m.group(1), 1)), template)
        for token in (None, "forged-" + "0" * 56):
            data = {"url": "https://evil.example/", "title": "after"}
            if token:
                data["csrf"] = token
            answer = await client.post(path, data=data)
            assert answer.status_code == 403, (path, token, answer.status_code)
    assert await _snapshot(pool, workspace.id) == before
    # The same session with the page's own token is taken: the refusal was the token's.
    taken = await post_form(client, f"/console/links/{link_id}", f"/console/links/{link_id}/toggle")
    assert taken.status_code == 303


async def _snapshot(pool: asyncpg.Pool[Any], workspace_id: int) -> list[Any]:
    links = await pool.fetch(
        "SELECT id, url, title, enabled, deleted_at FROM links WHERE workspace_id = $1 ORDER BY id",
        workspace_id,
    )
    others = [
        await pool.fetch(f"SELECT * FROM {table} WHERE workspace_id = $1 ORDER BY id", workspace_id)
        for table in ("api_keys", "tags", "link_groups", "domains", "webhook_deliveries")
    ]
    return [*map(tuple, links), *(tuple(r) for rows in others for r in rows)]


async def test_a_session_cookie_planted_before_sign_in_is_worthless_after_it(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    email, password = await new_user(pool, workspace.id)
    attacker = await _signed_in(app, email, password)
    planted = attacker.cookies["kurz_console"]
    victim = app.client()
    victim.cookies.set("kurz_console", planted, domain="kurz.test", path="/console")
    assert (await sign_in(victim, email, password)).status_code == 303
    fresh = victim.cookies["kurz_console"]
    assert fresh != planted
    # The planted token was ended by the sign-in over it; the new one works.
    assert (await attacker.get("/console/links")).status_code == 303
    assert (await victim.get("/console/links")).status_code == 200
    # Signing out ends the session on the server, not only in the browser.
    await post_form(victim, "/console/links", "/console/sign-out")
    replay = app.client()
    replay.cookies.set("kurz_console", fresh, domain="kurz.test", path="/console")
    answer = await replay.get("/console/links")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/sign-in")


async def test_sign_in_is_throttled_per_account_even_for_the_right_password(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    email, password = await new_user(pool, workspace.id)
    client = app.client()
    for _ in range(5):
        assert (await sign_in(client, email, "wrong")).status_code == 401
    # From another client too: the count is the account's, not the browser's.
    throttled = await sign_in(app.client(), email, password)
    assert throttled.status_code == 429
    assert "Too many wrong passwords" in throttled.text and "kurz_console" not in throttled.cookies
    # An unknown address answers like a wrong password: it tells nothing.
    unknown = await sign_in(app.client(), "nobody-" + email, password)
    assert unknown.status_code == 401 and "Wrong e-mail address or password" in unknown.text


async def test_the_sign_in_form_is_refused_without_its_nonce_and_goes_only_to_console_pages(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    email, password = await new_user(pool, workspace.id)
    client = app.client()
    form = await client.get("/console/sign-in")
    stranger = app.client()  # has the token from the page, not the nonce cookie
    data = {"email": email, "password": password, "csrf": csrf_of(form.text)}
    assert (await stranger.post("/console/sign-in", data=data)).status_code == 403
    for target in ("https://evil.example/", "//evil.example/console/", "/console/\\evil"):
        answer = await client.post("/console/sign-in", data={**data, "next": target})
        assert answer.status_code == 303 and answer.headers["location"] == "/console/links"
        client = app.client()
        form = await client.get("/console/sign-in")
        data["csrf"] = csrf_of(form.text)


async def test_a_member_of_one_workspace_reaches_nothing_of_another(
    app: InProcessApp, pool: asyncpg.Pool[Any]
) -> None:
    mine, theirs = await new_workspace(pool), await new_workspace(pool)
    me = await _signed_in(app, *await new_user(pool, mine.id))
    them = await _signed_in(app, *await new_user(pool, theirs.id))
    their_link = await create_link(them, title="their secret title", slug="their-secret")
    their_key = await pool.fetchval("SELECT id FROM api_keys WHERE workspace_id = $1", theirs.id)
    # One of each thing a console route names by id, in their workspace.
    their_tag = await pool.fetchval(
        "INSERT INTO tags (workspace_id, name) VALUES ($1, 'their secret tag') RETURNING id",
        theirs.id,
    )
    their_group = await pool.fetchval(
        "INSERT INTO link_groups (workspace_id, name) VALUES ($1, 'their secret group')"
        " RETURNING id",
        theirs.id,
    )
    await pool.execute("INSERT INTO link_tags (link_id, tag_id) VALUES ($1, $2)", their_link,
                       their_tag)  # fmt: skip
    their_domain = await pool.fetchval(
        "INSERT INTO domains (workspace_id, host, verified) VALUES ($1, $2, false) RETURNING id",
        theirs.id,
        f"their-secret-{theirs.id}.example",
    )
    their_delivery = await dead_delivery(pool, theirs.id, their_link, "https://hooks.example/")
    before = await _snapshot(pool, theirs.id)
    page = await me.get("/console/links")
    token = csrf_of(page.text)
    for method, template in _console_routes():
        if "{" not in template:
            continue
        theirs_by_kind = {"link_id": their_link, "key_id": their_key, "tag_id": their_tag,
                          "group_id": their_group, "domain_id": their_domain,
                          "delivery_id": their_delivery}  # fmt: skip
        for value in [theirs_by_kind[name] for name in re.findall(r"\{(\w+)", template)]:
            path = re.sub(r"\{(\w+)(:\w+)?\}", str(value), template)
            data = {"csrf": token, "url": "https://evil.example/", "title": "taken",
                    "redirect_type": "302", "link_type": "URL"}  # fmt: skip
            answer = await (me.get(path) if method == "GET" else me.post(path, data=data))
            assert answer.status_code == 404, (method, path, answer.status_code)
            assert "their secret" not in answer.text
    # Their tag and group, named in a query string or a form field, reach nothing either.
    for params in ({"tag": their_tag}, {"group": their_group}):
        filtered = await me.get("/console/links", params=params)
        assert "their secret" not in filtered.text and "No links match" in filtered.text
    for field, value in (("tag_ids", their_tag), ("group_id", their_group)):
        made = await me.post("/console/links", data={
            "csrf": token, "url": "https://example.com/", "redirect_type": "302",
            "link_type": "URL", "domain": DEFAULT_DOMAIN, field: str(value),
        })  # fmt: skip
        assert made.status_code in (400, 404), (field, made.status_code)
        assert "their secret" not in made.text
    assert await pool.fetchval("SELECT count(*) FROM links WHERE workspace_id = $1", mine.id) == 0
    listing = await me.get("/console/links", params={"q": "their-secret"})
    assert f"{DEFAULT_DOMAIN}/their-secret" not in listing.text
    assert "No links match" in listing.text
    assert await _snapshot(pool, theirs.id) == before
    # Their key still works: nothing of theirs was revoked.
    assert await pool.fetchval("SELECT revoked_at FROM api_keys WHERE id = $1", their_key) is None


async def test_members_cannot_open_the_owners_pages(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    member = await _signed_in(app, *await new_user(pool, workspace.id, "member"))
    assert (await member.get("/console/keys")).status_code == 403
    page = await member.get("/console/links")
    assert "API keys" not in page.text  # not offered either
    answer = await member.post("/console/keys", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 403
    assert await pool.fetchval("SELECT count(*) FROM api_keys WHERE workspace_id = $1",
                               workspace.id) == 1  # fmt: skip


async def test_what_users_type_is_escaped_on_every_page(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    client = await _signed_in(app, *await new_user(pool, workspace.id))
    names = ("title", "note", "description", "og_title", "utm_source", "utm_campaign")
    fields = {**dict.fromkeys(names, XSS), "expiry_url": URL_XSS, "image": URL_XSS}
    link_id = await create_link(client, url=URL_XSS, **fields)
    bad_form = await post_form(client, "/console/links/new", "/console/links",
                               {"url": XSS, "slug": XSS, "redirect_type": "302",
                                "link_type": "URL"})  # fmt: skip
    assert bad_form.status_code == 400
    paths = ("/console/links", f"/console/links/{link_id}", f"/console/links?q={XSS}",
             "/console/keys")  # fmt: skip
    pages = [await client.get(path) for path in paths]
    for answer in [*pages, bad_form]:
        assert "<script>alert" not in answer.text and "<img src=x" not in answer.text, answer.url
    assert "&lt;script&gt;alert" in pages[1].text
    for answer in pages:
        assert "script-src 'self'" in answer.headers["content-security-policy"]
