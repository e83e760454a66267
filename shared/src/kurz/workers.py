"""Several uvicorn worker processes, each accepting on its own listening socket.

uvicorn's own supervisor binds one socket and shares it: every worker's event loop wakes
on a new connection and the first to run accepts all that are waiting, so a burst of
connections (a client or a proxy opening its pool) lands unevenly. Here, 64 connections
opened at once split 18/46 to 26/38 over two workers, and the busier worker's queue set
the tail latency. With one socket per worker in a SO_REUSEPORT group, the kernel assigns
each connection by a hash of its addresses instead (25/39 to 32/32 here, ADR 0007), as
nginx's `reuseport` does.

The supervisor owns the sockets, so connections queued on a worker's socket wait for its
replacement instead of being reset (the price of a socket per worker: while a worker is
replaced or stuck, the connections the kernel gives its socket wait, where a shared socket
would hand them to the others). It replaces a worker that dies, stops when one dies before
serving (its replacement would fail too), replaces the workers one at a time on SIGHUP,
and on SIGTERM or SIGINT stops them, each draining its connections first. Workers exit
when the supervisor does, however it ends, so none is left holding the address.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter: no loop or pool inherited
_PR_SET_PDEATHSIG = 1  # prctl(2)
_START_TIMEOUT = 60.0  # seconds a SIGHUP replacement may take to serve


class _Server(uvicorn.Server):
    """Tells the supervisor once it serves: a worker that dies before that failed to
    start (bad settings, an app that cannot import, a lifespan that refused)."""

    def __init__(self, config: uvicorn.Config, serving: Any) -> None:
        super().__init__(config)
        self._serving = serving

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._serving.value = True


def exit_cleanly(signum: int, frame: FrameType | None) -> None:
    """A signal handler: uvicorn drains on SIGTERM, then re-raises the signal to the
    handler it found; this one makes that a clean exit (status 0 for Kubernetes)."""
    sys.exit(0)


def _work(config: uvicorn.Config, sock: socket.socket, serving: Any, supervisor: int) -> None:
    """A worker process: serve on `sock` until told to stop, or until the supervisor is
    gone (SIGTERM from the kernel then, as if the supervisor had sent it)."""
    with contextlib.suppress(OSError, AttributeError):  # Linux only
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
    if os.getppid() != supervisor:  # gone before the line above took effect
        return
    config.configure_logging()
    signal.signal(signal.SIGTERM, exit_cleanly)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole group
        _Server(config, serving).run(sockets=[sock])


class _Worker:
    def __init__(self, config: uvicorn.Config, sock: socket.socket) -> None:
        self.config, self.sock = config, sock
        # Lock-free: a worker killed while setting it cannot leave a lock held.
        self.serving = _SPAWN.RawValue(ctypes.c_bool, False)
        self.process: BaseProcess = _SPAWN.Process(
            target=_work, args=(config, sock, self.serving, os.getpid()), name="kurz-worker"
        )
        self.process.start()

    def replacement(self) -> _Worker:
        return _Worker(self.config, self.sock)

    def started(self, timeout: float) -> bool:
        """Wait until the worker serves; False if it died first or took too long."""
        deadline = time.monotonic() + timeout
        while not self.serving.value:
            if not self.process.is_alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


def listening_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """`count` sockets listening on one address, the kernel spreading connections over
    them. Refuses an address already in use, even by another SO_REUSEPORT group of the
    same user, which could otherwise join this one and take a share of the connections
    unnoticed: a plain bind on the address must succeed first."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
            port = probe.getsockname()[1]  # port 0: the kernel's choice, for every socket
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(backlog)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def run_workers(config: uvicorn.Config, count: int) -> None:
    """Serve `config` with `count` worker processes until SIGTERM or SIGINT. Exits with
    uvicorn's startup-failure status (3) when the address cannot be had or a worker dies
    before serving."""
    try:
        sockets = listening_sockets(config.host, config.port, count, config.backlog)
    except OSError as exc:
        log.error(
            "cannot listen", extra={"host": config.host, "port": config.port, "error": str(exc)}
        )
        sys.exit(STARTUP_FAILURE)
    stop, reload = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    signal.signal(signal.SIGHUP, lambda signum, frame: reload.set())
    host, port = sockets[0].getsockname()[:2]
    log.info("starting workers", extra={"host": host, "port": port, "workers": count})
    workers: list[_Worker] = []
    try:
        for sock in sockets:  # one by one: if a spawn fails, those started are stopped
            workers.append(_Worker(config, sock))
        started = _supervise(workers, stop, reload)
    finally:
        _stop(workers, config.timeout_graceful_shutdown)
        for sock in sockets:
            sock.close()
    if not started:
        sys.exit(STARTUP_FAILURE)


def _supervise(workers: list[_Worker], stop: threading.Event, reload: threading.Event) -> bool:
    """Replace workers that die, and all of them on `reload`, until `stop`; False once
    one dies before serving."""
    while not stop.is_set():
        wait([w.process.sentinel for w in workers], timeout=0.5)
        if reload.is_set():
            reload.clear()
            if not _replace_all(workers, stop):
                return False
        for slot, worker in enumerate(workers):
            if stop.is_set() or worker.process.is_alive():
                continue
            worker.process.join()
            status = {"exitcode": worker.process.exitcode}
            if not worker.serving.value:
                log.error("worker failed to start; stopping", extra=status)
                return False
            log.warning("worker died; starting another", extra=status)
            workers[slot] = worker.replacement()
    return True


def _replace_all(workers: list[_Worker], stop: threading.Event) -> bool:
    """SIGHUP: each worker in turn gets a successor on its socket, and drains once the
    successor serves (new code, no connection refused)."""
    for slot, worker in enumerate(workers):
        if stop.is_set():
            return True
        successor = worker.replacement()
        if not successor.started(_START_TIMEOUT):
            log.error("replacement worker failed to start; stopping")
            _stop([successor], 0)
            return False
        _stop([worker], worker.config.timeout_graceful_shutdown)
        workers[slot] = successor
    log.info("workers replaced", extra={"workers": len(workers)})
    return True


def _stop(workers: list[_Worker], grace: int | None) -> None:
    """SIGTERM: each worker drains its connections; any still running after the grace
    period (and a margin for its shutdown hooks) is killed."""
    for worker in workers:
        if worker.process.is_alive():
            worker.process.terminate()
    deadline = time.monotonic() + (30 if grace is None else grace) + 10
    for worker in workers:
        worker.process.join(max(deadline - time.monotonic(), 0))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
