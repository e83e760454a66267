"""The operator's commands as real processes: refused input (one line, status 2, nothing
changed), workspace and key listings, revocation, and an unreachable stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from kurz.apikeys import hash_key
from kurz.dev.servers import free_port

from tests.conftest import new_workspace


def kurz(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run(
        [sys.executable, "-m", "kurz.cli", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


BAD_VALUES = [
    (["workspace", "create", "acme", "--time-zone", "Mars/Olympus"], "unknown time zone"),
    (["workspace", "create", "acme", "--time-zone", "../etc/passwd"], "unknown time zone"),
    (["workspace", "create", "acme", "--home-country", "ZZ"], "unknown country code"),
    (["workspace", "create", "acme", "--home-country", "Germany"], "unknown country code"),
    (["workspace", "create", "acme", "--plan", "gold"], "unknown plan 'gold'"),
    (["workspace", "create", "acme", "--email", "not-an-address"], "invalid e-mail"),
    (["workspace", "create", "acme", "--email", "a@b@c.example"], "invalid e-mail"),
    (["key", "create", "abc"], "not an id"),
    (["key", "list", "-4"], "not an id"),
    (["key", "revoke", "secret"], "not a key prefix"),
    (["workspace", "create"], "required"),
]


@pytest.mark.parametrize(("args", "message"), BAD_VALUES)
async def test_bad_values_are_refused_in_one_line_and_change_nothing(
    database_url: str, pool: asyncpg.Pool[Any], args: list[str], message: str
) -> None:
    before = await pool.fetchval(
        "SELECT (SELECT count(*) FROM workspaces) * 1000000 + (SELECT count(*) FROM api_keys)"
    )
    done = kurz(*args, DATABASE_URL=database_url)
    assert done.returncode == 2, done.stderr
    line = one_line(done)
    assert line.startswith("kurz: ") and message in line
    after = await pool.fetchval(
        "SELECT (SELECT count(*) FROM workspaces) * 1000000 + (SELECT count(*) FROM api_keys)"
    )
    assert after == before


async def test_good_values_are_stored_as_given(database_url: str, pool: asyncpg.Pool[Any]) -> None:
    done = kurz(
        "workspace", "create", "acme", "--time-zone", "America/Sao_Paulo",
        "--home-country", "br", "--plan", "premium", "--email", "Owner@Example.COM",
        DATABASE_URL=database_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    row = await pool.fetchrow(
        "SELECT * FROM workspaces WHERE id = $1", json.loads(done.stdout)["workspace_id"]
    )
    assert row is not None
    assert (row["time_zone"], row["home_country"], row["plan"]) == (
        "America/Sao_Paulo", "BR", "premium"
    )  # fmt: skip
    assert row["owner_email"] == "Owner@example.com"


def test_every_option_has_help_text() -> None:
    for command in (["workspace", "create"], ["key", "list"], ["key", "revoke"], ["import"]):
        done = kurz(*command, "--help")
        assert done.returncode == 0, done.stderr
        options = done.stdout.split("options:", 1)[1]
        for line in options.splitlines():
            if line.strip().startswith("--") and line.strip() == line.strip().split()[0]:
                continue  # a long option whose help wraps to the next line
            if line.strip().startswith("-"):
                assert len(line.strip().split(maxsplit=2)) >= 2, line


async def test_workspace_list_and_key_list(database_url: str, pool: asyncpg.Pool[Any]) -> None:
    ws = await new_workspace(pool, "listed")
    done = kurz("workspace", "list", "--json", DATABASE_URL=database_url)
    assert done.returncode == 0, done.stderr
    listed = {w["id"]: w for w in json.loads(done.stdout)}
    assert listed[ws.id]["name"].startswith("listed-") and listed[ws.id]["active_keys"] == 1
    table = kurz("workspace", "list", DATABASE_URL=database_url).stdout
    assert table.splitlines()[0].split()[:3] == ["id", "name", "plan"]

    keys = json.loads(kurz("key", "list", str(ws.id), "--json", DATABASE_URL=database_url).stdout)
    assert [k["prefix"] for k in keys] == [ws.key[:11]]
    assert keys[0]["created"] and keys[0]["last_used"] is None and keys[0]["revoked"] is None


async def test_key_revoke_by_prefix(database_url: str, pool: asyncpg.Pool[Any]) -> None:
    ws = await new_workspace(pool, "revoked")
    done = kurz("key", "revoke", ws.key[:11], DATABASE_URL=database_url)
    assert done.returncode == 0, done.stderr
    revoked = await pool.fetchval(
        "SELECT revoked_at FROM api_keys WHERE key_hash = $1", hash_key(ws.key)
    )
    assert revoked is not None
    again = kurz("key", "revoke", ws.key[:11], DATABASE_URL=database_url)
    assert again.returncode == 1 and "no active API key" in one_line(again)


async def test_ambiguous_prefix_revokes_nothing(database_url: str, pool: asyncpg.Pool[Any]) -> None:
    first, second = await new_workspace(pool, "twin"), await new_workspace(pool, "twin")
    await pool.execute(  # two keys that look alike in a list
        "UPDATE api_keys SET prefix = 'kurz_twin00' WHERE key_hash = ANY($1)",
        [hash_key(first.key), hash_key(second.key)],
    )
    done = kurz("key", "revoke", "kurz_twin", DATABASE_URL=database_url)
    assert done.returncode == 1 and "matches 2 active keys" in one_line(done)
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM api_keys WHERE prefix = 'kurz_twin00' AND revoked_at IS NULL"
        )
        == 2
    )
    whole = kurz("key", "revoke", first.key, DATABASE_URL=database_url)
    assert whole.returncode == 0, whole.stderr
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM api_keys WHERE prefix = 'kurz_twin00' AND revoked_at IS NULL"
        )
        == 1
    )


async def test_last_use_of_a_key_is_listed(
    database_url: str, redis_url: str, pool: asyncpg.Pool[Any]
) -> None:
    from kurz_management.core.auth import authenticate

    ws = await new_workspace(pool, "used")
    assert await authenticate(pool, ws.key) is not None
    keys = json.loads(kurz("key", "list", str(ws.id), "--json", DATABASE_URL=database_url).stdout)
    assert keys[0]["last_used"] is not None


@pytest.mark.parametrize(
    "args",
    [["workspace", "list"], ["key", "list", "1"], ["key", "revoke", "kurz_abcdef"],
     ["workspace", "create", "x"], ["migrate"], ["cache", "rebuild"]],
)  # fmt: skip
def test_an_unreachable_stack_is_one_line(args: list[str], redis_url: str) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/kurz"
    done = kurz(*args, DATABASE_URL=dead, REDIS_URL=redis_url)
    assert done.returncode == 1
    line = one_line(done)
    assert line.startswith("kurz: cannot reach Postgres at ") and dead in line


def test_an_unreachable_redis_is_one_line(tmp_path: Path, database_url: str) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    (tmp_path / "links.csv").write_text("url\nhttps://example.com/\n")
    done = kurz("import", "1", str(tmp_path / "links.csv"), DATABASE_URL=database_url,
                REDIS_URL=dead)  # fmt: skip
    assert done.returncode == 1
    assert one_line(done).startswith(f"kurz: cannot reach Redis at {dead}")


def test_dev_env_file_is_found_from_a_subfolder(tmp_path: Path, database_url: str) -> None:
    from kurz.devenv import write_env

    # `workspace list` never reaches Redis: any well-formed address will do.
    unused_redis = f"redis://127.0.0.1:{free_port()}/0"
    write_env(
        tmp_path / ".local/dev/env", {"DATABASE_URL": database_url, "REDIS_URL": unused_redis}
    )
    (tmp_path / "deep/er").mkdir(parents=True)
    done = kurz("workspace", "list", cwd=tmp_path / "deep/er")
    assert done.returncode == 0, done.stderr
    printed = kurz("env", cwd=tmp_path / "deep/er")
    assert printed.stdout.startswith("export DATABASE_URL=") and database_url in printed.stdout


def test_kurz_run_with_an_unreachable_database_is_one_line(tmp_path: Path, redis_url: str) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/kurz"
    done = kurz("run", cwd=tmp_path, DATABASE_URL=dead, REDIS_URL=redis_url)
    assert done.returncode == 1
    assert one_line(done).startswith(f"kurz: cannot reach Postgres at {dead}")
    assert not (tmp_path / ".local/dev/env").exists()
