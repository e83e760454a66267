"""A Redis Sentinel set from the same binaries as every other test Redis: a master, a
replica and one Sentinel watching them (quorum 1), on free ports, for tests that fail
the master over for real."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from kurz.dev.servers import Redis, _wait_port, free_port

SERVICE = "kurz"


@dataclass
class SentinelSet:
    root: Path
    master: Redis = field(init=False)
    replica: Redis = field(init=False)
    sentinel_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        """The REDIS_URL every service takes to reach the set's master."""
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/{db}"

    def start(self) -> SentinelSet:
        # No wait before the first full sync (diskless replication waits 5 s by default).
        quick = ("--repl-diskless-sync-delay", "0")
        self.master = Redis(self.root / "a", free_port(), options=quick).start()
        self.replica = Redis(
            self.root / "b",
            free_port(),
            options=("--replicaof", "127.0.0.1", str(self.master.port)),
        ).start()
        conf = self.root / "sentinel.conf"
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.root}\n"
            f"logfile {self.root / 'sentinel.log'}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 10000\n"
        )
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL
        )
        _wait_port(self.sentinel_port, 15)
        self.wait(lambda: self.in_sync() and bool(self.sentinel().sentinel_slaves(SERVICE)))
        return self

    def sentinel(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_port, socket_timeout=2)

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=2)

    def master_port(self) -> int:
        """The master's port as the Sentinel names it now."""
        address: Any = self.sentinel().sentinel_get_master_addr_by_name(SERVICE)
        return int(address[1])

    def in_sync(self) -> bool:
        """The replica is online and has every byte the master wrote."""
        master = self.node(self.master_port())
        info = master.info("replication")
        replicas = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
        offset = info.get("master_repl_offset")
        return bool(replicas) and all(
            r.get("state") == "online" and r.get("offset") == offset for r in replicas
        )

    def fail_over(self) -> int:
        """Fails the master over to the replica and waits until the old master serves
        as its replica (so a client still connected to it gets READONLY); the new
        master's port."""
        old = self.master_port()
        self.sentinel().sentinel_failover(SERVICE)
        self.wait(lambda: self.master_port() != old)
        new = self.master_port()
        self.wait(lambda: self.node(old).info("replication").get("role") == "slave")
        return new

    @staticmethod
    def wait(done: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("the Sentinel set did not get there in time")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        for server in (self.replica, self.master):
            server.stop()
