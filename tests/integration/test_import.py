"""`kurz import`: each supported export, in the columns its product documents, creates
exactly its good links (through the link use cases, so the edge serves them) and reports
every bad row with where it is; --dry-run writes nothing."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from kurz import keys

from tests.conftest import new_workspace
from tests.integration.test_cli_operator import kurz

BITLY = """id,link,long_url,title,created_at,archived,tags,custom_bitlinks
bit.ly/3abcDEF,https://bit.ly/3abcDEF,https://example.com/spring,Spring sale,2024-03-01T10:00:00+0000,false,"sale,spring",https://bit.ly/spring-sale
bit.ly/3ghiJKL,https://bit.ly/3ghiJKL,https://example.com/blog,,2024-03-02T10:00:00+0000,false,,
bit.ly/3mnoPQR,https://bit.ly/3mnoPQR,,No destination,2024-03-03T10:00:00+0000,false,,
bit.ly/3stuVWX,https://bit.ly/3stuVWX,javascript:alert(1),Script,2024-03-04T10:00:00+0000,false,,
"""
YOURLS = """keyword,url,title,timestamp,ip,clicks
ozh,https://ozh.org/,Ozh's site,2009-09-18 10:00:00,127.0.0.1,12
yourls,https://yourls.org/,YOURLS,2009-09-18 10:01:00,127.0.0.1,3
,https://example.com/no-keyword,Lost,2009-09-18 10:02:00,127.0.0.1,0
"""
GENERIC = """url,slug,title,note,expires_at
https://example.com/a,gen-a,First,imported,2031-01-01T00:00:00+00:00
https://example.com/b,,Second,,
https://example.com/c,gen-c,Third,,next tuesday
"""
SHLINK = {
    "shortUrls": {
        "data": [
            {
                "shortCode": "12C18",
                "shortUrl": "https://s.test/12C18",
                "longUrl": "https://store.example.com/product/123",
                "dateCreated": "2016-08-21T13:24:17+02:00",
                "visitsSummary": {"total": 328, "nonBots": 328, "bots": 0},
                "tags": ["store"],
                "meta": {
                    "validSince": "2017-01-21T00:00:00+02:00",
                    "validUntil": None,
                    "maxVisits": 100,
                },
                "domain": None,
                "title": "Product 123",
                "crawlable": False,
                "forwardQuery": True,
            },
            {
                "shortCode": "bad-max",
                "shortUrl": "https://s.test/bad-max",
                "longUrl": "https://example.com/x",
                "dateCreated": "2016-08-21T13:24:17+02:00",
                "tags": [],
                "meta": {"validSince": None, "validUntil": None, "maxVisits": -3},
                "domain": None,
                "title": None,
                "crawlable": False,
                "forwardQuery": True,
            },
        ],
        "pagination": {"currentPage": 1, "pagesCount": 1, "itemsPerPage": 10,
                       "itemsInCurrentPage": 2, "totalItems": 2},
    }
}  # fmt: skip
KUTT = {
    "limit": 10,
    "skip": 0,
    "total": 3,
    "data": [
        {"id": "00000000-0000-0000-0000-000000000001", "address": "kutt-a", "banned": False,
         "created_at": "2024-01-01T00:00:00.000Z", "updated_at": "2024-01-01T00:00:00.000Z",
         "link": "https://kutt.it/kutt-a", "password": False, "target": "https://example.com/k",
         "description": "Kutt link", "visit_count": 4},
        {"id": "00000000-0000-0000-0000-000000000002", "address": "kutt-b", "banned": False,
         "created_at": "2024-01-01T00:00:00.000Z", "updated_at": "2024-01-01T00:00:00.000Z",
         "link": "https://kutt.it/kutt-b", "password": False, "target": "not a url",
         "description": None, "visit_count": 0},
        "not an object",
    ],
}  # fmt: skip

CASES: dict[str, tuple[str, set[tuple[str | None, str]], list[str]]] = {
    "bitly": (
        BITLY,
        {("spring-sale", "https://example.com/spring"), ("3ghiJKL", "https://example.com/blog")},
        ["line 4: long_url is missing", "line 5: url: "],
    ),
    "yourls": (
        YOURLS,
        {("ozh", "https://ozh.org/"), ("yourls", "https://yourls.org/")},
        ["line 4: keyword is missing"],
    ),
    "csv": (
        GENERIC,
        {("gen-a", "https://example.com/a"), (None, "https://example.com/b")},
        ["line 4: expires_at is not a date and time"],
    ),
    "shlink": (
        json.dumps(SHLINK),
        {("12C18", "https://store.example.com/product/123")},
        ["item 2: meta.maxVisits is not a positive number"],
    ),
    "kutt": (
        json.dumps(KUTT),
        {("kutt-a", "https://example.com/k")},
        ["item 2: url: ", "item 3: not an object"],
    ),
}


def run_import(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return kurz("import", *args, **env)  # type: ignore[arg-type]  # every key is a variable


@pytest.fixture
def env(database_url: str, redis_url: str) -> dict[str, str]:
    """A short domain of the test's own: the exports' fixed slugs are free on it, whatever
    other tests of the session took on the shared one."""
    domain = f"import-{uuid.uuid4().hex[:8]}.test"
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "KURZ_DEFAULT_DOMAIN": domain}  # fmt: skip


@pytest.mark.parametrize("fmt", sorted(CASES))
async def test_each_format_imports_its_good_rows_and_reports_the_bad(
    fmt: str, tmp_path: Path, env: dict[str, str], pool: asyncpg.Pool[Any], redis: Any
) -> None:
    text, expected, bad = CASES[fmt]
    ws = await new_workspace(pool, f"import-{fmt}")
    path = tmp_path / ("export.json" if fmt in ("shlink", "kutt") else "export.csv")
    path.write_text(text)

    dry = run_import(env, str(ws.id), str(path), "--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert f"{len(expected)} link(s) would be imported" in dry.stderr
    assert await pool.fetchval("SELECT count(*) FROM links WHERE workspace_id = $1", ws.id) == 0

    done = run_import(env, str(ws.id), str(path))  # format told apart by its columns
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    for where in bad:
        assert any(line.startswith(f"{path.name}: {where}") for line in lines), (where, lines)
    assert len(lines) == len(bad) + 1
    total = len(expected) + len(bad)
    summary = f"{len(expected)} link(s) imported; {len(bad)} row(s) refused, of {total}"
    assert lines[-1] == f"kurz: {summary}"

    rows = await pool.fetch(
        "SELECT slug, url, host FROM links WHERE workspace_id = $1 AND deleted_at IS NULL", ws.id
    )
    got = {(r["slug"], r["url"]) for r in rows}
    named = {pair for pair in expected if pair[0] is not None}
    assert named <= got and len(got) == len(expected)
    for slug, _ in named:  # written through to the edge cache, as the API does
        assert slug is not None
        assert await redis.exists(keys.link(env["KURZ_DEFAULT_DOMAIN"], slug))


async def test_shlink_meta_is_kept(
    tmp_path: Path, env: dict[str, str], pool: asyncpg.Pool[Any]
) -> None:
    ws = await new_workspace(pool, "import-meta")
    export = json.loads(json.dumps(SHLINK))
    export["shortUrls"]["data"][0]["shortCode"] = "meta-kept"
    (tmp_path / "shlink.json").write_text(json.dumps(export))
    run_import(env, str(ws.id), str(tmp_path / "shlink.json"), "--format", "shlink")
    row = await pool.fetchrow(
        "SELECT * FROM links WHERE workspace_id = $1 AND slug = 'meta-kept'", ws.id
    )
    assert row is not None and row["max_clicks"] == 100 and row["title"] == "Product 123"
    assert row["starts_at"] is not None


async def test_a_taken_slug_is_a_bad_row_in_the_dry_run_too(
    tmp_path: Path, env: dict[str, str], pool: asyncpg.Pool[Any]
) -> None:
    ws = await new_workspace(pool, "import-again")
    path = tmp_path / "links.csv"
    path.write_text("url,slug\nhttps://example.com/1,again-1\n")
    assert run_import(env, str(ws.id), str(path)).returncode == 0
    dry = run_import(env, str(ws.id), str(path), "--dry-run")
    assert dry.returncode == 1 and "line 2: slug: " in dry.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "empty"), ("name,address\nx,y\n", "no column named url"), ("{}", "Shlink or a Kutt"),
     ("{not json", "not valid JSON")],
)  # fmt: skip
async def test_an_unreadable_file_is_refused_whole(
    content: str, message: str, tmp_path: Path, env: dict[str, str], pool: asyncpg.Pool[Any]
) -> None:
    ws = await new_workspace(pool, "import-unreadable")
    (tmp_path / "f").write_text(content)
    done = run_import(env, str(ws.id), str(tmp_path / "f"))
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.splitlines()) == 1
