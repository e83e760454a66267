"""The `kurz` command, run as a real process against the test Postgres."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import asyncpg
from kurz.apikeys import hash_key


def kurz(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "kurz.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_migrate_is_idempotent(database_url: str) -> None:
    done = kurz(database_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("applied 0 migration(s)")


async def test_workspace_create_prints_a_working_key(
    database_url: str, pool: asyncpg.Pool[Any]
) -> None:
    done = kurz(database_url, "workspace", "create", "acme", "--time-zone", "Asia/Seoul")
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert set(created) == {"workspace_id", "api_key"}
    row = await pool.fetchrow(
        """SELECT w.name, w.time_zone, w.plan FROM api_keys k
           JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = $1""",
        hash_key(created["api_key"]),
    )
    assert row is not None and row["name"] == "acme"
    assert (row["time_zone"], row["plan"]) == ("Asia/Seoul", "selfhosted")
    # Only a short prefix is kept beside the digest, to tell keys apart in lists.
    prefix = await pool.fetchval(
        "SELECT prefix FROM api_keys WHERE key_hash = $1", hash_key(created["api_key"])
    )
    assert created["api_key"].startswith(prefix) and len(prefix) < len(created["api_key"]) // 3


async def test_key_create_adds_a_second_key(database_url: str, pool: asyncpg.Pool[Any]) -> None:
    first = json.loads(kurz(database_url, "workspace", "create", "two-keys").stdout)
    done = kurz(database_url, "key", "create", str(first["workspace_id"]))
    assert done.returncode == 0, done.stderr
    second = json.loads(done.stdout)
    assert second["workspace_id"] == first["workspace_id"]
    assert second["api_key"] != first["api_key"]
    count = await pool.fetchval(
        "SELECT count(*) FROM api_keys WHERE workspace_id = $1", first["workspace_id"]
    )
    assert count == 2


def test_key_create_for_a_missing_workspace_fails_clearly(database_url: str) -> None:
    done = kurz(database_url, "key", "create", "987654321")
    assert done.returncode != 0
    assert "no workspace 987654321" in done.stderr
