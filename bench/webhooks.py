"""Webhook benchmark: deliveries/s from the worker (a real process) to a local receiver,
and the delay from click to delivery, under a steady click rate and in a burst.

Loopback only, bounded: `rate` clicks/s for `seconds`, then a burst of `burst` clicks.
Target: 2,000 deliveries/s sustained, p99 delay under 1 s with a healthy receiver.

    uv run python -m bench.webhooks [rate] [seconds] [burst] [per_endpoint]
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from kurz import keys
from kurz.db import create_pool
from kurz.dev.servers import _wait_port, free_port, local_servers
from kurz.events import FIELD, ClickEvent, encode_event, new_event_id
from kurz.migrate import apply_migrations
from kurz.workspaces import create_workspace


class _Receiver:
    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.duplicates = 0

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        message_id = request.headers["webhook-id"]
        if message_id in self.arrived:
            self.duplicates += 1
        else:
            self.arrived[message_id] = time.time()
        return web.Response(status=204)


def _click(link_id: int, workspace_id: int, slug: str) -> ClickEvent:
    return ClickEvent(
        id=new_event_id(),
        at=time.time(),
        workspace_id=workspace_id,
        link_id=link_id,
        group_id=None,
        host="bench.test",
        slug=slug,
        destination="https://example.com/",
        rule=None,
        outcome="redirect",
        visitor=uuid.uuid4().hex,
        country="DE",
        referrer=None,
        user_agent="bench",
    )


async def _produce(
    redis: aioredis.Redis, make: Any, rate: int, seconds: float, sent: dict[str, float]
) -> None:
    """XADD `rate` clicks a second in 10 ms slices, pipelined like the redirector does."""
    start = time.monotonic()
    done = 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) - done
        if due > 0:
            pipe = redis.pipeline(transaction=False)
            for _ in range(due):
                event = make()
                sent[f"evt_{event.id}"] = event.at
                pipe.xadd(keys.CLICK_STREAM, {FIELD: encode_event(event)})
            await pipe.execute()
            done += due
        await asyncio.sleep(0.01)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(
    prefix: str, sent: dict[str, float], receiver: _Receiver, wall: float
) -> dict[str, Any]:
    delays = [receiver.arrived[i] - at for i, at in sent.items() if i in receiver.arrived]
    return {
        f"{prefix}_clicks": len(sent),
        f"{prefix}_delivered": len(delays),
        f"{prefix}_deliveries_per_s": len(delays) / wall if wall else 0.0,
        f"{prefix}_delay_p50_s": _percentile(delays, 0.50),
        f"{prefix}_delay_p99_s": _percentile(delays, 0.99),
        f"{prefix}_delay_max_s": max(delays, default=float("nan")),
    }


async def _wait_delivered(receiver: _Receiver, sent: dict[str, float], timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if all(i in receiver.arrived for i in sent):
            break
        await asyncio.sleep(0.05)
    return max((receiver.arrived.get(i, 0.0) for i in sent), default=0.0)


async def _bench(
    database_url: str,
    redis_url: str,
    log: Path,
    rate: int,
    seconds: float,
    burst: int,
    per_endpoint: int,
) -> dict[str, Any]:
    receiver = _Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    hook_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", hook_port, backlog=1024).start()
    pool = await create_pool(database_url, max_size=2)
    async with pool.acquire() as conn:
        workspace_id, _ = await create_workspace(conn, "bench")
        link_id = await conn.fetchval(
            """INSERT INTO links (workspace_id, host, slug, url, webhook_urls)
               VALUES ($1, 'bench.test', 'b', 'https://example.com/', $2) RETURNING id""",
            workspace_id,
            [f"http://127.0.0.1:{hook_port}/hook"],
        )
    await pool.close()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KURZ_")},
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "KURZ_PORT": str(port),
        "KURZ_WEBHOOK_ALLOW_PRIVATE": "true",
        "KURZ_LOG_LEVEL": "WARNING",
        "KURZ_WEBHOOK_PER_ENDPOINT": str(per_endpoint),
        **{k: v for k, v in os.environ.items() if k.startswith("KURZ_WEBHOOK_")},
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "kurz_webhooks"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    redis = aioredis.Redis.from_url(redis_url)
    try:
        _wait_port(port, 30)

        def make() -> ClickEvent:
            return _click(link_id, workspace_id, "b")

        steady: dict[str, float] = {}
        started = time.time()
        await _produce(redis, make, rate, seconds, steady)
        last = await _wait_delivered(receiver, steady, 60)
        result = _summary("steady", steady, receiver, max(last, started + seconds) - started)
        burst_sent: dict[str, float] = {}
        if burst:
            started = time.time()
            for start in range(0, burst, 1000):
                pipe = redis.pipeline(transaction=False)
                for _ in range(min(1000, burst - start)):
                    event = make()
                    burst_sent[f"evt_{event.id}"] = event.at
                    pipe.xadd(keys.CLICK_STREAM, {FIELD: encode_event(event)})
                await pipe.execute()
            last = await _wait_delivered(receiver, burst_sent, 120)
            result |= _summary("burst", burst_sent, receiver, last - started)
        result["rate_asked"] = rate
        result["duplicates"] = receiver.duplicates
        cpu = _cpu_seconds(worker.pid)
        result["worker_cpu_s"] = cpu
        result["worker_cpu_ms_per_delivery"] = 1000 * cpu / max(1, len(receiver.arrived))
        return result
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        await redis.aclose()
        await runner.cleanup()


def run(
    rate: int = 2000, seconds: float = 10.0, burst: int = 10_000, per_endpoint: int = 64
) -> dict[str, Any]:
    """One receiver gets every delivery, so its slots (`per_endpoint`, 8 by default in
    production) bound the rate: at most per_endpoint / receiver latency."""
    with tempfile.TemporaryDirectory(prefix="kurz-bench-webhooks-") as tmp:
        root = Path(tmp)
        with local_servers(root) as (pg, rd):
            apply_migrations(pg.url)
            log = root / "worker.log"
            result = asyncio.run(_bench(pg.url, rd.url, log, rate, seconds, burst, per_endpoint))
            result["per_endpoint_concurrency"] = per_endpoint
            if result.get("steady_delivered") != result.get("steady_clicks"):
                result["worker_log_tail"] = log.read_text()[-3000:]
            return result


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:5]]
    for key, value in run(*args).items():
        print(f"{key:28} {value:,.3f}" if isinstance(value, float) else f"{key:28} {value}")
