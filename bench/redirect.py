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


def _baseline_cmd(server: str, workers: int, port: int) -> list[str]:
    if server == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--no-access-log",
            "bench.baseline_app:app",
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.baseline_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


async def _create_links(db_url: str, redis_url: str, host: str) -> None:
    """One hot link and ZIPF_LINKS others, in Postgres and in the edge cache."""
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
            ZIPF_LINKS,
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
        return (before - after) / max(len(keys), 1)
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


def _row(scenario: str, server: str, workers: int, r: WrkResult, base: float) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "server": server,
        "workers": workers,
        **asdict(r),
        "ratio": round(r.requests_per_s / base, 3) if base else None,
    }


def run(
    *,
    seconds: int = 8,
    servers: tuple[str, ...] = ("uvicorn", "granian"),
    workers: tuple[int, ...] = (1, 2),
    connections: int = 64,
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    memory: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kurz-bench-") as tmp:
        root = Path(tmp)
        with local_servers(root) as (pg, rd):
            apply_migrations(pg.url)
            port = free_port()
            host = f"127.0.0.1:{port}"
            asyncio.run(_create_links(pg.url, rd.url, host))
            memory["redis_bytes_per_link"] = round(
                asyncio.run(_redis_bytes_per_link(rd.url, host)), 1
            )
            env = {
                **os.environ,
                "DATABASE_URL": pg.url,
                "REDIS_URL": rd.url,
                "KURZ_DEFAULT_DOMAIN": host,
                "KURZ_LOG_LEVEL": "WARNING",
                "KURZ_STREAM_MAXLEN": "200000",
                "KURZ_PORT": str(port),
                "PYTHONPATH": str(HERE.parent),
            }
            zipf = root / "zipf.lua"
            zipf.write_text(_ZIPF_LUA % {"n": ZIPF_LINKS})
            sweep = root / "sweep.lua"
            sweep.write_text(_SWEEP_LUA % {"n": ZIPF_LINKS})
            url = f"http://{host}/"
            for server in servers:
                for n in workers:
                    base_proc = _start(_baseline_cmd(server, n, port), env, port, root / "base.log")
                    base = wrk(url, seconds=seconds, connections=connections)
                    _stop(base_proc)
                    rows.append(_row("baseline (raw ASGI)", server, n, base, base.requests_per_s))
                    redir_env = {**env, "KURZ_SERVER": server, "KURZ_WORKERS": str(n)}
                    proc = _start(
                        [sys.executable, "-m", "kurz_redirector"],
                        redir_env,
                        port,
                        root / "redirector.log",
                    )
                    wrk(url + "hot", seconds=1, connections=8)  # warm the local cache
                    hot = wrk(url + "hot", seconds=seconds, connections=connections)
                    rows.append(_row("hot link", server, n, hot, base.requests_per_s))
                    mixed = wrk(url, seconds=seconds, connections=connections, script=zipf)
                    rows.append(_row("100k links, Zipf", server, n, mixed, base.requests_per_s))
                    _stop(proc)
            memory["redirector_rss_bytes_per_link"] = _rss_per_link(env, port, root, sweep)
    return {"rows": rows, "memory": memory, "seconds": seconds, "connections": connections}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
