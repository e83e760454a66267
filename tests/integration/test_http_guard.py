"""kurz.http_guard on a real server (tests.support.pid_app under kurz.serve): the limits'
answers, each on a raw socket, and the connection cap shedding the idle first."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kurz.dev.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "KURZ_PORT": str(port),
        "KURZ_LOG_LEVEL": "WARNING", "KURZ_HTTP_MAX_HEADER_BYTES": "4096",
        "KURZ_HTTP_MAX_URL_BYTES": "1024", "KURZ_HTTP_HEAD_TIMEOUT": "1",
        "KURZ_HTTP_MAX_CONNECTIONS": "20",
    }  # fmt: skip
    log = tmp_path_factory.mktemp("guard") / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.pid_app"], env=env, cwd=ROOT,
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield port
    finally:
        process.kill()
        process.wait()


def _exchange(port: int, *parts: bytes, pause: float = 0.0) -> bytes:
    """Send `parts` (a pause between them), then read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), 10) as sock:
        with contextlib.suppress(OSError):
            for part in parts:
                sock.sendall(part)
                time.sleep(pause)
        received = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                received += chunk
        return received


def test_a_plain_request_is_answered(port: int) -> None:
    assert _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(
        b"HTTP/1.1 200"
    )


def test_a_head_too_large_gets_431(port: int) -> None:
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: "
    answer = _exchange(port, head, b"a" * 3000, b"a" * 3000, b"\r\n\r\n", pause=0.05)
    assert answer.startswith(b"HTTP/1.1 431")


def test_a_head_of_many_small_reads_counts_them_all(port: int) -> None:
    parts = [b"GET / HTTP/1.1\r\nHost: x\r\n"] + [b"X-A: " + b"b" * 500 + b"\r\n"] * 12
    assert _exchange(port, *parts, pause=0.01).startswith(b"HTTP/1.1 431")


def test_a_long_target_gets_414(port: int) -> None:
    answer = _exchange(port, b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 414")


def test_a_head_that_does_not_arrive_in_time_gets_408(port: int) -> None:
    answer = _exchange(port, b"GET / HTTP/1.1\r\n", b"Host: x\r\n", pause=0.8)
    assert answer.startswith(b"HTTP/1.1 408")


def test_an_idle_connection_is_closed_after_the_head_timeout(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), 10) as sock:
        assert sock.recv(100) == b""  # closed without a word, about a second later


def test_a_request_pipelined_ahead_of_garbage_is_answered_first(port: int) -> None:
    answer = _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01garbage\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"HTTP/1.1 400" in answer


def test_past_the_cap_the_idle_are_shed_and_the_newcomer_served(port: int) -> None:
    idle = [socket.create_connection(("127.0.0.1", port), 10) for _ in range(30)]
    try:
        time.sleep(0.2)
        answer = _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200")
        closed = 0
        for sock in idle:
            sock.settimeout(0.5)
            with contextlib.suppress(TimeoutError):
                closed += sock.recv(10) == b""
        assert closed >= 10  # the oldest idle ones, to stay at 20
    finally:
        for sock in idle:
            sock.close()
