"""A Redis Sentinel set from the same binaries as every other test Redis: a master, a
replica and Sentinels watching them (one by default, or three with a quorum of two, as
production runs them), on free ports, for tests that fail the master over for real."""

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
    sentinels: int = 1
    master: Redis = field(init=False)
    replica: Redis = field(init=False)
    sentinel_ports: list[int] = field(init=False)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sentinel_ports = [free_port() for _ in range(self.sentinels)]

    @property
    def sentinel_port(self) -> int:
        return self.sentinel_ports[0]

    @property
    def quorum(self) -> int:
        """A majority of the Sentinels must agree that the master is down."""
        return self.sentinels // 2 + 1

    def url(self, db: int = 0) -> str:
        """The REDIS_URL every service takes to reach the set's master: every Sentinel
        named, as a deployment names them, so any one of them answering is enough."""
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}/{db}"

    def start(self) -> SentinelSet:
        # No wait before the first full sync (diskless replication waits 5 s by default).
        quick = ("--repl-diskless-sync-delay", "0")
        self.master = Redis(self.root / "a", free_port(), options=quick).start()
        self.replica = Redis(
            self.root / "b",
            free_port(),
            options=("--replicaof", "127.0.0.1", str(self.master.port)),
        ).start()
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        for index, port in enumerate(self.sentinel_ports):
            conf = self.root / f"sentinel-{index}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.root}\n"
                f"logfile {self.root / f'sentinel-{index}.log'}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.master.port} {self.quorum}\n"
                f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                f"sentinel failover-timeout {SERVICE} 10000\n"
            )
            process = subprocess.Popen([binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL)
            self.processes.append(process)
        for port in self.sentinel_ports:
            _wait_port(port, 15)
        self.wait(
            lambda: self.in_sync() and all(self._sees_everyone(p) for p in self.sentinel_ports)
        )
        return self

    def _sees_everyone(self, port: int) -> bool:
        """This Sentinel knows the replica and every other Sentinel (they find each
        other through the master's hello channel, which takes a few seconds)."""
        sentinel = redis.Redis(port=port, socket_timeout=2)
        others: Any = sentinel.sentinel_sentinels(SERVICE) if self.sentinels > 1 else []
        return bool(sentinel.sentinel_slaves(SERVICE)) and len(others) == self.sentinels - 1

    def kill_master(self) -> int:
        """SIGKILLs the master as the Sentinels name it now; the port that died."""
        port = self.master_port()
        server = self.master if self.master.port == port else self.replica
        assert server.process is not None
        server.process.kill()
        server.process.wait(10)
        return port

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
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                process.wait(10)
        for server in (self.replica, self.master):
            server.stop()
