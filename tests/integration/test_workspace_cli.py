"""`kurz workspace brand`: the same settings, checks and edge write as the API's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz import keys
from kurz.branding import decode_workspace

from tests.conftest import Workspace
from tests.support.streams import redis_value


def kurz(database_url: str, redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    return subprocess.run([sys.executable, "-m", "kurz.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


async def test_brand_sets_shows_clears_and_refuses(
    database_url: str, redis_url: str, redis: aioredis.Redis, pool: asyncpg.Pool[Any],
    workspace: Workspace,
) -> None:  # fmt: skip
    ws = str(workspace.id)
    done = kurz(
        database_url, redis_url, "workspace", "brand", ws, "--brand-name", "Acme",
        "--accent-color", "#0E9384", "--expired-link-redirect", "https://a.example/x",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["brand_name"], shown["accent_color"]) == ("Acme", "#0e9384")
    assert (
        decode_workspace(await redis_value(redis, keys.workspace(workspace.id))).brand_name
        == "Acme"
    )
    cleared = kurz(database_url, redis_url, "workspace", "brand", ws, "--brand-name", "")
    assert json.loads(cleared.stdout)["brand_name"] is None
    assert json.loads(cleared.stdout)["accent_color"] == "#0e9384"  # untouched
    bad = kurz(database_url, redis_url, "workspace", "brand", ws, "--accent-color", "red",
               "--brand-name", "Not written")  # fmt: skip
    assert bad.returncode == 2 and "--accent-color" in bad.stderr and "#rrggbb" in bad.stderr
    assert (
        await pool.fetchval("SELECT brand_name FROM workspaces WHERE id = $1", workspace.id) is None
    )
    missing = kurz(database_url, redis_url, "workspace", "brand", "999999999")
    assert missing.returncode != 0 and "no workspace" in missing.stderr
