"""Project-local Postgres and Redis processes, for `make run`, the tests and benchmarks.

Each server lives in its own folder on a free port and stops with its owner. Postgres
refuses to run as root, so as root its commands run as the `postgres` system user.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pg_bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found (Debian package postgresql)")
    return candidates[0]


def _as_postgres_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port} within {timeout}s")


def _postgres_can_reach(path: Path) -> bool:
    probe = subprocess.run(_as_postgres_user(["test", "-x", str(path)]), check=False)
    return probe.returncode == 0


def _postgres_home(root: Path) -> Path:
    """Where the cluster lives. As root, a folder the postgres user cannot reach (a
    private temporary folder, a home folder) is swapped for a stable one under /var/tmp."""
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or _postgres_can_reach(root.parent):
        return root
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    home = Path("/var/tmp") / f"kurz-postgres-{digest}"  # noqa: S108 (a fixed, private name)
    home.mkdir(exist_ok=True)
    return home


@dataclass
class Postgres:
    root: Path
    port: int
    ephemeral: bool = False  # remove the cluster on stop
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/kurz"

    def start(self) -> Postgres:
        bindir = _pg_bindir()
        self.root = _postgres_home(self.root.resolve())
        data = self.root / "pgdata"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        if not (data / "PG_VERSION").exists():
            subprocess.run(
                _as_postgres_user(
                    [
                        str(bindir / "initdb"),
                        "-D",
                        str(data),
                        "-U",
                        "postgres",
                        "-A",
                        "trust",
                        "-E",
                        "UTF8",
                        "--no-sync",
                    ]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        self.process = subprocess.Popen(
            _as_postgres_user(
                [
                    str(bindir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.root),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                    "-c",
                    "shared_buffers=128MB",
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "postgres.log", "ab"),  # noqa: SIM115
            # Out of the terminal's process group: Ctrl-C stops the services, which
            # drain against a database still up; whoever started it stops it after.
            start_new_session=True,
        )
        _wait_port(self.port, 30)
        self._create_database()
        return self

    def _client_args(self) -> list[str]:
        """How psql and createdb reach this server."""
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]

    def _create_database(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            done = subprocess.run(
                [
                    str(_pg_bindir() / "psql"),
                    *self._client_args(),
                    "-d",
                    "postgres",
                    "-tAc",
                    "SELECT 1 FROM pg_database WHERE datname = 'kurz'",
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"Postgres did not accept connections: {done.stderr}")
            time.sleep(0.1)
        if done.stdout.strip() != "1":
            subprocess.run(
                [str(_pg_bindir() / "createdb"), *self._client_args(), "kurz"],
                check=True,
            )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Postgres's "smart" shutdown
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.ephemeral:
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Redis:
    root: Path
    port: int
    options: tuple[str, ...] = ()  # more redis-server arguments (a replica, a cluster node)
    persistent: bool = False  # an append-only file in `root`, so data outlives a restart
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Redis:
        self.root = self.root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.persistent else "no",
                "--dir",
                str(self.root),
                "--logfile",
                str(self.root / "redis.log"),
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # as Postgres: stopped after the services, not by Ctrl-C
        )
        _wait_port(self.port, 15)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def local_servers(root: Path) -> Iterator[tuple[Postgres, Redis]]:
    pg = Postgres(root / "postgres", free_port(), ephemeral=True).start()
    try:
        rd = Redis(root / "redis", free_port()).start()
        try:
            yield pg, rd
        finally:
            rd.stop()
    finally:
        pg.stop()
