"""Run kurz's services as real processes on free ports, for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kurz.dev.servers import free_port

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
        svc = Service(name, free_port(), {**self.env, **extra_env}, self.logs / f"{name}.log")
        self.services[name] = svc
        return svc

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    def stop(self) -> None:
        for svc in self.services.values():
            svc.stop()


def service_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURZ_")}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        KURZ_WEBHOOK_ALLOW_PRIVATE="true",
        KURZ_WEBHOOK_RETRY_SCHEDULE="0.2,0.4,0.8",
        KURZ_LOG_LEVEL="INFO",
        **extra,
    )
    return env
