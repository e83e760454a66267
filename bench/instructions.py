"""Instructions per redirect, counted by valgrind's callgrind: the redirector (hot link,
events durable in Redis) under uvicorn and under kurz's own protocol (KURZ_SERVER=kurz),
both raw-ASGI baselines under uvicorn and the bare protocol, one worker each.

Throughput on a shared two-CPU machine moves by several percent between runs; the number
of instructions a process executes for the same requests does not. Each server runs under
callgrind, takes a warm-up, has its counters zeroed, then serves a fixed number of
requests from a fixed number of keep-alive connections; its instructions over that load,
divided by the requests, are the figure. User-space instructions only: the kernel's share
(socket reads and writes, much the same for all three) is not counted.

    uv run python -m bench.instructions [--requests 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kurz.dev.servers import _wait_port, free_port, local_servers
from kurz.migrate import apply_migrations

from bench import redirect

CONNECTIONS = 64
_REQUEST = "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mozilla/5.0 (bench)\r\n\r\n"


async def _load(port: int, path: str, requests: int) -> int:
    """`requests` GETs over CONNECTIONS keep-alive connections; the count answered 3xx."""

    async def connection(count: int) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = _REQUEST.format(path=path, host=f"127.0.0.1:{port}").encode()
        redirects = 0
        try:
            for _ in range(count):
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                redirects += head[9:10] == b"3"
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:") and int(line[15:]):
                        await reader.readexactly(int(line[15:]))
        finally:
            writer.close()
        return redirects

    per = requests // CONNECTIONS
    return sum(await asyncio.gather(*(connection(per) for _ in range(CONNECTIONS))))


def _dumped_instructions(out: Path) -> int:
    """Total of the dump callgrind_control asked for (callgrind numbers dump files)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for dump in out.parent.glob(out.name + "*"):
            for line in dump.read_text().splitlines():
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
        time.sleep(0.5)  # the process writes the dump itself, when it next runs
    raise RuntimeError(f"callgrind wrote no dump beside {out}")


def _count(cmd: list[str], env: dict[str, str], port: int, path: str, root: Path, n: int) -> float:
    out = root / f"callgrind.{port}"
    valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    log = (root / f"valgrind.{port}.log").open("wb")
    proc = subprocess.Popen([*valgrind, *cmd], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_port(port, 300)
        asyncio.run(_load(port, path, 2 * CONNECTIONS))  # warm: caches, code paths
        subprocess.run(
            ["callgrind_control", "--zero", str(proc.pid)], check=True, capture_output=True
        )
        answered = asyncio.run(_load(port, path, n))
        if answered != n // CONNECTIONS * CONNECTIONS:
            raise RuntimeError(f"{answered} redirects of {n} requests on {path}")
        subprocess.run(
            ["callgrind_control", "--dump", str(proc.pid)], check=True, capture_output=True
        )
        return _dumped_instructions(out) / answered
    finally:
        proc.kill()
        proc.wait()
        log.close()


def run(requests: int = 10_000) -> dict[str, Any]:
    if shutil.which("valgrind") is None:
        return {"skipped": "valgrind is not installed (apt-get install valgrind)"}
    with tempfile.TemporaryDirectory(prefix="kurz-instructions-") as tmp:
        root = Path(tmp)
        with local_servers(root) as (pg, rd):
            apply_migrations(pg.url)
            port = free_port()
            host = f"127.0.0.1:{port}"
            asyncio.run(redirect._create_links(pg.url, rd.url, host, others=0))
            env = redirect.edge_env(pg.url, rd.url, port)
            stock_port, same_port, bare_port = free_port(), free_port(), free_port()
            counts = {
                "baseline_stock_server": _count(
                    redirect.stock_baseline_cmd("uvicorn", 1, stock_port),
                    env,
                    stock_port,
                    "/",
                    root,
                    requests,
                ),
                "baseline_kurz_options": _count(
                    *redirect.same_options_baseline(env, same_port), same_port, "/", root, requests
                ),
                "redirector_hot_link": _count(
                    [sys.executable, "-m", "kurz_redirector"], env, port, "/hot", root, requests
                ),
                # kurz's own HTTP/1.1 protocol (KURZ_SERVER=kurz, ADR 0015).
                "redirector_hot_link_kurz_protocol": _count(
                    [sys.executable, "-m", "kurz_redirector"],
                    {**env, "KURZ_SERVER": "kurz"},
                    port,
                    "/hot",
                    root,
                    requests,
                ),
                "bare_protocol": _count(
                    redirect.bare_protocol_cmd(1, bare_port), env, bare_port, "/", root, requests
                ),
            }
    redirector = counts["redirector_hot_link"]
    own = counts["redirector_hot_link_kurz_protocol"]
    return {
        "requests": requests,
        **{f"{name} per request": round(value) for name, value in counts.items()},
        "ratio to stock baseline": round(counts["baseline_stock_server"] / redirector, 3),
        "ratio to same-options baseline": round(counts["baseline_kurz_options"] / redirector, 3),
        "kurz protocol: ratio to stock baseline": round(counts["baseline_stock_server"] / own, 3),
        "kurz protocol: ratio to bare protocol": round(counts["bare_protocol"] / own, 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    print(json.dumps(run(parser.parse_args().requests), indent=2))
