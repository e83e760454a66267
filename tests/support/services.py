"""Run kurz's services as real processes on free ports, for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kurz.dev.servers import free_port

from tests.support.push_service import VAPID_PRIVATE, VAPID_PUBLIC

MODULES = {
    "management": "kurz_management",
    "redirector": "kurz_redirector",
    "aggregator": "kurz_aggregator",
    "webhook-worker": "kurz_webhooks",
}


@dataclass
class Service:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Service:
        self.process = subprocess.Popen(
            [sys.executable, "-m", MODULES[self.name]],
            env={**self.env, "KURZ_PORT": str(self.port)},
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log.read_text()[-3000:]}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen within {timeout}s")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def restart(self) -> Service:
        self.stop()
        return self.start()


@dataclass
class Stack:
    """The four services against one Postgres and one Redis."""

    env: dict[str, str]
    logs: Path
    services: dict[str, Service] = field(default_factory=dict)

    def add(self, name: str, **extra_env: str) -> Service:
        port = free_port()
        env = {**self.env, **extra_env}
        if name == "redirector":  # a spool of its own, kept across its restarts
            env.setdefault("KURZ_EDGE_SPOOL_DIR", str(self.logs / f"spool-{port}"))
        svc = Service(name, port, env, self.logs / f"{name}.log")
        self.services[name] = svc
        return svc

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    def stop(self) -> None:
        for svc in self.services.values():
            svc.stop()


def service_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a service under test: the suite's own settings, none of the
    caller's KURZ_ ones, except KURZ_TEST_SERVER, which runs every service under that
    ASGI server (`KURZ_TEST_SERVER=granian make test` runs the suite under granian;
    `KURZ_TEST_SERVER=kurz`, the redirector under kurz's own HTTP protocol, ADR 0015)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURZ_")}
    if server := os.environ.get("KURZ_TEST_SERVER"):
        env["KURZ_SERVER"] = server
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        KURZ_WEBHOOK_ALLOW_PRIVATE="true",
        KURZ_WEBHOOK_RETRY_SCHEDULE="0.2,0.4,0.8",
        KURZ_LOG_LEVEL="INFO",
        KURZ_VAPID_PRIVATE_KEY=VAPID_PRIVATE,
        KURZ_VAPID_PUBLIC_KEY=VAPID_PUBLIC,
    )
    env.update(extra)  # a test's own value wins (an empty one turns a setting off)
    return env


def one_service(name: str, env: dict[str, str], logs: Path) -> Iterator[Service]:
    """One service of a stack of its own, logging under `logs`, for a fixture to
    `yield from`: started first, stopped at teardown."""
    logs.mkdir(parents=True, exist_ok=True)
    stack = Stack(env, logs)
    yield stack.add(name).start()
    stack.stop()


def edge_addressed_stack(
    database_url: str, redis_url: str, logs: Path, *more: str, **extra: str
) -> Stack:
    """Management, the redirector and then the services in `more`, all started; the
    default short domain is the redirector's own address, so every short URL the API
    answers is directly reachable. A service that fails to start stops the others."""
    port = free_port()
    logs.mkdir(parents=True, exist_ok=True)
    env = service_env(database_url, redis_url, KURZ_DEFAULT_DOMAIN=f"127.0.0.1:{port}", **extra)
    stack = Stack(env, logs)
    try:
        stack.add("management").start()
        redirector = stack.add("redirector")
        redirector.port = port
        redirector.start()
        for name in more:
            stack.add(name).start()
    except BaseException:
        stack.stop()
        raise
    return stack
