"""Analytics query benchmark: the statistics query layer over a year of rollups for a
workspace with 1,000 groups, generated directly in a throwaway Postgres (no stream, no
aggregator: only the tables the queries read). Reports the median and 95th percentile
time of each query, measured through the same functions the endpoints call.

Target: a query over 1,000 groups and a year of data answers in well under 100 ms.

    uv run python -m bench.analytics [--groups 1000] [--links-per-group 2] [--days 365]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from kurz.db import create_pool
from kurz.dev.servers import local_servers
from kurz.migrate import apply_migrations
from kurz.plans import EVERYTHING
from kurz.workspaces import create_workspace
from kurz_management.core.analytics import groups, rollups
from kurz_management.core.analytics.model import Period, Selection

END = date(2025, 12, 31)

# One statement per rollup: every (key, day) gets deterministic pseudo-random figures.
_FILL = """
INSERT INTO link_groups (workspace_id, name)
  SELECT {ws}, 'group ' || n FROM generate_series(1, {groups}) n;
INSERT INTO links (workspace_id, host, slug, url, group_id)
  SELECT {ws}, 'bench.test', 'g' || g.id || '-' || k, 'https://example.com/' || k, g.id
  FROM link_groups g, generate_series(1, {per_group}) k WHERE g.workspace_id = {ws};
INSERT INTO group_daily (group_id, day, clicks, visitors)
  SELECT g.id, d::date, 50 + (g.id * 7 + extract(doy FROM d)::int) % 100,
         40 + (g.id * 3 + extract(doy FROM d)::int) % 50
  FROM link_groups g, generate_series('{start}'::date, '{end}'::date, '1 day') d
  WHERE g.workspace_id = {ws};
INSERT INTO link_daily (link_id, day, clicks, visitors)
  SELECT l.id, d::date, 20 + (l.id + extract(doy FROM d)::int) % 40, 15 + l.id % 20
  FROM links l, generate_series('{start}'::date, '{end}'::date, '1 day') d
  WHERE l.workspace_id = {ws};
INSERT INTO workspace_daily (workspace_id, day, clicks, visitors)
  SELECT {ws}, d::date, 100000, 80000
  FROM generate_series('{start}'::date, '{end}'::date, '1 day') d;
INSERT INTO group_daily_dims (group_id, day, dimension, value, clicks)
  SELECT g.id, d::date, dim.name, dim.value, 1 + (g.id + extract(doy FROM d)::int) % 30
  FROM link_groups g, generate_series('{start}'::date, '{end}'::date, '1 day') d,
       (VALUES ('country', 'DE'), ('country', 'US'), ('country', 'KR'), ('device', 'mobile'),
               ('device', 'desktop'), ('referrer', ''), ('referrer', 'google.com')) dim(name, value)
  WHERE g.workspace_id = {ws};
INSERT INTO link_daily_dims (link_id, day, dimension, value, clicks)
  SELECT l.id, d::date, 'country', c, 1 + (l.id + extract(doy FROM d)::int) % 20
  FROM links l, generate_series('{start}'::date, '{end}'::date, '1 day') d,
       unnest(ARRAY['DE', 'US', 'KR']) c
  WHERE l.workspace_id = {ws};
"""


async def _fill(pool: asyncpg.Pool[Any], n_groups: int, per_group: int, days: int) -> int:
    async with pool.acquire() as conn:
        ws, _ = await create_workspace(conn, "bench", plan="selfhosted")
        values = {
            "ws": ws,
            "groups": n_groups,
            "per_group": per_group,
            "start": END - timedelta(days=days - 1),
            "end": END,
        }
        # Only numbers and dates generated here are formatted in: no outside input.
        await conn.execute(_FILL.format(**values), timeout=900)
        await conn.execute("ANALYZE")
    return ws


async def _time(fn: Callable[[], Awaitable[Any]], repeats: int) -> dict[str, float]:
    await fn()  # warm the plan and the cache
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p95_ms": samples[int(len(samples) * 0.95) - 1]}


async def _measure(pool: asyncpg.Pool[Any], ws: int, days: int, repeats: int) -> dict[str, Any]:
    year = Period(END - timedelta(days=days - 1), END)
    month = Period(END - timedelta(days=30), END)
    day = Period(END, END)
    whole = Selection(ws)
    group_id = await pool.fetchval("SELECT min(id) FROM link_groups WHERE workspace_id = $1", ws)
    one_group = Selection(ws, group_id=group_id)
    queries: dict[str, Callable[[], Awaitable[Any]]] = {
        "clicks_by_group_v1_day_page": lambda: groups.group_page(
            pool, ws, None, day, entitlements=EVERYTHING, offset=0, limit=30
        ),
        "clicks_by_group_v2_month_page": lambda: groups.group_page(
            pool, ws, None, month, entitlements=EVERYTHING, offset=0, limit=30
        ),
        "all_groups_year_totals": lambda: groups.group_page(
            pool, ws, None, year, entitlements=EVERYTHING, offset=0, limit=100_000
        ),
        "all_groups_unaligned_year_totals": lambda: groups.group_page(
            pool,
            ws,
            None,
            Period(year.start + timedelta(days=9), END - timedelta(days=11)),
            entitlements=EVERYTHING,
            offset=0,
            limit=100_000,
        ),
        "five_groups_year": lambda: groups.group_page(
            pool,
            ws,
            list(range(group_id, group_id + 5)),
            year,
            entitlements=EVERYTHING,
            offset=0,
            limit=30,
        ),
        "workspace_daily_year": lambda: rollups.daily(pool, whole, year),
        "group_daily_year": lambda: rollups.daily(pool, one_group, year),
        "group_countries_year": lambda: rollups.counts(pool, one_group, "country", year),
        "workspace_countries_month": lambda: rollups.counts(pool, whole, "country", month),
        "workspace_countries_year": lambda: rollups.counts(pool, whole, "country", year),
        "links_by_clicks_year": lambda: rollups.by_link(pool, whole, year, 100),
    }
    return {name: await _time(fn, repeats) for name, fn in queries.items()}


async def _run(groups_n: int, per_group: int, days: int, repeats: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="kurz-bench-analytics-") as tmp,
        local_servers(Path(tmp)) as (pg, _redis),
    ):
        apply_migrations(pg.url)
        pool = await create_pool(pg.url, min_size=1, max_size=4)
        try:
            started = time.perf_counter()
            ws = await _fill(pool, groups_n, per_group, days)
            fill_s = time.perf_counter() - started
            rows = await pool.fetchval("SELECT count(*) FROM group_daily")
            results = await _measure(pool, ws, days, repeats)
        finally:
            await pool.close()
    out: dict[str, Any] = {
        "groups": groups_n,
        "links": groups_n * per_group,
        "days": days,
        "group_daily_rows": rows,
        "generate_s": round(fill_s, 1),
    }
    for name, timing in results.items():
        out[f"{name}_p50_ms"] = round(timing["p50_ms"], 2)
        out[f"{name}_p95_ms"] = round(timing["p95_ms"], 2)
    return out


def run(
    groups: int = 1000, links_per_group: int = 2, days: int = 365, repeats: int = 30
) -> dict[str, Any]:
    return asyncio.run(_run(groups, links_per_group, days, repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--links-per-group", type=int, default=2)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(json.dumps(run(args.groups, args.links_per_group, args.days, args.repeats), indent=2))


if __name__ == "__main__":
    main()
