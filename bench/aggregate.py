"""Aggregation benchmark: click events from the stream into Postgres (raw clicks, every
rollup, exact unique visitors) by the aggregator running as a real process.

Two measures, on a throwaway Postgres and Redis:
- drain: `backlog` events already in the stream; events/s until all are committed and
  acknowledged (the sustained rate the aggregator can write);
- load: a producer adds `rate` events/s for `seconds`; the lag (events not yet
  delivered plus pending) is sampled every 0.25 s, and the time to catch up once the
  producer stops is reported;
- drain by two: the same backlog again, drained by two aggregator processes at once;
  its events/s as a ratio to one process's (what a second aggregator buys where there
  are cores for it).
Target: 20,000 events/s or more. Loopback only, bounded in events and seconds.

    uv run python -m bench.aggregate [--backlog 200000] [--rate 20000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from kurz import keys
from kurz.db import create_pool
from kurz.dev.servers import _wait_port, free_port, local_servers
from kurz.events import BATCH_FIELD, ClickEvent, encode_batch, encode_event, new_event_id
from kurz.migrate import apply_migrations
from kurz.workspaces import create_workspace

_BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel {v}) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_{v}) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Safari/605.1.15",
]
EDGE_BATCH = 50  # events per stream entry: what a redirector under load writes
_COUNTRIES = ["KR", "US", "DE", "JP", "FR", "GB", "BR", "IN", None]
_REFERRERS = [None, None, "https://www.google.com/", "https://t.co/x", "https://news.example/a"]


class Traffic:
    """Plausible clicks: a few hundred user agents, 1,000 links (skewed), many visitors."""

    def __init__(self, workspace_id: int, links: int, visitors: int, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.workspace_id = workspace_id
        self.links = links
        self.visitors = visitors
        self.agents = [t.format(v=v) for t in _BROWSERS for v in range(60, 160)]
        self.agents.append(
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        )

    def event(self) -> bytes:
        rng, now = self.rng, time.time()
        link = int(rng.paretovariate(1.2)) % self.links + 1
        return encode_event(ClickEvent(
            id=new_event_id(now), at=now, workspace_id=self.workspace_id, link_id=link,
            group_id=link % 50 + 1, host="bench.kurz", slug=f"s{link}",
            destination=f"https://example.com/{link}", rule=None, outcome="redirect",
            visitor=f"{rng.randrange(self.visitors):016x}", country=rng.choice(_COUNTRIES),
            referrer=rng.choice(_REFERRERS), user_agent=rng.choice(self.agents),
            qr=rng.random() < 0.1,
        ))  # fmt: skip


async def _produce(redis: aioredis.Redis, payloads: list[bytes], chunk: int = 2000) -> None:
    """The events as a busy redirector writes them: entries of EDGE_BATCH events."""
    for start in range(0, len(payloads), chunk):
        async with redis.pipeline(transaction=False) as pipe:
            for at in range(start, min(start + chunk, len(payloads)), EDGE_BATCH):
                batch = encode_batch(payloads[at : min(at + EDGE_BATCH, start + chunk)])
                pipe.xadd(keys.CLICK_STREAM, {BATCH_FIELD: batch})
            await pipe.execute()


async def _backlog(redis: aioredis.Redis) -> int:
    """Events not yet committed by the aggregator: entries undelivered plus pending, of
    EDGE_BATCH events each (the producer writes only full entries)."""
    groups = await redis.xinfo_groups(keys.CLICK_STREAM)
    for g in groups:
        if g["name"] in (keys.AGGREGATOR_GROUP, keys.AGGREGATOR_GROUP.encode()):
            return (int(g.get("lag") or 0) + int(g["pending"])) * EDGE_BATCH
    return await redis.xlen(keys.CLICK_STREAM) * EDGE_BATCH


async def _drain(redis: aioredis.Redis, timeout: float) -> float:
    started = time.perf_counter()
    while await _backlog(redis) > 0:
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"aggregator did not catch up within {timeout}s")
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def _steady_load(
    redis: aioredis.Redis, traffic: Traffic, rate: int, seconds: float
) -> dict[str, Any]:
    tick, samples = 0.1, []
    per_tick = int(rate * tick)
    payloads = [traffic.event() for _ in range(int(rate * seconds) + per_tick)]
    started = time.perf_counter()
    next_sample = started
    produced = 0
    while time.perf_counter() - started < seconds and produced + per_tick <= len(payloads):
        # Encoded beforehand: the producer's own CPU time should not slow the aggregator.
        await _produce(redis, payloads[produced : produced + per_tick], chunk=per_tick)
        produced += per_tick
        if time.perf_counter() >= next_sample:
            samples.append(await _backlog(redis))
            next_sample += 0.25
        behind = started + (produced / rate) - time.perf_counter()
        if behind > 0:
            await asyncio.sleep(behind)
    offered = produced / (time.perf_counter() - started)
    catch_up = await _drain(redis, 120)
    samples.sort()
    return {
        "load_offered_events_per_s": offered,
        "load_lag_p50_events": samples[len(samples) // 2] if samples else 0,
        "load_lag_max_events": samples[-1] if samples else 0,
        "load_lag_max_s": (samples[-1] if samples else 0) / rate,  # how far behind, in time
        "load_catch_up_s": catch_up,
    }


# What each stored click costs on disk, by table kind (indexes and TOAST included).
_FOOTPRINT = {
    "raw_clicks": "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
    "WHERE inhparent = 'clicks'::regclass",
    "rollups": "SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['link_daily', "
    "'link_hourly', 'group_daily', 'group_hourly', 'workspace_daily', 'workspace_hourly', "
    "'link_daily_dims', 'group_daily_dims']::regclass[]) AS c",
    # Partitioned by day: the parents hold nothing themselves.
    "visitor_marks": "SELECT sum(pg_total_relation_size(t.relid)) FROM unnest(ARRAY["
    "'link_visitors', 'group_visitors', 'workspace_visitors']::regclass[]) AS c, "
    "pg_partition_tree(c) AS t",
}


async def _footprint(pool: Any, wal_before: Any, events: int) -> dict[str, float]:
    """Bytes per click in each kind of table, and of WAL, after `events` were drained
    into an empty database (rollups and marks depend on how many distinct links, days
    and visitors the clicks have: Traffic's shape)."""
    out: dict[str, float] = {}
    for name, query in _FOOTPRINT.items():
        out[f"{name}_bytes_per_click"] = float(await pool.fetchval(query) or 0) / events
    wal_after = await pool.fetchval("SELECT pg_current_wal_lsn()")  # asyncpg: an int
    out["wal_bytes_per_click"] = float(int(wal_after) - int(wal_before)) / events
    return out


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_aggregator(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "kurz_aggregator"],
        env={**env, "KURZ_PORT": str(port)},
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    _wait_port(port, 60)
    return process


async def _drain_by_two(
    redis: aioredis.Redis, traffic: Traffic, env: dict[str, str], root: Path, backlog: int
) -> dict[str, float]:
    """The same backlog drained by two aggregator processes at once (their batches commit
    side by side: no global lock): events/s, and CPU time per event over both."""
    processes = [_start_aggregator(env, free_port(), root / "aggregator.log") for _ in range(2)]
    try:
        # Both held while the backlog is written, so that both start on all of it at once.
        for process in processes:
            process.send_signal(signal.SIGSTOP)
        await _produce(redis, [traffic.event() for _ in range(backlog)])
        cpu_before = sum(_cpu_seconds(p.pid) for p in processes)
        for process in processes:
            process.send_signal(signal.SIGCONT)
        drain = await _drain(redis, 600)
        cpu = sum(_cpu_seconds(p.pid) for p in processes) - cpu_before
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(60)
    return {
        "drain_two_processes_events_per_s": backlog / drain,
        "events_per_aggregator_cpu_s_two_processes": backlog / cpu,
    }


async def _measure(pg_url: str, redis_url: str, root: Path, args: dict[str, Any]) -> dict[str, Any]:
    pool = await create_pool(pg_url)
    async with pool.acquire() as conn:
        workspace_id, _ = await create_workspace(conn, "bench", time_zone="Europe/Berlin")
    redis = aioredis.Redis.from_url(redis_url)
    traffic = Traffic(workspace_id, args["links"], args["visitors"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURZ_")}
    env.update(DATABASE_URL=pg_url, REDIS_URL=redis_url, KURZ_LOG_LEVEL="WARNING",
               KURZ_AGGREGATOR_BATCH=str(args["batch"]),
               KURZ_AGGREGATOR_CONCURRENCY=str(args["concurrency"]))  # fmt: skip
    result: dict[str, Any] = {"batch_size": args["batch"], "consumers": args["concurrency"]}
    try:
        wal_before = await pool.fetchval("SELECT pg_current_wal_lsn()")
        await _produce(redis, [traffic.event() for _ in range(args["backlog"])])
        stream_bytes = await redis.memory_usage(keys.CLICK_STREAM, samples=0)
        result["stream_bytes_per_event"] = (stream_bytes or 0) / args["backlog"]
        process = _start_aggregator(env, free_port(), root / "aggregator.log")
        try:
            cpu_before = _cpu_seconds(process.pid)
            drain = await _drain(redis, 600)
            result["drain_events"] = args["backlog"]
            result["drain_events_per_s"] = args["backlog"] / drain
            result["events_per_aggregator_cpu_s"] = args["backlog"] / (
                _cpu_seconds(process.pid) - cpu_before
            )
            result.update(await _footprint(pool, wal_before, args["backlog"]))
            result.update(await _steady_load(redis, traffic, args["rate"], args["seconds"]))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
        result.update(await _drain_by_two(redis, traffic, env, root, args["backlog"]))
        result["drain_two_vs_one"] = (
            result["drain_two_processes_events_per_s"] / result["drain_events_per_s"]
        )
        rows = await pool.fetchval("SELECT count(*) FROM clicks")
        clicks = await pool.fetchval("SELECT sum(clicks) FROM link_daily")
        result["raw_clicks_stored"] = rows
        result["clicks_counted"] = int(clicks or 0)
    finally:
        await redis.aclose()
        await pool.close()
    return result


def run(
    backlog: int = 200_000, rate: int = 20_000, seconds: float = 10.0, *, links: int = 1000,
    visitors: int = 200_000, batch: int = 5000, concurrency: int = 2,
) -> dict[str, Any]:  # fmt: skip
    """Start throwaway servers and the aggregator; return the measures as a flat dict."""
    args = {"backlog": backlog, "rate": rate, "seconds": seconds, "links": links,
            "visitors": visitors, "batch": batch, "concurrency": concurrency}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="kurz-bench-agg-") as tmp:
        root = Path(tmp)
        with local_servers(root) as (pg, rd):
            apply_migrations(pg.url)
            return asyncio.run(_measure(pg.url, rd.url, root, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=2, help="consumers in the process")
    a = parser.parse_args()
    print(
        json.dumps(
            run(a.backlog, a.rate, a.seconds, batch=a.batch, concurrency=a.concurrency), indent=2
        )
    )


if __name__ == "__main__":
    main()
