"""The console's links list and form over the link use cases: search, filters, sort and
pages; a link edited in the form reads back through the native API as edited; disable,
enable and delete; the QR code in both formats and its options refused when bad."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import zxingcpp
from PIL import Image

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.integration.analytics.conftest import click, record
from tests.support.console import create_link, post_form

_ROW = re.compile(r'class="slug">([^<]+)</a>')


def _shown(html: str) -> list[str]:
    return [address.split("/", 1)[1] for address in _ROW.findall(html)]


async def test_search_filters_sort_and_pages(
    owner: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    tag = await pool.fetchval(
        "INSERT INTO tags (workspace_id, name) VALUES ($1, 'promo') RETURNING id", workspace.id
    )
    ids = [await create_link(owner, slug=f"item-{n:02}", title=f"Item {n}",
                         note="needle" if n % 10 == 3 else "") for n in range(30)]  # fmt: skip
    await create_link(
        owner, slug="tagged-one", url="https://shop.example/50%_off", tag_ids=str(tag)
    )
    first = await owner.get("/console/links")
    assert _shown(first.text)[:2] == ["tagged-one", "item-29"]  # newest first
    assert "1\N{EN DASH}25 of 31 links" in first.text and 'rel="next"' in first.text
    second = await owner.get("/console/links", params={"page": "2"})
    assert _shown(second.text) == [f"item-{n:02}" for n in range(5, -1, -1)]
    oldest = await owner.get("/console/links", params={"sort": "oldest"})
    assert _shown(oldest.text)[0] == "item-00"
    needles = await owner.get("/console/links", params={"q": "needle"})
    assert sorted(_shown(needles.text)) == ["item-03", "item-13", "item-23"]
    # LIKE's own characters are searched as themselves.
    percent = await owner.get("/console/links", params={"q": "50%_"})
    assert _shown(percent.text) == ["tagged-one"]
    tagged = await owner.get("/console/links", params={"tag": str(tag)})
    assert _shown(tagged.text) == ["tagged-one"]
    # Sorting by clicks: clicks written as the aggregator writes a batch.
    now = datetime.now(UTC).isoformat()
    await record(pool, [click(workspace.id, ids[7], None, now, f"v{n}") for n in range(3)])
    busiest = await owner.get("/console/links", params={"sort": "clicks"})
    assert _shown(busiest.text)[0] == "item-07"
    # States: one link disabled, one at its click limit, the rest active.
    await post_form(owner, "/console/links", f"/console/links/{ids[1]}/toggle")
    await pool.execute("UPDATE links SET max_clicks = 3 WHERE id = $1", ids[7])
    states = {s: _shown((await owner.get("/console/links", params={"state": s})).text)
              for s in ("disabled", "expired")}  # fmt: skip
    assert states == {"disabled": ["item-01"], "expired": ["item-07"]}
    active = await owner.get("/console/links", params={"state": "active"})
    assert "1\N{EN DASH}25 of 29 links" in active.text
    assert len(ids) == 30


async def test_edit_disable_enable_and_delete_reach_the_api(
    owner: httpx.AsyncClient, app: Any, workspace: Workspace
) -> None:
    link_id = await create_link(owner, slug="edit-me", title="Before", max_clicks="10")
    page = f"/console/links/{link_id}"
    form = await owner.get(page)
    assert 'value="Before"' in form.text and 'value="10"' in form.text
    edited = await post_form(owner, page, page, {
        "url": "https://example.com/after", "slug": "edit-me", "title": "After",
        "redirect_type": "301", "link_type": "URL", "domain": DEFAULT_DOMAIN, "enabled": "on",
        "max_clicks": "", "utm_source": "news", "password": "s3cret-enough",
    })  # fmt: skip
    assert edited.status_code == 303, edited.text
    async with app.client(workspace.bearer) as api:
        native = (await api.get(f"/api/v1/links/{link_id}")).json()["link"]
        assert (
            native["title"] == "After"
            and native["url"] == "https://example.com/after?utm_source=news"
        )
        assert native["redirectType"] == "PERMANENT_301" and native["maxClicks"] is None
        assert native["hasPassword"] is True

        async def enabled() -> bool:
            return bool((await api.get(f"/api/v1/links/{link_id}")).json()["link"]["enabled"])

        assert (await post_form(owner, page, f"{page}/toggle")).status_code == 303
        assert await enabled() is False
        await post_form(owner, page, f"{page}/toggle")
        assert await enabled() is True
        deleted = await post_form(owner, page, f"{page}/delete")
        assert deleted.status_code == 303
        assert (await api.get(f"/api/v1/links/{link_id}")).status_code == 404
    assert (await owner.get(page)).status_code == 404


async def test_a_slug_taken_is_shown_on_the_form_with_what_was_typed(
    owner: httpx.AsyncClient,
) -> None:
    await create_link(owner, slug="taken-slug")
    again = await post_form(owner, "/console/links/new", "/console/links", {
        "url": "https://example.com/other", "slug": "taken-slug", "title": "Kept",
        "redirect_type": "302", "link_type": "URL", "domain": DEFAULT_DOMAIN,
    })  # fmt: skip
    assert again.status_code == 409
    assert 'value="Kept"' in again.text and 'id="slug-error"' in again.text


async def test_the_qr_code_carries_the_short_url_in_either_format(
    owner: httpx.AsyncClient,
) -> None:
    link_id = await create_link(owner, slug="qr-me")
    png = await owner.get(f"/console/links/{link_id}/qr", params={"size": "300", "download": "1"})
    assert png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"] == 'attachment; filename="qr-me-qr.png"'
    image = Image.open(io.BytesIO(png.content))
    assert image.size == (300, 300)
    (code,) = zxingcpp.read_barcodes(image)
    assert code.text == f"http://{DEFAULT_DOMAIN}/qr-me?qr=1"
    svg = await owner.get(f"/console/links/{link_id}/qr", params={"format": "svg"})
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    for bad in ({"size": "5"}, {"size": "big"}, {"format": "gif"}):
        refused = await owner.get(f"/console/links/{link_id}/qr", params=bad)
        assert refused.status_code == 400, bad
