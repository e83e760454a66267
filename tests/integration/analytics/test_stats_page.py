"""The public statistics page over HTTP: password form, throttling, the cookie's scope
and flags, escaping of user-supplied text, the security headers. (Its chart is checked in
a real browser: tests/browser/test_stats_page.py.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from kurz.passwords import hash_password

from tests.integration.analytics.conftest import add_group, add_link, click, new_workspace, record

EVIL = '<script>alert("x")</script>'


async def protected_group(
    pool: asyncpg.Pool[Any], name: str = "Spring sale", password: str = "open sesame"
) -> tuple[int, int]:
    ws = await new_workspace(pool)
    group = await add_group(pool, ws.id, name, stats_password_hash=hash_password(password))
    return ws.id, group


async def login(http: httpx.AsyncClient, group: int, password: str) -> httpx.Response:
    return await http.post(f"/stats/g/{group}", data={"password": password})


async def test_form_then_dashboard_with_a_scoped_httponly_cookie(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    ws, group = await protected_group(pool)
    link, slug = await add_link(pool, ws, group, title="Launch post")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT12:00:00+00:00")
    await record(
        pool,
        [
            click(ws, link, group, yesterday, "a"),
            click(ws, link, group, yesterday, "b", country="FR"),
        ],
    )
    form = await http.get(f"/stats/g/{group}")
    assert form.status_code == 200 and 'type="password"' in form.text
    assert "Launch post" not in form.text  # nothing is shown before the password
    csp = form.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    assert form.headers["x-content-type-options"] == "nosniff"

    r = await login(http, group, "open sesame")
    assert r.status_code == 303 and r.headers["location"] == f"/stats/g/{group}"
    cookie = r.headers["set-cookie"]
    assert f"kurz_stats_{group}=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert f"Path=/stats/g/{group}" in cookie
    page = await http.get(f"/stats/g/{group}")
    assert page.status_code == 200 and "Launch post" in page.text and slug in page.text
    assert re.search(r'id="total-clicks" data-value="2"', page.text)
    assert re.search(r'id="total-visitors" data-value="2"', page.text)
    assert len(re.findall(r"<tr data-day=", page.text)) == 30
    week = await http.get(f"/stats/g/{group}", params={"days": "7"})
    assert len(re.findall(r"<tr data-day=", week.text)) == 7


async def test_the_cookie_opens_only_its_group_and_dies_with_the_password(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    _, group = await protected_group(pool)
    _, other = await protected_group(pool)
    r = await login(http, group, "open sesame")
    value = r.cookies[f"kurz_stats_{group}"]

    async def shown(group_id: int, cookie: str) -> bool:
        http.cookies.clear()  # only the cookie given here
        page = await http.get(
            f"/stats/g/{group_id}", headers={"Cookie": f"kurz_stats_{group_id}={cookie}"}
        )
        return "total-clicks" in page.text

    assert await shown(group, value)
    assert not await shown(other, value)
    assert not await shown(group, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert not await shown(group, "9999999999." + value.partition(".")[2])
    await pool.execute(
        "UPDATE link_groups SET stats_password_hash = $2 WHERE id = $1",
        group,
        hash_password("new password"),
    )
    assert not await shown(group, value)


async def test_wrong_passwords_are_refused_then_throttled(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    _, group = await protected_group(pool)
    first = await login(http, group, "guess 1")
    assert first.status_code == 401 and "Wrong password" in first.text
    assert "set-cookie" not in first.headers
    assert (await login(http, group, "guess 2")).status_code == 401
    # KURZ_PASSWORD_ATTEMPTS=3 on this server: three attempts are checked, as at the edge.
    assert (await login(http, group, "guess 3")).status_code == 401
    fourth = await login(http, group, "guess 4")
    assert fourth.status_code == 429 and "Too many" in fourth.text
    # Throttled: even the right password is refused until the window ends.
    right = await login(http, group, "open sesame")
    assert right.status_code == 429 and "set-cookie" not in right.headers
    # Another group's page is not affected.
    _, other = await protected_group(pool)
    assert (await login(http, other, "open sesame")).status_code == 303


def masked(page: str, group_id: int) -> str:
    """The page with the group's id, as a number of its own, replaced (not the 8 of
    utf-8, say)."""
    return re.sub(rf"(?<![\w.-]){group_id}(?![\w])", "ID", page)


async def test_a_missing_group_answers_like_a_protected_one(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    """Addresses are sequential: neither a group's name nor whether it exists may show
    before the password, or campaign names could be read off one by one."""
    _, group = await protected_group(pool, name="Secret campaign")
    ws = await new_workspace(pool)
    open_group = await add_group(pool, ws.id, "No password")
    real = await http.get(f"/stats/g/{group}")
    assert "Secret campaign" not in real.text
    for other in (open_group, 999999999999):
        missing = await http.get(f"/stats/g/{other}")
        assert missing.status_code == real.status_code == 200
        assert masked(missing.text, other) == masked(real.text, group)
        assert missing.headers["content-security-policy"] == real.headers["content-security-policy"]
        refused = await login(http, other, "open sesame")
        wrong = await login(http, group, "not it")
        assert refused.status_code == wrong.status_code == 401
        assert masked(refused.text, other) == masked(wrong.text, group)
    assert (await http.get("/stats/g/abc")).status_code == 200
    assert (await http.get("/stats/static/../routes.py")).status_code == 404
    css = await http.get("/stats/static/stats.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_days_and_ranges_are_honoured_and_bounded(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    ws, group = await protected_group(pool)
    link, _ = await add_link(pool, ws, group, title="Old post")
    long_ago = (datetime.now(UTC) - timedelta(days=200)).date()
    await record(pool, [click(ws, link, group, f"{long_ago.isoformat()}T12:00:00+00:00", "a")])
    await login(http, group, "open sesame")

    async def days_shown(**params: str) -> tuple[int, str]:
        page = await http.get(f"/stats/g/{group}", params=params)
        assert page.status_code == 200, page.text
        clicks = re.search(r'id="total-clicks" data-value="(\d+)"', page.text)
        assert clicks is not None
        return len(re.findall(r"<tr data-day=", page.text)), clicks.group(1)

    assert await days_shown(days="365") == (365, "1")
    assert await days_shown(days="90") == (90, "0")
    start, end = long_ago - timedelta(days=2), long_ago + timedelta(days=7)
    assert await days_shown(start=start.isoformat(), end=end.isoformat()) == (10, "1")
    later = (long_ago + timedelta(days=1)).isoformat()
    assert await days_shown(start=later, end=end.isoformat()) == (7, "0")
    for params in (
        {"days": "0"},
        {"days": "367"},
        {"days": "abc"},
        {"start": "2020-01-01", "end": "2021-06-01"},
        {"start": end.isoformat(), "end": start.isoformat()},
        {"start": "2024-02-30"},
    ):
        bad = await http.get(f"/stats/g/{group}", params=params)
        assert bad.status_code == 400 and 'id="period-error"' in bad.text, params
        assert "total-clicks" not in bad.text


async def test_user_supplied_text_is_escaped(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    ws, group = await protected_group(pool, name=EVIL)
    link, _ = await add_link(
        pool, ws, group, title='"><img src=x onerror=alert(1)>', url="https://example.com/?q=<b>"
    )
    today = datetime.now(UTC).strftime("%Y-%m-%dT00:30:00+00:00")
    await record(pool, [click(ws, link, group, today, "z", referrer="https://<i>.example/")])
    form = await http.get(f"/stats/g/{group}")
    assert EVIL not in form.text and "&lt;script&gt;" not in form.text  # not named at all
    await login(http, group, "open sesame")
    page = await http.get(f"/stats/g/{group}")
    assert "total-clicks" in page.text
    assert EVIL not in page.text and "<img" not in page.text and "<b>" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "&lt;script&gt;" in page.text


async def test_a_public_link_shows_its_own_figures_to_anyone(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    ws = await new_workspace(pool)
    link, slug = await add_link(pool, ws.id, None, title=EVIL, public_analytics=True,
                                url="https://secret.example/behind-a-password")  # fmt: skip
    other, _ = await add_link(pool, ws.id, None, public_analytics=True)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT12:00:00+00:00")
    await record(pool, [
        click(ws.id, link, None, yesterday, "a"),
        click(ws.id, link, None, yesterday, "a"),
        click(ws.id, link, None, yesterday, "b", country="FR"),
        click(ws.id, other, None, yesterday, "c"),
    ])  # fmt: skip
    page = await http.get(f"/stats/l/{link}")
    assert page.status_code == 200, page.text
    assert re.search(r'id="total-clicks" data-value="3"', page.text)
    assert re.search(r'id="total-visitors" data-value="2"', page.text)
    assert re.search(r'id="total-all-time" data-value="3"', page.text)
    assert f"/{slug}</h1>" in page.text and "&lt;script&gt;" in page.text
    assert EVIL not in page.text and "secret.example" not in page.text
    assert len(re.findall(r"<tr data-day=", page.text)) == 30
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["cache-control"] == "no-store" and "set-cookie" not in page.headers
    week = await http.get(f"/stats/l/{link}", params={"days": "7"})
    assert len(re.findall(r"<tr data-day=", week.text)) == 7
    bad = await http.get(f"/stats/l/{link}", params={"days": "0"})
    assert bad.status_code == 400 and 'id="period-error"' in bad.text
    assert (await http.head(f"/stats/l/{link}")).status_code == 200


async def test_a_link_page_is_404_unless_the_link_is_public_and_live(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    """Off, deleted, another workspace's private link, no such link: one answer, so the
    page never tells whether a link exists."""
    ws, elsewhere = await new_workspace(pool), await new_workspace(pool)
    private, _ = await add_link(pool, ws.id, None)
    deleted, _ = await add_link(pool, ws.id, None, public_analytics=True)
    theirs, _ = await add_link(pool, elsewhere.id, None)
    when = datetime.now(UTC).strftime("%Y-%m-%dT00:30:00+00:00")
    await record(pool, [click(ws.id, i, None, when, "v") for i in (private, deleted)])
    assert (await http.get(f"/stats/l/{deleted}")).status_code == 200
    await pool.execute("UPDATE links SET deleted_at = now() WHERE id = $1", deleted)
    answers = [
        await http.get(f"/stats/l/{link_id}")
        for link_id in (private, deleted, theirs, 999999999999, "abc", "0")
    ]
    first = answers[0]
    assert first.status_code == 404 and "total-clicks" not in first.text
    for answer in answers:
        assert (answer.status_code, answer.text) == (404, first.text)
        assert answer.headers["content-security-policy"] == first.headers["content-security-policy"]
    await pool.execute("UPDATE links SET public_analytics = true WHERE id = $1", private)
    assert (await http.get(f"/stats/l/{private}")).status_code == 200
