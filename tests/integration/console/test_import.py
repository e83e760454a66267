"""CSV import in the console: the preview lists every row with what would be refused and
creates nothing; the import creates the good rows, reports each refused one by its line,
and the links are the API's links."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.conftest import Workspace
from tests.support.console import csrf_of

CSV = (
    "url,slug,title\n"
    "https://example.com/one,imp-one,First\n"
    "not a url,imp-bad,Broken\n"
    "https://example.com/two,imp-two,<b>Second</b>\n"
    ",imp-empty,No destination\n"
)


async def _preview(owner: httpx.AsyncClient, content: bytes) -> httpx.Response:
    page = await owner.get("/console/links/import")
    return await owner.post(
        "/console/links/import",
        data={"csrf": csrf_of(page.text), "format": "auto", "domain": ""},
        files={"file": ("links.csv", content, "text/csv")},
    )


async def _count(pool: asyncpg.Pool[Any], workspace: Workspace) -> int:
    return int(await pool.fetchval(
        "SELECT count(*) FROM links WHERE workspace_id = $1 AND deleted_at IS NULL", workspace.id
    ))  # fmt: skip


async def test_preview_then_import_reports_every_bad_row(
    owner: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    preview = await _preview(owner, CSV.encode())
    assert preview.status_code == 200, preview.text
    assert "2</strong> links will be created" in preview.text
    assert "2</strong> rows will be refused" in preview.text
    assert "line 3" in preview.text and "line 5" in preview.text
    assert "&lt;b&gt;Second&lt;/b&gt;" in preview.text and "<b>Second</b>" not in preview.text
    assert await _count(pool, workspace) == 0  # a preview writes nothing

    run = await owner.post(
        "/console/links/import/run",
        data={"csrf": csrf_of(preview.text), "format": "auto", "domain": "", "content": CSV},
    )
    assert run.status_code == 200, run.text
    assert "2 of 4 links created" in run.text
    assert "line 3:" in run.text and "line 5:" in run.text
    slugs = await pool.fetch(
        "SELECT slug, title FROM links WHERE workspace_id = $1 ORDER BY id", workspace.id
    )
    assert [(r["slug"], r["title"]) for r in slugs] == [
        ("imp-one", "First"), ("imp-two", "<b>Second</b>")
    ]  # fmt: skip


async def test_unreadable_files_are_refused_with_a_reason_and_nothing_is_written(
    owner: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    for content, reason in (
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"", "cannot be read"),
        (b'{"shortUrls": 3', "cannot be read"),
    ):
        answer = await _preview(owner, content)
        assert answer.status_code == 400 and reason in answer.text, (content, answer.text[-500:])
    assert await _count(pool, workspace) == 0
