"""From a fresh folder: `kurz run` in one process, the `kurz` command in others with no
environment set. They find the stack through `.local/dev/env`; once it stops, each
command fails in one line naming the address. The stack's logs are readable lines that
name their service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kurz.dev.servers import free_port

from tests.integration.test_cli_operator import kurz, one_line
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def dev_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    folder = tmp_path_factory.mktemp("fresh-clone")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    for service in ("MANAGEMENT", "REDIRECTOR", "AGGREGATOR", "WEBHOOK_WORKER"):
        env[f"KURZ_DEV_{service}_PORT"] = str(free_port())
    out, err = (folder / "run.out").open("wb"), (folder / "run.err").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "kurz.cli", "run"], cwd=folder, env=env, stdout=out, stderr=err
    )
    try:
        yield folder, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(90)


def _printed(folder: Path) -> str:
    return (folder / "run.out").read_text()


async def test_a_second_terminal_finds_the_stack_then_fails_cleanly_without_it(
    dev_stack: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    folder, process = dev_stack
    await wait_for(lambda: "kurz is running" in _printed(folder), 180, "kurz run is up")
    printed = _printed(folder)
    assert "another terminal:  export DATABASE_URL=" in printed
    env_file = (folder / ".local/dev/env").read_text()
    assert (
        "export DATABASE_URL=postgresql://" in env_file and "export REDIS_URL=redis://" in env_file
    )

    listed = kurz("workspace", "list", "--json", cwd=folder)
    assert listed.returncode == 0, listed.stderr
    (dev,) = json.loads(listed.stdout)
    assert dev["name"] == "dev"
    keys = kurz("key", "list", str(dev["id"]), "--json", cwd=folder)
    assert keys.returncode == 0, keys.stderr
    (key,) = json.loads(keys.stdout)
    (folder / "links.csv").write_text("url,slug\nhttps://example.com/,from-csv\n")
    dry = kurz("import", str(dev["id"]), "links.csv", "--dry-run", cwd=folder)
    assert dry.returncode == 0 and "1 link(s) would be imported" in dry.stdout, dry.stderr
    revoked = kurz("key", "revoke", key["prefix"], cwd=folder)
    assert revoked.returncode == 0, revoked.stderr
    assert kurz("env", cwd=folder).stdout.startswith("export DATABASE_URL=")

    logs = (folder / "run.err").read_text()
    assert "management" in logs and "\x1b[" not in logs  # not a terminal: no colours
    assert not any(line.startswith("{") for line in logs.splitlines())

    process.send_signal(signal.SIGTERM)
    process.wait(90)
    for args in (["workspace", "list"], ["key", "list", "1"], ["key", "revoke", key["prefix"]],
                 ["import", "1", "links.csv", "--dry-run"]):  # fmt: skip
        done = kurz(*args, cwd=folder)
        assert done.returncode == 1, (args, done.stderr)
        assert one_line(done).startswith("kurz: cannot reach "), args
