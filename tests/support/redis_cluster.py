"""A Redis Cluster from the same binaries as every other test Redis: three masters and
three replicas on free ports, made with `redis-cli --cluster create`, for tests that
spread keys over slots and fail a master over for real."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from kurz.dev.servers import Redis, free_port

NODES = 6  # three masters, each with one replica


@dataclass
class RedisCluster:
    root: Path
    nodes: list[Redis] = field(default_factory=list)

    def url(self) -> str:
        """The REDIS_URL every service takes: two of the nodes, to find the rest."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:2])

    def start(self) -> RedisCluster:
        for i in range(NODES):
            options = (
                "--cluster-enabled", "yes",
                "--cluster-port", str(free_port()),
                "--cluster-config-file", str(self.root / f"n{i}" / "nodes.conf"),
                "--cluster-node-timeout", "1000",
                "--repl-diskless-sync-delay", "0",
            )  # fmt: skip
            self.nodes.append(Redis(self.root / f"n{i}", free_port(), options=options).start())
        binary = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run(
            [binary, "--cluster", "create", *addresses, "--cluster-replicas", "1",
             "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, timeout=60,
        )  # fmt: skip
        self.wait(self.healthy, 60)
        return self

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=2)

    def live(self) -> list[Redis]:
        return [n for n in self.nodes if n.process is not None and n.process.poll() is None]

    def healthy(self) -> bool:
        """Every live node sees the cluster whole (all slots served) and every master
        that has a replica online has it in sync."""
        for server in self.live():
            try:
                info: Any = self.node(server.port).cluster("INFO")
            except redis.RedisError:
                return False
            if info.get("cluster_state") != "ok":
                return False
        try:
            return all(self.in_sync(port) for port in self.master_ports())
        except redis.RedisError:  # a master just killed, still named by the others
            return False

    def slots(self) -> list[tuple[int, int, int, list[int]]]:
        """(first slot, last slot, master port, replica ports), as a live node tells."""
        reply: Any = self.node(self.live()[0].port).cluster("SLOTS")
        return [(int(r[0]), int(r[1]), int(r[2][1]), [int(n[1]) for n in r[3:]]) for r in reply]

    def master_ports(self) -> list[int]:
        return sorted({master for _, _, master, _ in self.slots()})

    def owner(self, key: str) -> int:
        """The port of the master serving `key`'s slot now."""
        slot = int(self.node(self.live()[0].port).cluster("KEYSLOT", key))
        for first, last, master, _ in self.slots():
            if first <= slot <= last:
                return master
        raise LookupError(f"slot {slot} is served by no node")

    def in_sync(self, master_port: int) -> bool:
        """The master's replicas are online and have every byte it wrote."""
        info = self.node(master_port).info("replication")
        replicas = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
        offset = info.get("master_repl_offset")
        return all(r.get("state") == "online" and r.get("offset") == offset for r in replicas)

    def kill(self, port: int) -> None:
        """Kills the node on `port` at once (no shutdown save): a crash, not a handover."""
        server = next(n for n in self.nodes if n.port == port)
        assert server.process is not None
        server.process.kill()
        server.process.wait(10)

    def reset_stats(self) -> None:
        for server in self.live():
            self.node(server.port).config_resetstat()

    def error_stats(self) -> dict[int, dict[str, Any]]:
        """`INFO errorstats` of every live node, by port."""
        return {n.port: dict(self.node(n.port).info("errorstats")) for n in self.live()}

    @staticmethod
    def wait(done: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("the cluster did not get there in time")
            time.sleep(0.1)

    def stop(self) -> None:
        for server in self.nodes:
            server.stop()
