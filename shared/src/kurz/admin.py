"""The `kurz workspace ...` and `kurz key ...` commands: what an operator does by hand."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from kurz import cliutil, users
from kurz.apikeys import PREFIX, display_prefix, hash_key
from kurz.settings import Settings
from kurz.workspaces import create_key, create_workspace, ensure_default_domain


async def workspace_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with cliutil.postgres(settings.database.url) as conn:
        await ensure_default_domain(conn, settings.edge.default_domain)
        workspace_id, key = await create_workspace(
            conn,
            args.name,
            plan=args.plan,
            time_zone=args.time_zone,
            home_country=args.home_country,
            owner_email=args.email,
        )
    return {"workspace_id": workspace_id, "api_key": key}


async def workspace_list(settings: Settings, args: argparse.Namespace) -> list[dict[str, Any]]:
    async with cliutil.postgres(settings.database.url) as conn:
        rows = await conn.fetch(
            """SELECT w.id, w.name, w.plan, w.time_zone, w.home_country, w.owner_email,
                      w.created_at,
                      (SELECT count(*) FROM api_keys k
                       WHERE k.workspace_id = w.id AND k.revoked_at IS NULL) AS active_keys,
                      (SELECT count(*) FROM links l
                       WHERE l.workspace_id = w.id AND l.deleted_at IS NULL) AS links
               FROM workspaces w ORDER BY w.id"""
        )
    return [
        {**dict(r), "created_at": _iso(r["created_at"])}
        for r in rows  # JSON-friendly times
    ]


async def workspace_brand(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Show, or set, a workspace's branding and not-found redirects: the same checked
    write as the API's (Postgres with its edge outbox row, then Redis)."""
    from kurz.branding import SETTING_FIELDS
    from kurz.edge_cache import EdgeCache
    from kurz.validation import InvalidLink
    from kurz.workspaces import save_edge_settings

    # An empty value clears the setting (kurz's own look or page again).
    changes = {name: getattr(args, name) or None for name in SETTING_FIELDS
               if getattr(args, name) is not None}  # fmt: skip
    client = await cliutil.redis_client(settings.redis.url)
    try:
        async with cliutil.postgres(settings.database.url) as conn:
            found = await save_edge_settings(conn, EdgeCache(client), args.workspace_id, changes)
    except InvalidLink as exc:
        flag = (exc.field or "").replace("_", "-")
        raise cliutil.BadInput(f"--{flag}: {exc.message}") from None
    finally:
        await client.aclose()
    if found is None:
        raise cliutil.CommandFailed(f"no workspace {args.workspace_id}")
    return msgspec.structs.asdict(found[1])


async def key_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with cliutil.postgres(settings.database.url) as conn:
        await _require_workspace(conn, args.workspace_id)
        key = await create_key(conn, args.workspace_id)
    return {"workspace_id": args.workspace_id, "api_key": key}


async def key_list(settings: Settings, args: argparse.Namespace) -> list[dict[str, Any]]:
    async with cliutil.postgres(settings.database.url) as conn:
        await _require_workspace(conn, args.workspace_id)
        rows = await conn.fetch(
            """SELECT prefix, created_at, last_used_at, revoked_at FROM api_keys
               WHERE workspace_id = $1 ORDER BY id""",
            args.workspace_id,
        )
    return [
        {
            "prefix": r["prefix"],
            "created": _iso(r["created_at"]),
            "last_used": _iso(r["last_used_at"]),
            "revoked": _iso(r["revoked_at"]),
        }
        for r in rows
    ]


async def key_revoke(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Revoke the one active key that starts with KEY_PREFIX (or is the whole key)."""
    given: str = args.key_prefix
    if not given.startswith(PREFIX) or len(given) <= len(PREFIX):
        raise cliutil.BadInput(f"not a key prefix: {given!r} (keys start with {PREFIX})")
    whole_key = len(given) > len(display_prefix(given))
    async with cliutil.postgres(settings.database.url) as conn:
        rows = await conn.fetch(
            """SELECT id, workspace_id, prefix FROM api_keys WHERE revoked_at IS NULL
               AND CASE WHEN $3 THEN key_hash = $1 ELSE starts_with(prefix, $2) END""",
            hash_key(given),
            given,
            whole_key,
        )
        if not rows:
            raise cliutil.CommandFailed(f"no active API key starts with {given!r}")
        if len(rows) > 1:
            names = ", ".join(f"{r['prefix']} (workspace {r['workspace_id']})" for r in rows)
            raise cliutil.CommandFailed(
                f"{given!r} matches {len(rows)} active keys: {names}; give the whole key"
            )
        await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE id = $1", rows[0]["id"])
    return {"revoked": rows[0]["prefix"], "workspace_id": rows[0]["workspace_id"]}


async def _require_workspace(conn: asyncpg.Connection[Any], workspace_id: int) -> None:
    if not await conn.fetchval("SELECT 1 FROM workspaces WHERE id = $1", workspace_id):
        raise cliutil.CommandFailed(f"no workspace {workspace_id}")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def user_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """A console user for a workspace; a new account's password is shown this once."""
    async with cliutil.postgres(settings.database.url) as conn:
        await _require_workspace(conn, args.workspace)
        _, password = await users.create_user(conn, args.email, args.workspace, args.role)
    return {
        "email": args.email,
        "workspace_id": args.workspace,
        "role": args.role,
        "password": password or "(unchanged: the account already existed)",
    }


async def user_list(settings: Settings, args: argparse.Namespace) -> list[dict[str, Any]]:
    async with cliutil.postgres(settings.database.url) as conn:
        rows = await users.list_users(conn)
    return [
        {
            "email": r["email"],
            "workspaces": r["workspaces"],
            "created": _iso(r["created_at"]),
            "signed_in": _iso(r["signed_in_at"]),
        }
        for r in rows
    ]


async def user_password(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """A fresh password for the account, shown once; its sessions end."""
    password = users.new_password()
    async with cliutil.postgres(settings.database.url) as conn:
        if not await users.set_password(conn, args.email, password):
            raise cliutil.CommandFailed(f"no console user {args.email}")
    return {"email": args.email, "password": password}
