"""The cost of `KURZ_EDGE_WAIT_REPLICAS`: the hot link with each batch of click events
held until a Redis replica has it (Redis `WAIT`), against the same redirector answering
once the master has it, alternately in one run, against a real replica on loopback.
Bounded in seconds and connections.

    uv run python -m bench.wait_replicas
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from kurz.dev.servers import Redis, free_port, local_servers
from kurz.migrate import apply_migrations

from bench.redirect import _create_links, _start, _stop, edge_env
from bench.wrk import WrkResult
from bench.wrk import run as wrk


def _replica_of(master: Redis, root: Path) -> Redis:
    """A replica of the master, started and caught up."""
    replica = Redis(
        root / "replica", free_port(), options=("--replicaof", "127.0.0.1", str(master.port))
    ).start()
    client = redis.Redis(port=replica.port)
    deadline = time.monotonic() + 30
    while client.info("replication").get("master_link_status") != "up":
        if time.monotonic() > deadline:
            raise RuntimeError("the replica did not catch up")
        time.sleep(0.1)
    return replica


def _median(results: list[WrkResult], key: str) -> float:
    values = sorted(getattr(r, key) for r in results)
    return float(values[len(values) // 2])


def run(*, seconds: int = 6, rounds: int = 3, connections: int = 64) -> dict[str, Any]:
    """Rounds of the hot link without and with WAIT 1, one redirector worker each."""
    without: list[WrkResult] = []
    waiting: list[WrkResult] = []
    with tempfile.TemporaryDirectory(prefix="kurz-bench-wait-") as tmp:
        root = Path(tmp)
        with local_servers(root) as (pg, rd):
            apply_migrations(pg.url)
            replica = _replica_of(rd, root)
            try:
                port = free_port()
                asyncio.run(_create_links(pg.url, rd.url, f"127.0.0.1:{port}", others=10))
                env = {**edge_env(pg.url, rd.url, port), "KURZ_WORKERS": "1"}
                url = f"http://127.0.0.1:{port}/hot"
                for _ in range(rounds):
                    for results, replicas in ((without, "0"), (waiting, "1")):
                        edge = _start(
                            [sys.executable, "-m", "kurz_redirector"],
                            {**env, "KURZ_EDGE_WAIT_REPLICAS": replicas},
                            port,
                            root / "redirector.log",
                        )
                        try:
                            wrk(url, seconds=1, connections=8)  # into the local cache
                            results.append(wrk(url, seconds=seconds, connections=connections))
                        finally:
                            _stop(edge)
            finally:
                replica.stop()
    ratios = sorted(
        w.requests_per_s / n.requests_per_s for w, n in zip(waiting, without, strict=True)
    )
    return {
        "hot_link_req_per_s": _median(without, "requests_per_s"),
        "hot_link_p99_ms": _median(without, "p99_ms"),
        "hot_link_wait_1_replica_req_per_s": _median(waiting, "requests_per_s"),
        "hot_link_wait_1_replica_p99_ms": _median(waiting, "p99_ms"),
        "wait_ratio_req_per_s": ratios[len(ratios) // 2],
        "wait_ratio_p99": _median(waiting, "p99_ms") / _median(without, "p99_ms"),
        "errors": sum(r.errors + r.non_2xx_3xx for r in (*without, *waiting)),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
