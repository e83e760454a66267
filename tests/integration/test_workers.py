"""kurz.serve with several uvicorn workers (kurz.workers), as real processes: a listening
socket per worker and connections spread over them, a dead worker replaced on its socket,
SIGHUP replacing every worker, a worker that cannot start stopping the rest, an address in
use refused, a clean stop, and no worker outliving the supervisor."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kurz.dev.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 64


@contextlib.contextmanager
def supervisor(port: int, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m tests.support.pid_app` with two workers; killed with its workers after."""
    settings = {"KURZ_PORT": str(port), "KURZ_WORKERS": "2", "KURZ_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.pid_app"],
        env={**os.environ, "PYTHONPATH": str(ROOT), **settings, **env},
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def listening_sockets(port: int) -> set[str]:
    """Inodes of the sockets listening on 127.0.0.1:`port`, from the kernel's own table."""
    wanted = f"0100007F:{port:04X}"
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return {row[9] for row in rows if row[1] == wanted and row[3] == "0A"}


def wait_until(check: Callable[[], bool], timeout: float = 30) -> None:
    """A check that cannot connect yet, or times out, counts as not yet true."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError):
            if check():
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s")
        time.sleep(0.05)


async def _pids(port: int, connections: int) -> list[int]:
    """Open `connections` at once, as a client's pool does, then ask once on each: the
    process id of the worker that accepted each."""
    pairs = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in range(connections))
    )
    pids = []
    for reader, writer in pairs:
        writer.write(b"GET / HTTP/1.1\r\nhost: workers.test\r\nconnection: close\r\n\r\n")
        response = await reader.read()
        if not response:  # an idle connection a draining worker closed (SIGHUP)
            raise ConnectionResetError("closed without an answer")
        pids.append(int(response.rpartition(b"\r\n\r\n")[2]))
        writer.close()
    return pids


def pids_answering(port: int, connections: int = CONNECTIONS) -> Counter[int]:
    """Bounded: a connection queued on a socket no worker accepts from never gets an answer."""
    return Counter(asyncio.run(asyncio.wait_for(_pids(port, connections), 10)))


def serving(port: int) -> bool:
    return len(pids_answering(port, 8)) > 0


def test_each_worker_accepts_on_its_own_socket_and_gets_a_share(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "log"
    with supervisor(port, log, KURZ_LOG_LEVEL="INFO"):
        wait_until(lambda: len(listening_sockets(port)) == 2 and serving(port))
        shares = pids_answering(port)
    assert (
        f'"msg":"starting workers","host":"127.0.0.1","port":{port},"workers":2' in log.read_text()
    )
    assert len(shares) == 2, shares
    # Spread by a hash of each connection's addresses: a share under 12 of 64 has odds
    # of about 1 in 10 million. Workers sharing one socket split the same burst about
    # 22/42 here, or leave it all to the first worker to wake.
    assert min(shares.values()) >= 12, shares


def test_a_dead_worker_is_replaced_on_its_socket(tmp_path: Path) -> None:
    """Connections the kernel gives the dead worker's socket wait for its replacement
    (the supervisor holds the socket open): every one is answered, none reset."""
    port = free_port()
    with supervisor(port, tmp_path / "log") as process:
        wait_until(lambda: len(pids_answering(port)) == 2)
        sockets = listening_sockets(port)
        victim = next(iter(pids_answering(port)))
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: not Path(f"/proc/{victim}").exists() or _zombie(victim))
        answered = asyncio.run(asyncio.wait_for(_pids(port, CONNECTIONS), 60))
        assert len(answered) == CONNECTIONS and victim not in answered
        assert len(set(answered)) == 2  # the replacement took its share
        assert listening_sockets(port) == sockets
        assert process.poll() is None


def _zombie(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_sighup_replaces_every_worker_on_the_same_sockets(tmp_path: Path) -> None:
    port = free_port()
    with supervisor(port, tmp_path / "log") as process:
        wait_until(lambda: len(pids_answering(port)) == 2)
        sockets, before = listening_sockets(port), set(pids_answering(port))
        process.send_signal(signal.SIGHUP)
        # Until the last predecessor has drained, it may still take a connection (and
        # close it unanswered, as idle): wait for answers from successors alone.
        wait_until(lambda: _successors_only(set(pids_answering(port)), before), timeout=60)
        assert listening_sockets(port) == sockets
        assert process.poll() is None


def _successors_only(answering: set[int], before: set[int]) -> bool:
    return len(answering) == 2 and not answering & before


def test_workers_do_not_outlive_the_supervisor(tmp_path: Path) -> None:
    """Killed outright (OOM, SIGKILL), the supervisor takes its workers with it: none is
    left serving on the address for the next start to find taken."""
    port = free_port()
    with supervisor(port, tmp_path / "log") as process:
        wait_until(lambda: len(pids_answering(port)) == 2)
        workers = set(pids_answering(port))
        process.kill()
        process.wait()
        wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers))
        assert not listening_sockets(port)


def test_sigterm_stops_every_worker_with_status_zero(tmp_path: Path) -> None:
    port = free_port()
    with supervisor(port, tmp_path / "log") as process:
        wait_until(lambda: serving(port))
        workers = set(pids_answering(port))
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, (tmp_path / "log").read_text()
        for pid in workers:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert not listening_sockets(port)


def test_a_worker_that_cannot_start_stops_the_supervisor(tmp_path: Path) -> None:
    """Restarting it would fail the same way, forever: stop with uvicorn's startup-failure
    status (3) instead, for the orchestrator to see."""
    port = free_port()
    log = tmp_path / "log"
    with supervisor(port, log, PID_APP_REFUSE_STARTUP="1") as process:
        assert process.wait(60) == 3, log.read_text()
    assert "worker failed to start" in log.read_text()
    assert not listening_sockets(port)


def test_an_address_in_use_is_refused(tmp_path: Path) -> None:
    """Even by another SO_REUSEPORT group, which the kernel would let this one join to
    share the port unnoticed."""
    log = tmp_path / "log"
    with socket.create_server(("127.0.0.1", 0), reuse_port=True) as taken:
        port = taken.getsockname()[1]
        with supervisor(port, log) as process:
            assert process.wait(60) == 3, log.read_text()
        assert '"msg":"cannot listen"' in log.read_text()
        assert "Address already in use" in log.read_text()
        assert listening_sockets(port) == {_inode(taken)}  # the holder's, still listening


def _inode(sock: socket.socket) -> str:
    return os.readlink(f"/proc/self/fd/{sock.fileno()}").removeprefix("socket:[").rstrip("]")
