"""The whole pipeline on one machine: every service as `make run` runs it (redirector,
management, aggregator, webhook worker, Postgres, Redis), against the redirector alone
on the same machine in the same run.

Each round: the redirector alone serves the hot link and 100,000 links under Zipf
traffic for `seconds`; then the same with the management service, the aggregator and
the webhook worker running, after which every click answered must be counted by the
aggregator (none lost). Reported: redirects/s of each, their ratio, and the CPU time
of each process per click event over the pipeline run (edge, stream in Redis, Postgres,
aggregator, webhook worker). Loopback only, bounded in seconds.

    uv run python -m bench.pipeline
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kurz.db import create_pool
from kurz.dev.servers import free_port, local_servers
from kurz.migrate import apply_migrations

from bench.redirect import _ZIPF_LUA, ZIPF_LINKS, _create_links, _start, _stop, edge_env
from bench.wrk import WrkResult
from bench.wrk import run as wrk

CONSUMERS = (("management", "kurz_management"), ("aggregator", "kurz_aggregator"),
             ("webhook-worker", "kurz_webhooks"))  # fmt: skip


def _cpu_seconds(pid: int, *, waited_children: bool = False) -> float:
    """User and system CPU time of a process from /proc (with `waited_children`, also of
    its children that ended: Postgres backends)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if waited_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _postmaster(root: Path) -> int:
    """The postmaster's pid, from its data directory (it runs under runuser as root)."""
    return int((root / "pgdata" / "postmaster.pid").read_text().split()[0])


def _postgres_cpu(postmaster: int) -> float:
    """The postmaster, its live backends and the backends that ended."""
    total = _cpu_seconds(postmaster, waited_children=True)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == postmaster:
                total += _cpu_seconds(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue  # a backend that ended meanwhile
    return total


async def _counted(database_url: str) -> int:
    pool = await create_pool(database_url, max_size=1)
    try:
        return int(await pool.fetchval("SELECT count(*) FROM clicks") or 0)
    finally:
        await pool.close()


def _visits(url: str, zipf: Path, seconds: int) -> tuple[WrkResult, WrkResult]:
    return (
        wrk(url + "hot", seconds=seconds, connections=64),
        wrk(url, seconds=seconds, connections=64, script=zipf),
    )


def run(*, seconds: int = 6, rounds: int = 3) -> dict[str, Any]:
    alone: list[float] = []
    whole: list[float] = []
    cpu: dict[str, float] = {}
    answered = 0  # every redirect answered in the run, warm-ups included: one event each
    events = 0  # events stored while the whole pipeline was measured
    with tempfile.TemporaryDirectory(prefix="kurz-bench-pipeline-") as tmp:
        root = Path(tmp)
        with local_servers(root) as (pg, rd):
            apply_migrations(pg.url)
            port = free_port()
            asyncio.run(_create_links(pg.url, rd.url, f"127.0.0.1:{port}"))
            env = {**edge_env(pg.url, rd.url, port), "KURZ_WORKERS": "1"}
            zipf = root / "zipf.lua"
            zipf.write_text(_ZIPF_LUA % {"n": ZIPF_LINKS})
            url = f"http://127.0.0.1:{port}/"
            edge_cmd = [sys.executable, "-m", "kurz_redirector"]
            for _ in range(rounds):
                edge = _start(edge_cmd, env, port, root / "redirector.log")
                try:
                    answered += wrk(url + "hot", seconds=1, connections=8).requests
                    hot, mixed = _visits(url, zipf, seconds)
                    answered += hot.requests + mixed.requests
                    alone.append((hot.requests + mixed.requests) / (2 * seconds))
                finally:
                    _stop(edge)
                others = []
                for name, module in CONSUMERS:
                    other_port = free_port()
                    others.append((name, _start([sys.executable, "-m", module],
                                                {**env, "KURZ_PORT": str(other_port)},
                                                other_port, root / f"{name}.log")))  # fmt: skip
                edge = _start(edge_cmd, env, port, root / "redirector.log")
                try:
                    # What the redirector alone wrote is stored first, outside the measure.
                    before = _wait_stored(pg.url, answered)
                    pids = {"edge": edge.pid, "stream": rd.process.pid}  # type: ignore[union-attr]
                    pids |= {name: proc.pid for name, proc in others}
                    started = {name: _cpu_seconds(pid) for name, pid in pids.items()}
                    postmaster = _postmaster(pg.root)
                    pg_started = _postgres_cpu(postmaster)
                    answered += wrk(url + "hot", seconds=1, connections=8).requests
                    hot, mixed = _visits(url, zipf, seconds)
                    answered += hot.requests + mixed.requests
                    whole.append((hot.requests + mixed.requests) / (2 * seconds))
                    after = _wait_stored(pg.url, answered)
                    for name, pid in pids.items():
                        cpu[name] = cpu.get(name, 0.0) + _cpu_seconds(pid) - started[name]
                    pg_used = _postgres_cpu(postmaster) - pg_started
                    cpu["postgres"] = cpu.get("postgres", 0.0) + pg_used
                    events += after - before
                finally:
                    _stop(edge)
                    for _, proc in others:
                        _stop(proc)
            stored = asyncio.run(_counted(pg.url))
    middle = rounds // 2
    result: dict[str, Any] = {
        "redirector_alone_redirects_per_s": sorted(alone)[middle],
        "whole_pipeline_redirects_per_s": sorted(whole)[middle],
        "ratio_whole_to_alone": sorted(w / a for w, a in zip(whole, alone, strict=True))[middle],
        "redirects_answered": answered,
        "click_events_stored": stored,
        # wrk does not count the answers in flight when it stops: more events than its
        # count is no error, fewer is a loss.
        "click_events_lost": max(0, answered - stored),
    }
    for name, used in cpu.items():
        key = name.replace("-", "_")
        result[f"cpu_us_per_event_{key}"] = used / max(events, 1) * 1e6
    return result


def _wait_stored(database_url: str, wanted: int, timeout: float = 300) -> int:
    """Stored clicks once they reach `wanted` (or whatever is stored at the timeout: the
    shortfall is then reported as lost)."""
    deadline = time.monotonic() + timeout
    stored = asyncio.run(_counted(database_url))
    while stored < wanted and time.monotonic() < deadline:
        time.sleep(0.5)
        stored = asyncio.run(_counted(database_url))
    return stored


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
