"""Abusive clients against each server (the redirector, fast path included, and the
management API): a 64 MB header, 2,000 connections that never send a byte and 1,000
slowloris connections trickling a head, all at once, on 127.0.0.1. Meanwhile a plain
client is answered with a p99 under 50 ms; the abusers are answered 431 and 408 or shed;
the server's memory grows by less than RSS_BOUND."""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults.conftest import FaultServers, ServiceFactory, add_redirector
from tests.faults.kit import in_thread
from tests.support.services import Service

pytestmark = pytest.mark.slow

IDLE = 2000
SLOWLORIS = 1000
BIG_HEADER = 64 * 1024 * 1024
RSS_BOUND = 96 * 1024 * 1024  # bytes the server may grow by, all of this at once
HEAD_TIMEOUT = 3.0
LIMITS = {
    "KURZ_HTTP_HEAD_TIMEOUT": str(HEAD_TIMEOUT),
    # Below the connections the abusers open: the idle ones are shed to make room.
    "KURZ_HTTP_MAX_CONNECTIONS": "1500",
}


def _rss(service: Service) -> int:
    assert service.process is not None
    for line in Path(f"/proc/{service.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@dataclass
class PlainClient:
    """tests.support.plain_client in a process of its own."""

    port: int
    path: str
    host: str
    timings: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.plain_client", str(self.port), self.path,
             self.host],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def finish(self) -> None:
        assert self.process is not None
        out, _ = self.process.communicate("", timeout=30)
        found = json.loads(out)
        self.timings, self.failures = found["timings"], found["failures"]

    def p99(self) -> float:
        return statistics.quantiles(self.timings, n=100)[98]


async def _big_header(port: int, started: asyncio.Event) -> bytes:
    """Send a header without end until the server answers or closes; its answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
    await writer.drain()
    started.set()
    answer = asyncio.create_task(reader.read(200))
    chunk = b"a" * 65536
    sent = 0
    with contextlib.suppress(ConnectionError):
        while sent < BIG_HEADER and not answer.done():
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    try:
        return await asyncio.wait_for(answer, 10)
    except (ConnectionError, TimeoutError) as exc:
        return repr(exc).encode()
    finally:
        writer.close()


async def _closed_by_server(reader: asyncio.StreamReader, within: float) -> bytes | None:
    """What the server sent before closing, or None if still open after `within`."""
    try:
        return await asyncio.wait_for(reader.read(), within)
    except TimeoutError:
        return None
    except ConnectionError:
        return b""


async def _idle(port: int) -> bytes | None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await _closed_by_server(reader, HEAD_TIMEOUT + 15)
    finally:
        writer.close()


async def _slowloris(port: int) -> bytes | None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError):
            for _ in range(60):
                await asyncio.sleep(0.5)
                writer.write(b"a")
                await writer.drain()

    dripping = asyncio.create_task(trickle())
    try:
        return await _closed_by_server(reader, HEAD_TIMEOUT + 15)
    finally:
        dripping.cancel()
        writer.close()


async def _attack(service: Service, path: str, host: str) -> None:
    port = service.port
    before = _rss(service)
    plain = PlainClient(port, path, host)
    plain.start()
    try:
        # Begun first: a connection that has sent nothing yet is the first to be shed.
        started = asyncio.Event()
        big = asyncio.create_task(_big_header(port, started))
        await started.wait()
        idle = [asyncio.create_task(_idle(port)) for _ in range(IDLE)]
        slow = [asyncio.create_task(_slowloris(port)) for _ in range(SLOWLORIS)]
        peak = 0
        while not all(t.done() for t in [big, *idle, *slow]):
            peak = max(peak, _rss(service))
            await asyncio.sleep(0.2)
    finally:
        await in_thread(plain.finish)
    assert big.result().startswith(b"HTTP/1.1 431"), big.result()[:80]
    # Every abuser was closed by the server, none left open: idle ones (shed, or past
    # the head deadline) without a word, slowloris ones with 408 or shed.
    assert all(t.result() is not None for t in idle)
    assert all(t.result() is not None for t in slow)
    answered = [answer for t in slow if (answer := t.result())]
    assert answered and all(a.startswith(b"HTTP/1.1 408") for a in answered)
    assert plain.failures == []
    assert len(plain.timings) > 100
    assert plain.p99() < 0.050, f"p99 {plain.p99() * 1000:.1f} ms"
    assert peak - before < RSS_BOUND, f"RSS grew by {(peak - before) >> 20} MiB"


async def test_redirector_holds_against_abusive_clients(
    fault_servers: FaultServers, services: ServiceFactory
) -> None:
    stack = services(**LIMITS)
    redirector = add_redirector(stack, fault_servers)
    await in_thread(redirector.start)
    await _attack(redirector, "/no-such-link", fault_servers.edge_host)


async def test_management_holds_against_abusive_clients(services: ServiceFactory) -> None:
    stack = services(**LIMITS)
    management = stack.add("management")
    await in_thread(management.start)
    await _attack(management, "/healthz", "127.0.0.1")
