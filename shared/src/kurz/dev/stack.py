"""`kurz run` (behind `make run`): the whole stack on this machine.

Starts project-local Postgres and Redis under .local/dev (both keep their data between
runs) unless DATABASE_URL / REDIS_URL
name running ones, applies migrations, makes a dev workspace, starts the four services
and prints where to reach them. Their addresses go to .local/dev/env, where the
`kurz` command of another terminal finds them. Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from kurz import cliutil, push, users
from kurz.dev.servers import Postgres, Redis, _wait_port, free_port
from kurz.devenv import RELATIVE as ENV_FILE
from kurz.devenv import exports, write_env
from kurz.migrate import apply_migrations
from kurz.settings import Settings
from kurz.workspaces import create_workspace, ensure_default_domain

STATE = Path(".local/dev")
DEV_USER_EMAIL = "dev@example.com"

# (name, python module, default port); KURZ_DEV_<NAME>_PORT moves one (e.g. in tests).
SERVICES = (
    ("management", "kurz_management", 8000),
    ("redirector", "kurz_redirector", 8080),
    ("aggregator", "kurz_aggregator", 8081),
    ("webhook-worker", "kurz_webhooks", 8082),
)


@contextlib.contextmanager
def _local_databases(settings: Settings) -> Iterator[tuple[str, str]]:
    pg = rd = None
    db_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    try:
        if not db_url:
            pg = Postgres(STATE / "postgres", int(os.environ.get("KURZ_DEV_PG_PORT", free_port())))
            db_url = pg.start().url
        if not redis_url:
            port = int(os.environ.get("KURZ_DEV_REDIS_PORT", free_port()))
            rd = Redis(STATE / "redis", port, persistent=True)
            redis_url = rd.start().url
        yield db_url, redis_url
    finally:
        if rd:
            rd.stop()
        if pg:
            pg.stop()


async def _dev_workspace(db_url: str, default_domain: str) -> dict[str, object]:
    saved = STATE / "workspace.json"
    conn = await asyncpg.connect(db_url)
    try:
        await ensure_default_domain(conn, default_domain)
        if saved.exists():
            known = json.loads(saved.read_text())
            if await conn.fetchval("SELECT 1 FROM workspaces WHERE id = $1", known["workspace_id"]):
                return dict(known)
        workspace_id, key = await create_workspace(conn, "dev")
    finally:
        await conn.close()
    known = {"workspace_id": workspace_id, "api_key": key}
    saved.write_text(json.dumps(known))
    saved.chmod(0o600)
    return known


async def _dev_console_user(db_url: str, workspace_id: int) -> dict[str, str]:
    """The console's dev user, owner of the dev workspace: made once and kept in
    .local/dev (its password is printed at every start), remade if the database lost it."""
    saved = STATE / "console.json"
    conn = await asyncpg.connect(db_url)
    try:
        if saved.exists():
            known: dict[str, str] = json.loads(saved.read_text())
            if await users.check_password(conn, known["email"], known["password"]) is not None:
                await users.create_user(conn, known["email"], workspace_id, "owner")
                return known
        email, password = DEV_USER_EMAIL, users.new_password()
        await users.create_user(conn, email, workspace_id, "owner")
        await users.set_password(conn, email, password)
    finally:
        await conn.close()
    known = {"email": email, "password": password}
    saved.write_text(json.dumps(known))
    saved.chmod(0o600)
    return known


async def _reachable(db_url: str, redis_url: str) -> None:
    async with cliutil.postgres(db_url):
        pass
    client = await cliutil.redis_client(redis_url)
    await client.aclose()


def _vapid_keys() -> dict[str, str]:
    """Web push keys for local runs: made once, kept in .local/dev (a browser's
    subscriptions are bound to the key they were made with), unless the environment
    brings its own."""
    if os.environ.get("KURZ_VAPID_PRIVATE_KEY"):
        return {}
    path = STATE / "vapid.json"
    if path.exists():
        saved: dict[str, str] = json.loads(path.read_text())
        return saved
    private, public = push.new_vapid_keys()
    keys = {"KURZ_VAPID_PRIVATE_KEY": private, "KURZ_VAPID_PUBLIC_KEY": public}
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys


def _port(service: str, default: int) -> int:
    return int(os.environ.get(f"KURZ_DEV_{service.upper().replace('-', '_')}_PORT", default))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_stack(settings: Settings) -> None:
    # SIGTERM (from a supervisor or `timeout`) stops everything as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    STATE.mkdir(parents=True, exist_ok=True)
    with _local_databases(settings) as (db_url, redis_url):
        asyncio.run(_reachable(db_url, redis_url))  # one clear line if not
        apply_migrations(db_url)
        domain = settings.edge.default_domain
        workspace = asyncio.run(_dev_workspace(db_url, domain))
        person = asyncio.run(_dev_console_user(db_url, int(str(workspace["workspace_id"]))))
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "KURZ_DEFAULT_DOMAIN": domain,
            "KURZ_WEBHOOK_ALLOW_PRIVATE": "true",
            "KURZ_LOG_FORMAT": os.environ.get("KURZ_LOG_FORMAT", "console"),
            **_vapid_keys(),
        }
        write_env(ENV_FILE, env)
        ports = {name: _port(name, default) for name, _, default in SERVICES}
        processes = []
        for name, module, _ in SERVICES:
            env_port = {**env, "KURZ_PORT": str(ports[name])}
            processes.append((name, subprocess.Popen([sys.executable, "-m", module], env=env_port)))
        try:
            for port in ports.values():
                _wait_port(port, 30)
            api = f"http://127.0.0.1:{ports['management']}"
            print(
                "\nkurz is running\n"
                f"management API   {api}   (docs: {api}/docs)\n"
                f"redirector       http://127.0.0.1:{ports['redirector']}\n"
                f"workspace id     {workspace['workspace_id']}\n"
                f"API key          {workspace['api_key']}\n"
                f"web console      {api}/console   {person['email']}   {person['password']}\n"
                f"addresses        {ENV_FILE} (the kurz command reads it by itself)\n\n"
                f"another terminal:  export {exports(env)}\n\n"
                f"try: curl -X POST {api}/api/v1/links \\\n"
                f"       -H 'Authorization: Bearer {workspace['api_key']}' \\\n"
                "       -H 'Content-Type: application/json' -d '{\"url\": \"https://example.com\"}'\n"
                "\nCtrl-C stops everything.",
                flush=True,
            )
            while all(p.poll() is None for _, p in processes):
                time.sleep(0.5)
            for name, p in processes:
                if p.poll() is not None:
                    print(f"kurz: {name} exited with {p.returncode}; stopping", file=sys.stderr)
        except KeyboardInterrupt:
            pass
        finally:
            for _, p in processes:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for _, p in processes:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
