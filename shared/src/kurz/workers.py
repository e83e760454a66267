"""Several uvicorn worker processes, each accepting on its own listening socket.

uvicorn's own supervisor binds one socket and shares it: every worker's event loop wakes
on a new connection and the first to run accepts all that are waiting, so a burst of
connections (a client or a proxy opening its pool) lands mostly on one worker. Here, 64
connections opened at once split about 22/42 over two workers, and the busier worker's
queue set the tail latency. With one socket per worker in a SO_REUSEPORT group, the
kernel assigns each connection by a hash of its addresses instead (about 29/35 here), as
nginx's `reuseport` does.

The supervisor owns the sockets, so connections queued on a worker's socket wait for its
replacement instead of being reset. It replaces a worker that dies, stops when one fails
to start (its replacement would fail too), and on SIGTERM or SIGINT stops the workers,
each draining its connections first.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import multiprocessing
import signal
import socket
import sys
import threading
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter: no loop or pool inherited


class _Server(uvicorn.Server):
    """Tells the supervisor once it serves: a worker that dies before that failed to
    start (bad settings, an app that cannot import, a lifespan that refused)."""

    def __init__(self, config: uvicorn.Config, serving: Event) -> None:
        super().__init__(config)
        self._serving = serving

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._serving.set()


def exit_cleanly(signum: int, frame: FrameType | None) -> None:
    """A signal handler: uvicorn drains on SIGTERM, then re-raises the signal to the
    handler it found; this one makes that a clean exit (status 0 for Kubernetes)."""
    sys.exit(0)


def _work(config: uvicorn.Config, sock: socket.socket, serving: Event) -> None:
    """A worker process: serve on `sock` until told to stop."""
    config.configure_logging()
    signal.signal(signal.SIGTERM, exit_cleanly)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole group
        _Server(config, serving).run(sockets=[sock])


class _Worker:
    def __init__(self, config: uvicorn.Config, sock: socket.socket) -> None:
        self.config, self.sock = config, sock
        self.serving = _SPAWN.Event()
        self.process: BaseProcess = _SPAWN.Process(
            target=_work, args=(config, sock, self.serving), name="kurz-worker"
        )
        self.process.start()

    def replacement(self) -> _Worker:
        return _Worker(self.config, self.sock)


def listening_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """`count` sockets listening on one address, the kernel spreading connections over
    them. Refuses an address already in use: SO_REUSEPORT alone would let a second server
    of the same user join the group and take a share of the connections unnoticed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SystemExit(f"{host}:{port} is already in use") from exc
            raise
        port = probe.getsockname()[1]  # port 0: the one the kernel chose, for every socket
    sockets = []
    for _ in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sockets.append(sock)
    return sockets


def run_workers(config: uvicorn.Config, count: int) -> None:
    """Serve `config` with `count` worker processes until SIGTERM or SIGINT."""
    sockets = listening_sockets(config.host, config.port, count, config.backlog)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    workers = [_Worker(config, sock) for sock in sockets]
    host, port = sockets[0].getsockname()[:2]
    log.info("serving", extra={"host": host, "port": port, "workers": count})
    try:
        started = _supervise(workers, stop)
    finally:
        _stop(workers, config.timeout_graceful_shutdown)
        for sock in sockets:
            sock.close()
    if not started:
        sys.exit(STARTUP_FAILURE)


def _supervise(workers: list[_Worker], stop: threading.Event) -> bool:
    """Replace workers that die until `stop`; False once one dies before serving."""
    while not stop.is_set():
        wait([w.process.sentinel for w in workers], timeout=0.5)
        for slot, worker in enumerate(workers):
            if stop.is_set() or worker.process.is_alive():
                continue
            worker.process.join()
            status = {"exitcode": worker.process.exitcode}
            if not worker.serving.is_set():
                log.error("worker failed to start; stopping", extra=status)
                return False
            log.warning("worker died; starting another", extra=status)
            workers[slot] = worker.replacement()
    return True


def _stop(workers: list[_Worker], grace: int | None) -> None:
    """SIGTERM: each worker drains its connections; one still running after the grace
    period (and a margin for its shutdown hooks) is killed."""
    for worker in workers:
        if worker.process.is_alive():
            worker.process.terminate()
    for worker in workers:
        worker.process.join((grace or 30) + 10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
