"""Bulk link creation through the native API, end to end over HTTP.

Targets: 1000 links in one request in under 1 s, and 100,000 links through
successive requests at 5,000 links/s or more.

`run()` starts its own throwaway Postgres, Redis and management server; give
`base_url` and `api_key` to measure a running server instead:

    uv run python -m bench.bulk_create [--url http://127.0.0.1:8000 --key KEY]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec

HERE = Path(__file__).resolve().parent
BATCH = 1000


def _links(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "url": f"https://bench.example/item/{i}?ref=bulk",
            "title": f"bench {i}",
            "utmSource": "bench",
            "maxClicks": 1000,
        }
        for i in range(start, start + count)
    ]


class _Created(msgspec.Struct):
    """Just enough of the answer to count it: the bench measures kurz, not its client."""

    links: list[msgspec.Raw]


def _post(client: httpx.Client, links: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    r = client.post(
        "/api/v1/links/bulk",
        content=msgspec.json.encode({"links": links}),
        headers={"Content-Type": "application/json"},
    )
    elapsed = time.perf_counter() - started
    if r.status_code != 201:
        raise RuntimeError(f"bulk request failed: {r.status_code} {r.text[:500]}")
    created = len(msgspec.json.decode(r.content, type=_Created).links)
    if created != len(links):
        raise RuntimeError(f"{created} of {len(links)} links created")
    return elapsed


def measure(
    base_url: str, api_key: str, *, total: int = 100_000, batch: int = BATCH, single_runs: int = 5
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
        _post(client, _links(0, 10))  # warm up connections and prepared statements
        singles = [_post(client, _links(i * batch, batch)) for i in range(single_runs)]
        started = time.perf_counter()
        done = 0
        while done < total:
            count = min(batch, total - done)
            _post(client, _links(1_000_000 + done, count))
            done += count
        elapsed = time.perf_counter() - started
    return {
        "one_request_links": batch,
        "one_request_median_s": round(statistics.median(singles), 3),
        "one_request_best_s": round(min(singles), 3),
        "one_request_target_met": statistics.median(singles) < 1.0,
        "sustained_links": total,
        "sustained_seconds": round(elapsed, 2),
        "sustained_links_per_s": round(total / elapsed),
        "sustained_target_met": total / elapsed >= 5000,
    }


@contextlib.contextmanager
def _local_management(root: Path) -> Iterator[tuple[str, str]]:
    """Throwaway Postgres and Redis, a workspace, and a management server on them."""
    from kurz.dev.servers import _wait_port, free_port, local_servers
    from kurz.migrate import apply_migrations

    with local_servers(root) as (pg, rd):
        apply_migrations(pg.url)
        domain = "bench.kurz.test"
        key = asyncio.run(_workspace(pg.url, domain))
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": pg.url,
            "REDIS_URL": rd.url,
            "KURZ_DEFAULT_DOMAIN": domain,
            "KURZ_LOG_LEVEL": "WARNING",
            "KURZ_API_RATE_LIMIT": "100000",
            "KURZ_PORT": str(port),
            "PYTHONPATH": str(HERE.parent),
        }
        with (root / "management.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "kurz_management"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_port(port, 30)
            yield f"http://127.0.0.1:{port}", key
        finally:
            proc.terminate()
            proc.wait(30)


async def _workspace(database_url: str, domain: str) -> str:
    import asyncpg
    from kurz.workspaces import create_workspace, ensure_default_domain

    conn = await asyncpg.connect(database_url)
    try:
        await ensure_default_domain(conn, domain)
        _, key = await create_workspace(conn, "bench")
        return key
    finally:
        await conn.close()


def run(
    base_url: str | None = None,
    api_key: str | None = None,
    *,
    total: int = 100_000,
    batch: int = BATCH,
) -> dict[str, Any]:
    if base_url and api_key:
        return measure(base_url, api_key, total=total, batch=batch)
    with (
        tempfile.TemporaryDirectory(prefix="kurz-bench-bulk-") as tmp,
        _local_management(Path(tmp)) as (url, key),
    ):
        return measure(url, key, total=total, batch=batch)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running management server")
    parser.add_argument("--key", help="an API key of a workspace on it")
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.key, total=args.total, batch=args.batch), indent=2))
