"""Redirect benchmark: the redirector against the raw-ASGI baseline, same server, same
worker count, alternately in one run. Loopback only, bounded in seconds and connections."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from kurz.db import create_pool
from kurz.dev.servers import _wait_port, free_port, local_servers
from kurz.edge_cache import EdgeCache
from kurz.edge_records import LINK_COLUMNS, edge_link_from_row
from kurz.migrate import apply_migrations
from kurz.workspaces import create_workspace

from bench.wrk import WrkResult
from bench.wrk import run as wrk

HERE = Path(__file__).parent
ZIPF_LINKS = 100_000

_ZIPF_LUA = """
local n = %(n)d
local cdf = {}
local total = 0
for i = 1, n do total = total + 1 / i; cdf[i] = total end
for i = 1, n do cdf[i] = cdf[i] / total end
math.randomseed(42)
request = function()
  local u = math.random()
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return wrk.format("GET", "/z" .. lo)
end
"""

_SWEEP_LUA = """
local i = 0
request = function()
  i = i + 1
  if i > %(n)d then i = 1 end
  return wrk.format("GET", "/z" .. i)
end
"""


def _start(cmd: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    _wait_port(port, 60)
    time.sleep(0.5)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def _create_links(db_url: str, redis_url: str, host: str, others: int = ZIPF_LINKS) -> None:
    """One hot link and `others` more, in Postgres and in the edge cache."""
    pool = await create_pool(db_url, max_size=2)
    client = aioredis.Redis.from_url(redis_url)
    try:
        async with pool.acquire() as conn:
            ws, _ = await create_workspace(conn, "bench")
        await pool.execute(
            """INSERT INTO links (workspace_id, host, slug, url)
               SELECT $1, $2, s, 'https://example.com/landing?from=' || s
               FROM (SELECT 'hot' AS s UNION ALL
                     SELECT 'z' || g FROM generate_series(1, $3::int) g) slugs""",
            ws,
            host,
            others,
        )
        rows = await pool.fetch(f"SELECT {LINK_COLUMNS} FROM links l WHERE l.host = $1", host)
        cache = EdgeCache(client)
        for start in range(0, len(rows), 5000):
            await cache.put_links(edge_link_from_row(r) for r in rows[start : start + 5000])
    finally:
        await client.aclose()
        await pool.close()


async def _redis_bytes_per_link(redis_url: str, host: str) -> float:
    """Redis memory of the link records alone: used_memory with and without them."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"k:l:{{{host}/z*", count=10_000)]
        before = (await client.info("memory"))["used_memory"]
        dumps = []
        for start in range(0, len(keys), 5000):
            pipe = client.pipeline(transaction=False)
            for k in keys[start : start + 5000]:
                pipe.dump(k)
            dumps.extend(await pipe.execute())
            await client.delete(*keys[start : start + 5000])
        after = (await client.info("memory"))["used_memory"]
        for start in range(0, len(keys), 5000):
            pipe = client.pipeline(transaction=False)
            for k, d in zip(keys[start : start + 5000], dumps[start : start + 5000], strict=True):
                pipe.restore(k, 0, d)
            await pipe.execute()
        return float(before - after) / max(len(keys), 1)
    finally:
        await client.aclose()


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _rss_per_link(env: dict[str, str], port: int, root: Path, sweep: Path) -> float:
    """A fresh redirector's RSS growth while every one of the links enters its cache."""
    proc = _start([sys.executable, "-m", "kurz_redirector"], env, port, root / "memory.log")
    try:
        url = f"http://127.0.0.1:{port}/"
        wrk(url + "hot", seconds=1, connections=8)
        before = _rss_kb(proc.pid)
        wrk(url, seconds=20, connections=64, script=sweep)
        after = _rss_kb(proc.pid)
    finally:
        _stop(proc)
    return round((after - before) * 1024 / ZIPF_LINKS, 1)


def edge_env(database_url: str, redis_url: str, port: int) -> dict[str, str]:
    """The environment of the redirector (and the same-options baseline) in a benchmark:
    production settings, serving 127.0.0.1:`port`, the default domain being that address."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "KURZ_DEFAULT_DOMAIN": f"127.0.0.1:{port}",
        "KURZ_LOG_LEVEL": "WARNING",
        "KURZ_STREAM_HIGH_WATER": "1073741824",
        "KURZ_PORT": str(port),
        "PYTHONPATH": str(HERE.parent),
    }


def stock_baseline_cmd(server: str, workers: int, port: int) -> list[str]:
    """The baseline as the Python stack ships: the server's command line with its default
    options (proxy headers, Server and Date headers on), access log off. kurz's own
    protocol (KURZ_SERVER=kurz) is the redirector's alone: its baseline is uvicorn."""
    if server == "kurz":
        server = "uvicorn"
    if server == "granian":
        options = ["--interface", "asgi", "--loop", "uvloop", "--no-access-log"]
    else:
        options = [
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    return [
        sys.executable, "-m", server, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), *options, "bench.baseline_app:app",
    ]  # fmt: skip


def bare_protocol_cmd(workers: int, port: int) -> list[str]:
    """The bare uvloop + httptools protocol answering a fixed 302 (bench.bare_protocol)."""
    return [sys.executable, "-m", "bench.bare_protocol", str(port), str(workers)]


def same_options_baseline(env: dict[str, str], port: int) -> tuple[list[str], dict[str, str]]:
    """The baseline served by kurz.serve, as the redirector is: command and environment."""
    return [sys.executable, "-m", "bench.baseline_app"], {**env, "KURZ_PORT": str(port)}


def _row(
    scenario: str,
    server: str,
    workers: int,
    r: WrkResult,
    ratio: float,
    same: float,
    rounds: list[WrkResult],
) -> dict[str, Any]:
    """One scenario's figures from the round `r`, except p99: the median of every round's
    p99 (all of them listed), as one disturbed round on a shared machine can set a 6 s
    run's p99 by itself, as it can set its throughput."""
    p99s = [x.p99_ms for x in rounds]
    return {
        "scenario": scenario, "server": server, "workers": workers, **asdict(r),
        "p99_ms": sorted(p99s)[len(p99s) // 2], "round_p99_ms": p99s,
        "ratio": ratio, "ratio_same_options": same,
    }  # fmt: skip


def _ratios(runs: list[WrkResult], bases: list[WrkResult]) -> list[float]:
    return [r.requests_per_s / b.requests_per_s for r, b in zip(runs, bases, strict=True)]


def _median_round(
    scenario: str,
    server: str,
    workers: int,
    runs: list[WrkResult],
    stock: list[WrkResult],
    same: list[WrkResult],
    bare: list[WrkResult],
) -> dict[str, Any]:
    """The round whose ratio to its own (stock) baseline is the median: one noisy run on
    a shared machine moves neither the figures shown nor the ratio. Beside it, the median
    ratio to the bare protocol of the same rounds, and the p99 against the stock
    baseline's (both medians of the rounds)."""
    ratios, same_ratios = _ratios(runs, stock), _ratios(runs, same)
    middle = sorted(range(len(runs)), key=ratios.__getitem__)[len(runs) // 2]
    row = _row(
        scenario, server, workers, runs[middle],
        round(ratios[middle], 3), round(sorted(same_ratios)[len(runs) // 2], 3), runs,
    )  # fmt: skip
    row["round_ratios"] = [round(r, 3) for r in ratios]
    row["ratio_bare"] = round(sorted(_ratios(runs, bare))[len(runs) // 2], 3)
    row["p99_vs_stock_p99"] = round(row["p99_ms"] / _median_p99(stock), 3)
    return row


def _median_p99(runs: list[WrkResult]) -> float:
    return sorted(r.p99_ms for r in runs)[len(runs) // 2]


def _compare(
    server: str,
    workers: int,
    env: dict[str, str],
    ports: tuple[int, int, int, int],
    root: Path,
    *,
    rounds: int,
    seconds: int,
    connections: int,
    zipf: Path,
) -> list[dict[str, Any]]:
    """Rounds of both baselines, hot link and Zipf, back to back. The baselines stay up
    (idle while others run); each round starts a fresh redirector, so the Zipf run always
    begins with a cold cache, as the first visits to 100,000 links would.

    Two baselines: the raw app under the server as it ships (the ceiling the targets are
    set against), and the raw app served by kurz.serve, with the options the redirector
    runs with (no proxy-header middleware, as kurz applies those headers itself; no
    Server or Date header): the second ratio sets kurz's own work against a raw app served
    the same way. The redirector's hot visits skip ASGI under uvicorn (ADR 0008), so either
    ratio can pass 1."""
    port, stock_port, same_port, bare_port = ports
    env = {**env, "KURZ_SERVER": server, "KURZ_WORKERS": str(workers)}
    baselines = [
        _start(
            stock_baseline_cmd(server, workers, stock_port), env, stock_port, root / "baseline.log"
        ),
        _start(*same_options_baseline(env, same_port), same_port, root / "baseline.log"),
        _start(bare_protocol_cmd(workers, bare_port), env, bare_port, root / "baseline.log"),
    ]
    url = f"http://127.0.0.1:{port}/"
    stock: list[WrkResult] = []
    same: list[WrkResult] = []
    bare: list[WrkResult] = []
    hots: list[WrkResult] = []
    mixed: list[WrkResult] = []
    try:
        for _ in range(rounds):
            for results, base_port in ((stock, stock_port), (same, same_port), (bare, bare_port)):
                base_url = f"http://127.0.0.1:{base_port}/"
                results.append(wrk(base_url, seconds=seconds, connections=connections))
            redirector = _start(
                [sys.executable, "-m", "kurz_redirector"], env, port, root / "redirector.log"
            )
            try:
                wrk(url + "hot", seconds=1, connections=8)  # the hot link into the local cache
                hots.append(wrk(url + "hot", seconds=seconds, connections=connections))
                mixed.append(wrk(url, seconds=seconds, connections=connections, script=zipf))
            finally:
                _stop(redirector)
    finally:
        for baseline in baselines:
            _stop(baseline)
    middle = len(stock) // 2
    median_stock = sorted(stock, key=lambda r: r.requests_per_s)[middle]
    median_same = sorted(same, key=lambda r: r.requests_per_s)[middle]
    median_bare = sorted(bare, key=lambda r: r.requests_per_s)[middle]
    same_ratio = round(sorted(_ratios(same, stock))[middle], 3)
    bare_ratio = round(sorted(_ratios(bare, stock))[middle], 3)
    return [
        _row("baseline: raw ASGI, stock server", server, workers, median_stock, 1.0, 0.0, stock),
        _row(
            "baseline: raw ASGI, kurz's options",
            server,
            workers,
            median_same,
            same_ratio,
            1.0,
            same,
        ),
        _row(
            "baseline: bare uvloop + httptools protocol",
            "-",
            workers,
            median_bare,
            bare_ratio,
            0.0,
            bare,
        ),
        _median_round("hot link", server, workers, hots, stock, same, bare),
        _median_round("100k links, Zipf", server, workers, mixed, stock, same, bare),
    ]


def run(
    *,
    seconds: int = 6,
    rounds: int = 3,
    servers: tuple[str, ...] = ("uvicorn", "kurz", "granian"),
    workers: tuple[int, ...] = (1, 2),
    connections: int = 64,
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    memory: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kurz-bench-") as tmp:
        root = Path(tmp)
        with local_servers(root) as (pg, rd):
            apply_migrations(pg.url)
            # The redirector, and three baselines: stock server, kurz's options, bare protocol.
            ports = (free_port(), free_port(), free_port(), free_port())
            port = ports[0]
            host = f"127.0.0.1:{port}"
            asyncio.run(_create_links(pg.url, rd.url, host))
            memory["redis_bytes_per_link"] = round(
                asyncio.run(_redis_bytes_per_link(rd.url, host)), 1
            )
            env = edge_env(pg.url, rd.url, port)
            zipf = root / "zipf.lua"
            zipf.write_text(_ZIPF_LUA % {"n": ZIPF_LINKS})
            sweep = root / "sweep.lua"
            sweep.write_text(_SWEEP_LUA % {"n": ZIPF_LINKS})
            for server in servers:
                for n in workers:
                    rows += _compare(
                        server, n, env, ports, root,
                        rounds=rounds, seconds=seconds, connections=connections, zipf=zipf,
                    )  # fmt: skip
            memory["redirector_rss_bytes_per_link"] = _rss_per_link(env, port, root, sweep)
    return {
        "rows": rows, "memory": memory, "seconds": seconds, "rounds": rounds,
        "connections": connections,
    }  # fmt: skip


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
