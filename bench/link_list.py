"""The link list with 100,000 links in one workspace, over HTTP and as the console calls it.

Seeds one workspace directly in a throwaway Postgres (generate_series, no API: the seed
is not what is measured): 100,000 links with titles and some notes, one of 20 tags on
every link, and a few days of clicks on a quarter of them written into link_daily as the
aggregator writes it. Then a management server on it answers, one request at a time:

- the native list (GET /api/v1/links): default page, a narrow search, a broad search
  (every link matches), a tag filter;
- the Vivoldi list (GET /api/link/v1/list): default page, narrow and broad search;
- sort by clicks: neither of those two offers a sort, so through the Linkly list
  (sort_by=clicks_total);
- the web console's links page (GET /console/links, signed in through its form): the
  default page, a search, a tag, sorted by clicks (with and without a tag) and by age,
  each state filter, and page 400 of 4,000;

and single-link create and get by 16 concurrent clients.

Targets: p95 < 50 ms for every API list case, < 200 ms for the console's whole page;
`*_ratio` is p95 / target (below 1 meets it).

    uv run python -m bench.link_list [--links 100000] [--repeats 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

HERE = Path(__file__).resolve().parent
DOMAIN = "bench.kurz.test"
TARGET_MS = 50.0  # the APIs' list
CONSOLE_TARGET_MS = 200.0  # the console's whole links page
CONSOLE_USER, CONSOLE_PASSWORD = "bench@example.com", "bench-console-password"
CONCURRENCY = 16

# Only numbers generated here are formatted in: no outside input.
_SEED = """
INSERT INTO tags (workspace_id, name) SELECT {ws}, 'tag ' || n FROM generate_series(1, 20) n;
INSERT INTO links (workspace_id, host, slug, url, title, note, max_clicks, enabled, created_at)
  SELECT {ws}, '{domain}', 'b' || n,
         'https://shop' || (n % 1000) || '.example/item/' || n || '?ref=bench',
         'Product ' || n || ' ' || (ARRAY['red', 'green', 'blue', 'black'])[1 + n % 4],
         CASE WHEN n % 5 = 0 THEN 'campaign note ' || md5(n::text) END,
         CASE WHEN n % 50 = 0 THEN 10 END,
         n % 100 <> 0,
         now() - (({links} - n) * interval '1 second')
  FROM generate_series(1, {links}) n;
INSERT INTO link_tags (link_id, tag_id)
  SELECT l.id, t.id FROM links l JOIN tags t ON t.workspace_id = l.workspace_id
  WHERE l.workspace_id = {ws} AND (l.id % 20) = (t.id % 20);
INSERT INTO link_daily (link_id, day, clicks, visitors)
  SELECT l.id, current_date - k, 1 + (l.id * 7919 + k * 31) % 500, 1
  FROM links l, generate_series(0, 4) k
  WHERE l.workspace_id = {ws} AND l.id % 4 = 0
  ORDER BY 1, 2;
"""


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return {"p50": statistics.median(ordered), "p95": at(0.95), "p99": at(0.99)}


async def _timed(call: Callable[[], Awaitable[Any]], repeats: int) -> dict[str, float]:
    for _ in range(3):  # warm the plans, the caches and the connections
        await call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return _percentiles(samples)


def _get(client: httpx.AsyncClient, path: str, **params: Any) -> Callable[[], Awaitable[Any]]:
    async def call() -> Any:
        r = await client.get(path, params=params)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path} {params}: {r.status_code} {r.text[:300]}")
        return r

    return call


async def _under_load(client: httpx.AsyncClient, seconds: float) -> dict[str, dict[str, float]]:
    """CONCURRENCY clients, each creating a link and reading it back, for `seconds`."""
    creates: list[float] = []
    gets: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        i = 0
        while time.perf_counter() < deadline:
            i += 1
            started = time.perf_counter()
            r = await client.post("/api/v1/links", json={"url": f"https://load.example/{n}/{i}"})
            creates.append((time.perf_counter() - started) * 1000)
            if r.status_code != 201:
                raise RuntimeError(f"create: {r.status_code} {r.text[:300]}")
            link_id = r.json()["link"]["id"]
            started = time.perf_counter()
            r = await client.get(f"/api/v1/links/{link_id}")
            gets.append((time.perf_counter() - started) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"get: {r.status_code} {r.text[:300]}")

    await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
    return {"create": _percentiles(creates), "get": _percentiles(gets)}


async def _console(base_url: str, ws: int, tag: int, repeats: int) -> dict[str, dict[str, float]]:
    """The web console's links page over HTTP, signed in through its form as a person is."""
    async with httpx.AsyncClient(base_url=base_url) as console:
        form = await console.get("/console/sign-in")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token, "the sign-in form has no CSRF token"
        data = {"email": CONSOLE_USER, "password": CONSOLE_PASSWORD, "csrf": token.group(1)}
        signed = await console.post("/console/sign-in", data=data)
        if signed.status_code != 303:
            raise RuntimeError(f"console sign-in: {signed.status_code}")
        cases: dict[str, dict[str, Any]] = {
            "default": {},
            "search": {"q": "item/4242"},
            "tag": {"tag": tag},
            "clicks": {"sort": "clicks"},
            "clicks_tag": {"sort": "clicks", "tag": tag},
            "oldest": {"sort": "oldest"},
            "state_active": {"state": "active"},
            "state_expired": {"state": "expired"},
            "page_400": {"page": 400},
        }
        return {
            name: await _timed(_get(console, "/console/links", **params), repeats)
            for name, params in cases.items()
        }


async def _measure(
    base_url: str, key: str, database_url: str, ws: int, repeats: int
) -> dict[str, Any]:
    conn = await asyncpg.connect(database_url)
    try:
        tag = await conn.fetchval("SELECT min(id) FROM tags WHERE workspace_id = $1", ws)
    finally:
        await conn.close()
    lists: dict[str, dict[str, float]] = {}
    async with (
        httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {key}"}) as nat,
        httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"APIKey {key}"}) as viv,
        httpx.AsyncClient(base_url=base_url, headers={"X-API-KEY": key}) as lly,
    ):
        cases = {
            "native_default": _get(nat, "/api/v1/links"),
            "native_search": _get(nat, "/api/v1/links", search="item/4242"),
            "native_search_broad": _get(nat, "/api/v1/links", search="product"),
            "native_tag": _get(nat, "/api/v1/links", tagId=tag),
            "vivoldi_default": _get(viv, "/api/link/v1/list"),
            "vivoldi_search": _get(viv, "/api/link/v1/list", searchKwd="item/4242"),
            "vivoldi_search_broad": _get(viv, "/api/link/v1/list", searchKwd="product"),
            "linkly_clicks": _get(
                lly, f"/api/v1/workspace/{ws}/list_links", sort_by="clicks_total", sort_dir="desc"
            ),
        }
        for name, call in cases.items():
            lists[name] = await _timed(call, repeats)
        load = await _under_load(nat, 4.0)
        pages = await _console(base_url, ws, tag, repeats)
    out: dict[str, Any] = {}
    for name, p in pages.items():
        out[f"console_{name}_p50_ms"] = round(p["p50"], 2)
        out[f"console_{name}_p95_ms"] = round(p["p95"], 2)
        out[f"console_{name}_ratio"] = round(p["p95"] / CONSOLE_TARGET_MS, 2)
    for name, p in lists.items():
        out[f"{name}_p50_ms"] = round(p["p50"], 2)
        out[f"{name}_p95_ms"] = round(p["p95"], 2)
        out[f"{name}_p99_ms"] = round(p["p99"], 2)
        out[f"{name}_ratio"] = round(p["p95"] / TARGET_MS, 2)
    for name, p in load.items():
        out[f"{name}_c{CONCURRENCY}_p50_ms"] = round(p["p50"], 2)
        out[f"{name}_c{CONCURRENCY}_p99_ms"] = round(p["p99"], 2)
    out["list_target_met"] = all(p["p95"] < TARGET_MS for p in lists.values())
    out["console_target_met"] = all(p["p95"] < CONSOLE_TARGET_MS for p in pages.values())
    return out


async def _seed(database_url: str, links: int) -> tuple[int, str]:
    from kurz import users
    from kurz.workspaces import create_workspace, ensure_default_domain

    conn = await asyncpg.connect(database_url)
    try:
        await ensure_default_domain(conn, DOMAIN)
        ws, key = await create_workspace(conn, "bench", plan="selfhosted")
        await users.create_user(conn, CONSOLE_USER, ws, "owner", password=CONSOLE_PASSWORD)
        await conn.execute(_SEED.format(ws=ws, links=links, domain=DOMAIN), timeout=600)
        await conn.execute("VACUUM ANALYZE")
        return ws, key
    finally:
        await conn.close()


@contextlib.contextmanager
def _management(root: Path, database_url: str, redis_url: str) -> Iterator[str]:
    from kurz.dev.servers import _wait_port, free_port

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "KURZ_DEFAULT_DOMAIN": DOMAIN,
        "KURZ_LOG_LEVEL": "WARNING",
        "KURZ_API_RATE_LIMIT": "1000000",
        "KURZ_PORT": str(port),
        "PYTHONPATH": str(HERE.parent),
    }
    with (root / "management.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kurz_management"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_port(port, 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def run(links: int = 100_000, repeats: int = 60) -> dict[str, Any]:
    from kurz.dev.servers import local_servers
    from kurz.migrate import apply_migrations

    with (
        tempfile.TemporaryDirectory(prefix="kurz-bench-list-") as tmp,
        local_servers(Path(tmp)) as (pg, rd),
    ):
        apply_migrations(pg.url)
        started = time.perf_counter()
        ws, key = asyncio.run(_seed(pg.url, links))
        seed_s = time.perf_counter() - started
        with _management(Path(tmp), pg.url, rd.url) as base_url:
            out = asyncio.run(_measure(base_url, key, pg.url, ws, repeats))
    return {"links": links, "seed_s": round(seed_s, 1), "target_p95_ms": TARGET_MS, **out}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    print(json.dumps(run(args.links, args.repeats), indent=2))
