"""The console's tags, groups, domains and webhooks pages through their real forms:
what each form changes is read back through the APIs or the database, refusals
re-render the form with the message next to the field, and every page keeps
workspaces, roles and CSRF apart and escapes what users typed."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import DEFAULT_DOMAIN, Workspace, new_workspace
from tests.support.console import csrf_of, dead_delivery, new_user, post_form, sign_in
from tests.support.inprocess import InProcessApp, management_app

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
async def app(database_url: str, redis_url: str) -> AsyncIterator[InProcessApp]:
    async with management_app(database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN) as a:
        yield a


async def _signed_in(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace_id: int, role: str = "owner"
) -> httpx.AsyncClient:
    email, password = await new_user(pool, workspace_id, role)  # type: ignore[arg-type]
    client = app.client()
    answer = await sign_in(client, email, password)
    assert answer.status_code == 303, answer.text
    return client


async def _tag(client: httpx.AsyncClient, name: str, color: str | None = None) -> int:
    data = {"name": name, **({"color": color, "has_color": "on"} if color else {})}
    made = await post_form(client, "/console/tags", "/console/tags", data)
    assert made.status_code == 303, made.text
    page = await client.get("/console/tags")
    found = re.search(
        r'id="tag-name-(\d+)" name="name" value="' + re.escape(_escaped(name)), page.text
    )
    assert found, page.text
    return int(found.group(1))


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def _group(client: httpx.AsyncClient, **fields: str) -> int:
    data = {"webhook_metric": "C", "webhook_frequency": "1", "webhook_format": "standard",
            **fields}  # fmt: skip
    made = await post_form(client, "/console/groups/new", "/console/groups", data)
    if made.status_code == 201:  # a new webhook secret is shown on the group's own form
        found = re.search(r'action="/console/groups/(\d+)"', made.text)
        assert found
        return int(found.group(1))
    assert made.status_code == 303, made.text
    return int(made.headers["location"].split("/")[3].split("?")[0])


def _api(app: InProcessApp, workspace: Workspace) -> httpx.AsyncClient:
    return app.client(workspace.bearer)


async def _vivoldi_group(app: InProcessApp, workspace: Workspace, group_id: int) -> Any:
    client = app.client({"Authorization": f"APIKey {workspace.key}"})
    answer = await client.get("/api/link-group/v1/list", params={"grpIdx": group_id})
    assert answer.status_code == 200, answer.text
    (group,) = answer.json()["result"]
    return group


async def test_tags_are_created_renamed_recoloured_and_deleted(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    client = await _signed_in(app, pool, workspace.id)
    tag_id = await _tag(client, "summer", "#AA3300")
    api = _api(app, workspace)
    assert (await api.get("/api/v1/tags")).json()["tags"] == [
        {"id": str(tag_id), "name": "summer", "color": "#aa3300"}
    ]
    # A refused name re-renders the form with what was typed and the reason beside it.
    empty = await post_form(client, "/console/tags", "/console/tags", {"name": "  "})
    assert empty.status_code == 400 and 'id="name-error"' in empty.text
    twice = await post_form(client, "/console/tags", "/console/tags", {"name": "summer"})
    assert twice.status_code == 409 and "exists" in twice.text
    assert 'name="name" value="summer"' in twice.text
    # The list counts the live links that carry the tag.
    link = {"url": "https://example.com/", "redirect_type": "302", "link_type": "URL",
            "domain": DEFAULT_DOMAIN, "tag_ids": str(tag_id)}  # fmt: skip
    assert (
        await post_form(client, "/console/links/new", "/console/links", link)
    ).status_code == 303
    listed = await client.get("/console/tags")
    assert f'<a href="/console/links?tag={tag_id}">1</a>' in listed.text

    change = {"name": "autumn", "color": "#112233", "has_color": "on"}
    renamed = await post_form(client, "/console/tags", f"/console/tags/{tag_id}", change)
    assert renamed.status_code == 303
    assert (await api.get("/api/v1/tags")).json()["tags"] == [
        {"id": str(tag_id), "name": "autumn", "color": "#112233"}
    ]
    uncoloured = await post_form(client, "/console/tags", f"/console/tags/{tag_id}",
                                 {"name": "autumn", "color": "#112233"})  # fmt: skip
    assert uncoloured.status_code == 303
    assert (await api.get("/api/v1/tags")).json()["tags"][0]["color"] is None
    # A rename onto another tag's name is refused in that tag's row, nothing changed.
    other = await _tag(client, "winter")
    clash = await post_form(client, "/console/tags", f"/console/tags/{other}", {"name": "autumn"})
    assert clash.status_code == 409
    assert f'id="tag-{other}-name-error"' in clash.text
    assert {t["name"] for t in (await api.get("/api/v1/tags")).json()["tags"]} == {
        "autumn", "winter"
    }  # fmt: skip

    deleted = await post_form(client, "/console/tags", f"/console/tags/{tag_id}/delete")
    assert deleted.status_code == 303
    assert [t["id"] for t in (await api.get("/api/v1/tags")).json()["tags"]] == [str(other)]


async def test_a_group_is_created_edited_with_every_setting_and_deleted(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    client = await _signed_in(app, pool, workspace.id)
    group_id = await _group(client, name="Spring sale", memo="ads", max_clicks="500",
                            password="open sesame", qr_bypass="on")  # fmt: skip
    seen = await _vivoldi_group(app, workspace, group_id)
    assert (seen["nm"], seen["memo"], seen["qrBypassYn"]) == ("Spring sale", "ads", "Y")
    row = await pool.fetchrow("SELECT * FROM link_groups WHERE id = $1", group_id)
    assert row["max_clicks"] == 500 and row["password_hash"] is not None

    page = await client.get(f"/console/groups/{group_id}")
    assert page.status_code == 200 and 'value="Spring sale"' in page.text
    assert "The group has a password" in page.text
    # Extra attributes reach the input as attributes, not as escaped text.
    assert 'inputmode="numeric"' in page.text and 'maxlength="200"' in page.text

    # An end before the start: refused beside the field, everything typed kept.
    settings = {"name": "Spring sale", "memo": "changed memo", "starts_at": "2030-05-02T10:00",
                "ends_at": "2030-05-01T10:00", "webhook_metric": "P",
                "webhook_frequency": "100", "webhook_format": "standard",
                "expire_url": "https://example.com/over", "block_overseas_stats": "on",
                "push_subscribe": "on", "stats_password": "stats!"}  # fmt: skip
    refused = await post_form(client, f"/console/groups/{group_id}",
                              f"/console/groups/{group_id}", settings)  # fmt: skip
    assert refused.status_code == 400
    assert 'id="ends_at-error"' in refused.text and "later than the start" in refused.text
    assert "changed memo" in refused.text and 'value="https://example.com/over"' in refused.text
    assert (await pool.fetchval("SELECT memo FROM link_groups WHERE id = $1", group_id)) == "ads"

    settings["ends_at"] = "2030-06-01T10:00"
    saved = await post_form(client, f"/console/groups/{group_id}", f"/console/groups/{group_id}",
                            settings)  # fmt: skip
    assert saved.status_code == 303, saved.text
    seen = await _vivoldi_group(app, workspace, group_id)
    assert seen["memo"] == "changed memo" and seen["blockOverseasSticsYn"] == "Y"
    assert seen["notfSubscYn"] == "Y" and seen["qrBypassYn"] == "N"  # unticked: off
    assert (seen["webhookMetric"], seen["webhookFrequency"]) == ("P", 100)
    row = await pool.fetchrow("SELECT * FROM link_groups WHERE id = $1", group_id)
    assert row["expire_url"] == "https://example.com/over" and row["max_clicks"] is None
    assert row["stats_password_hash"] is not None
    assert row["password_hash"] is not None  # an empty password field keeps it
    assert row["starts_at"].isoformat() == "2030-05-02T10:00:00+00:00"

    # Switching the webhook on shows its new secret in that answer, once.
    hook = {**settings, "webhook_enabled": "on", "webhook_url": "https://hooks.example/g",
            "remove_password": "on"}  # fmt: skip
    with_secret = await post_form(client, f"/console/groups/{group_id}",
                                  f"/console/groups/{group_id}", hook)  # fmt: skip
    assert with_secret.status_code == 200
    secret = await pool.fetchval("SELECT webhook_secret FROM link_groups WHERE id = $1", group_id)
    assert secret and secret in with_secret.text
    assert secret not in (await client.get(f"/console/groups/{group_id}")).text
    assert (await _vivoldi_group(app, workspace, group_id))["webhookEnableYn"] == "Y"
    assert await pool.fetchval("SELECT password_hash FROM link_groups WHERE id = $1",
                               group_id) is None  # fmt: skip

    listed = await client.get("/console/groups")
    assert f'href="/console/groups/{group_id}">Spring sale</a>' in listed.text
    deleted = await post_form(client, f"/console/groups/{group_id}",
                              f"/console/groups/{group_id}/delete")  # fmt: skip
    assert deleted.status_code == 303
    assert await pool.fetchval("SELECT count(*) FROM link_groups WHERE id = $1", group_id) == 0


async def test_a_bad_new_group_keeps_what_was_typed(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    client = await _signed_in(app, pool, workspace.id)
    data = {"name": "", "memo": "keep me", "max_clicks": "many", "webhook_metric": "C",
            "webhook_frequency": "1", "webhook_format": "standard"}  # fmt: skip
    answer = await post_form(client, "/console/groups/new", "/console/groups", data)
    assert answer.status_code == 400
    assert 'id="name-error"' in answer.text and 'id="max_clicks-error"' in answer.text
    assert "keep me" in answer.text and 'value="many"' in answer.text
    count = "SELECT count(*) FROM link_groups WHERE workspace_id = $1"
    assert await pool.fetchval(count, workspace.id) == 0


async def test_a_domain_is_added_fails_verification_and_is_removed(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    client = await _signed_in(app, pool, workspace.id)
    host = f"go-{uuid.uuid4().hex[:10]}.example.com"
    added = await post_form(client, "/console/domains", "/console/domains", {"host": host})
    assert added.status_code == 303
    row = await pool.fetchrow("SELECT * FROM domains WHERE host = $1", host)
    assert row["workspace_id"] == workspace.id and not row["verified"]
    page = await client.get("/console/domains")
    assert f"_kurz-verify.{host}" in page.text and row["verify_token"] in page.text
    assert "not verified" in page.text

    bad = await post_form(client, "/console/domains", "/console/domains", {"host": "not a host"})
    assert bad.status_code == 400 and 'id="host-error"' in bad.text
    assert 'value="not a host"' in bad.text
    taken = await post_form(client, "/console/domains", "/console/domains", {"host": host})
    assert taken.status_code == 409 and "already registered" in taken.text

    # No TXT record exists for the host: the check fails and says what to add.
    checked = await post_form(client, "/console/domains", f"/console/domains/{row['id']}/verify")
    assert checked.status_code == 400
    assert f"No TXT record _kurz-verify.{host}" in checked.text
    assert not await pool.fetchval("SELECT verified FROM domains WHERE id = $1", row["id"])

    # Verified (as DNS would prove it), a link takes it; then it cannot go while the link
    # lives, and says so beside the domain.
    await pool.execute("UPDATE domains SET verified = true WHERE id = $1", row["id"])
    page = await client.get("/console/domains")
    assert (
        "not verified" not in page.text and f"/console/domains/{row['id']}/verify" not in page.text
    )
    link = {"url": "https://example.com/", "redirect_type": "302", "link_type": "URL",
            "domain": host}  # fmt: skip
    made = await post_form(client, "/console/links/new", "/console/links", link)
    assert made.status_code == 303, made.text
    link_id = int(made.headers["location"].split("/")[3].split("?")[0])
    used = await post_form(client, "/console/domains", f"/console/domains/{row['id']}/delete")
    assert used.status_code == 409 and "still has 1 link(s)" in used.text
    assert await pool.fetchval("SELECT count(*) FROM domains WHERE host = $1", host) == 1
    gone = await post_form(client, f"/console/links/{link_id}", f"/console/links/{link_id}/delete")
    assert gone.status_code == 303

    removed = await post_form(client, "/console/domains", f"/console/domains/{row['id']}/delete")
    assert removed.status_code == 303
    assert await pool.fetchval("SELECT count(*) FROM domains WHERE host = $1", host) == 0


async def test_webhook_endpoints_and_a_failed_delivery_are_listed_and_it_is_sent_again(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    client = await _signed_in(app, pool, workspace.id)
    url = f"https://hooks.example/{uuid.uuid4().hex[:8]}"
    link = {"url": "https://example.com/", "redirect_type": "302", "link_type": "URL",
            "domain": DEFAULT_DOMAIN, "slug": "hooked", "webhook_urls": url}  # fmt: skip
    made = await post_form(client, "/console/links/new", "/console/links", link)
    assert made.status_code == 303, made.text
    link_id = int(made.headers["location"].split("/")[3].split("?")[0])
    await _group(client, name="Hooked group", webhook_enabled="on",
                 webhook_url="https://hooks.example/group")  # fmt: skip
    delivery = await dead_delivery(pool, workspace.id, link_id, url)

    page = await client.get("/console/webhooks")
    assert page.status_code == 200
    assert f"{DEFAULT_DOMAIN}/hooked" in page.text and "Hooked group" in page.text
    assert "https://hooks.example/group" in page.text
    action = f"/console/webhooks/deliveries/{delivery}/replay"
    assert f'action="{action}"' in page.text and "HTTP 500" in page.text
    succeeded = await client.get("/console/webhooks", params={"status": "succeeded"})
    assert action not in succeeded.text

    # A URL disabled for failing takes no replay until it is enabled again.
    await pool.execute(
        """UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = 'kept failing'
           WHERE workspace_id = $1 AND url = $2""",
        workspace.id, url,
    )  # fmt: skip
    page = await client.get("/console/webhooks")
    assert "kept failing" in page.text and f'name="url" value="{url}"' in page.text
    refused = await client.post(action, data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 409 and "enable it first" in refused.text
    enabled = await client.post("/console/webhooks/enable",
                                data={"csrf": csrf_of(page.text), "url": url})  # fmt: skip
    assert enabled.status_code == 303
    again = await client.post("/console/webhooks/enable",
                              data={"csrf": csrf_of(page.text), "url": url})  # fmt: skip
    assert again.status_code == 404  # no longer disabled

    replayed = await client.post(action, data={"csrf": csrf_of(page.text)})
    assert replayed.status_code == 303
    row = await pool.fetchrow("SELECT status, attempts FROM webhook_deliveries WHERE id = $1",
                              delivery)  # fmt: skip
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert action not in (await client.get("/console/webhooks")).text  # no longer failed


async def test_members_get_no_domains_or_webhooks_but_tags_and_groups(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    owner = await _signed_in(app, pool, workspace.id)
    added = await post_form(owner, "/console/domains", "/console/domains",
                            {"host": f"m-{uuid.uuid4().hex[:10]}.example.com"})  # fmt: skip
    assert added.status_code == 303
    domain = await pool.fetchval("SELECT id FROM domains WHERE workspace_id = $1", workspace.id)
    member = await _signed_in(app, pool, workspace.id, "member")
    page = await member.get("/console/tags")
    assert page.status_code == 200
    assert 'href="/console/domains"' not in page.text
    assert 'href="/console/webhooks"' not in page.text
    assert (await member.get("/console/groups")).status_code == 200
    token = csrf_of(page.text)
    for path in ("/console/domains", "/console/webhooks"):
        assert (await member.get(path)).status_code == 403
    posts = (
        "/console/domains",
        f"/console/domains/{domain}/verify",
        f"/console/domains/{domain}/delete",
        "/console/webhooks/deliveries/1/replay",
        "/console/webhooks/enable",
    )
    for path in posts:
        answer = await member.post(path, data={"csrf": token, "host": "x.example.com"})
        assert answer.status_code == 403, path
    assert await pool.fetchval("SELECT count(*) FROM domains WHERE workspace_id = $1",
                               workspace.id) == 1  # fmt: skip


async def _theirs(pool: asyncpg.Pool[Any], workspace_id: int) -> list[Any]:
    """What another workspace has, to compare before and after."""
    rows = []
    for table in ("tags", "link_groups", "domains", "webhook_deliveries", "webhook_endpoints"):
        found = await pool.fetch(f"SELECT * FROM {table} WHERE workspace_id = $1 ORDER BY id",
                                 workspace_id)  # fmt: skip
        rows += [tuple(r.values()) for r in found]
    return rows


async def test_another_workspaces_ids_are_not_found_on_every_page_and_form(
    app: InProcessApp, pool: asyncpg.Pool[Any]
) -> None:
    mine, theirs = await new_workspace(pool), await new_workspace(pool)
    me = await _signed_in(app, pool, mine.id)
    them = await _signed_in(app, pool, theirs.id)
    tag = await _tag(them, "their secret tag")
    group = await _group(them, name="their secret group")
    host = {"host": f"t-{uuid.uuid4().hex[:10]}.example.com"}
    assert (await post_form(them, "/console/domains", "/console/domains", host)).status_code == 303
    domain = await pool.fetchval("SELECT id FROM domains WHERE workspace_id = $1", theirs.id)
    link = await pool.fetchval(
        """INSERT INTO links (workspace_id, host, slug, url) VALUES ($1, $2, $3,
           'https://example.com/') RETURNING id""",
        theirs.id, DEFAULT_DOMAIN, f"t{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    delivery = await dead_delivery(pool, theirs.id, link, "https://hooks.example/theirs")
    await pool.execute(
        "UPDATE webhook_endpoints SET disabled_at = now() WHERE workspace_id = $1", theirs.id
    )
    before = await _theirs(pool, theirs.id)

    token = csrf_of((await me.get("/console/tags")).text)
    form = {"csrf": token, "url": "https://hooks.example/theirs", "name": "taken",
            "color": "#000000", "has_color": "on", "webhook_metric": "C", "webhook_frequency": "1",
            "webhook_format": "standard"}  # fmt: skip
    pages = [f"/console/groups/{group}"]
    forms = [f"/console/tags/{tag}", f"/console/tags/{tag}/delete", f"/console/groups/{group}",
             f"/console/groups/{group}/delete", f"/console/domains/{domain}/verify",
             f"/console/domains/{domain}/delete",
             f"/console/webhooks/deliveries/{delivery}/replay",
             "/console/webhooks/enable"]  # fmt: skip
    for path in pages:
        answer = await me.get(path)
        assert answer.status_code == 404, path
        assert "their secret" not in answer.text
    for path in forms:
        # A valid form and an empty one: a refused field must not tell the id exists.
        for data in (form, {"csrf": token}):
            answer = await me.post(path, data=data)
            assert answer.status_code == 404, (path, data, answer.status_code)
            assert "their secret" not in answer.text
    for path in ("/console/tags", "/console/groups", "/console/domains", "/console/webhooks"):
        listed = await me.get(path)
        assert listed.status_code == 200 and "their secret" not in listed.text
        assert "hooks.example/theirs" not in listed.text
    assert await _theirs(pool, theirs.id) == before


async def test_forms_without_their_csrf_token_are_refused_and_change_nothing(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    client = await _signed_in(app, pool, workspace.id)
    tag = await _tag(client, "kept")
    group = await _group(client, name="kept group")
    host = f"c-{uuid.uuid4().hex[:10]}.example.com"
    assert (await post_form(client, "/console/domains", "/console/domains",
                            {"host": host})).status_code == 303  # fmt: skip
    domain = await pool.fetchval("SELECT id FROM domains WHERE host = $1", host)
    before = await _theirs(pool, workspace.id)
    data = {"name": "changed", "host": "new.example.com", "webhook_metric": "C",
            "webhook_frequency": "1", "webhook_format": "standard"}  # fmt: skip
    forms = ["/console/tags", f"/console/tags/{tag}", f"/console/tags/{tag}/delete",
             "/console/groups", f"/console/groups/{group}", f"/console/groups/{group}/delete",
             "/console/domains", f"/console/domains/{domain}/verify",
             f"/console/domains/{domain}/delete",
             "/console/webhooks/deliveries/1/replay", "/console/webhooks/enable"]  # fmt: skip
    for path in forms:
        for extra in ({}, {"csrf": "forged-" + "0" * 56}):
            answer = await client.post(path, data={**data, **extra})
            assert answer.status_code == 403, (path, extra, answer.status_code)
    assert await _theirs(pool, workspace.id) == before
    # The page's own token is taken: the refusals were the token's.
    renamed = await post_form(client, "/console/tags", f"/console/tags/{tag}", {"name": "new"})
    assert renamed.status_code == 303


async def test_tag_and_group_names_are_escaped_on_every_page(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    client = await _signed_in(app, pool, workspace.id)
    tag = await _tag(client, XSS)
    group = await _group(client, name=XSS, memo=XSS, webhook_enabled="on",
                         webhook_url="https://hooks.example/x")  # fmt: skip
    bad_tag = await post_form(client, "/console/tags", "/console/tags", {"name": XSS})
    assert bad_tag.status_code == 409
    bad_group = await post_form(client, f"/console/groups/{group}", f"/console/groups/{group}",
                                {"name": XSS, "memo": XSS, "max_clicks": XSS})  # fmt: skip
    assert bad_group.status_code == 400
    paths = ("/console/tags", "/console/groups", f"/console/groups/{group}", "/console/links",
             "/console/links/new", "/console/webhooks", f"/console/links?tag={tag}")  # fmt: skip
    pages = [await client.get(path) for path in paths]
    for answer in [*pages, bad_tag, bad_group]:
        assert answer.status_code in (200, 400, 409)
        assert "<script>alert(1)" not in answer.text, answer.url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text, answer.url


async def test_a_group_kept_from_a_former_plan_stays_editable_but_gains_nothing_gated(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    owner = await _signed_in(app, pool, workspace.id)
    group_id = await _group(owner, name="From enterprise days", webhook_enabled="on",
                            webhook_url="https://hooks.example/kept")  # fmt: skip
    await pool.execute("UPDATE workspaces SET plan = 'free' WHERE id = $1", workspace.id)
    client = await _signed_in(app, pool, workspace.id)  # the plan is read at sign-in
    page = f"/console/groups/{group_id}"
    kept = {"name": "From enterprise days", "memo": "still editable", "webhook_enabled": "on",
            "webhook_url": "https://hooks.example/kept", "webhook_metric": "C",
            "webhook_frequency": "1", "webhook_format": "standard"}  # fmt: skip
    assert (await post_form(client, page, page, kept)).status_code == 303
    row = await pool.fetchrow("SELECT memo, webhook_enabled FROM link_groups WHERE id = $1",
                              group_id)  # fmt: skip
    assert (row["memo"], row["webhook_enabled"]) == ("still editable", True)
    gated = await post_form(client, page, page, {**kept, "push_notify": "on", "memo": "x"})
    assert gated.status_code == 403 and "Personal plan" in gated.text
    assert 'class="alert"' in gated.text and 'name="push_notify" checked' in gated.text
    assert await pool.fetchval("SELECT memo FROM link_groups WHERE id = $1",
                               group_id) == "still editable"  # fmt: skip
