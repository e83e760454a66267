"""The `kurz` command: migrations, workspaces, keys, the edge cache and the dev stack."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec

from kurz.settings import Settings, load_settings


async def _with_conn(
    settings: Settings, work: Callable[[asyncpg.Connection[Any]], Awaitable[Any]]
) -> Any:
    conn = await asyncpg.connect(settings.database.url)
    try:
        return await work(conn)
    finally:
        await conn.close()


def _print_json(value: object) -> None:
    sys.stdout.write(msgspec.json.encode(value).decode() + "\n")


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    from kurz.migrate import apply_migrations

    applied = apply_migrations(settings.database.url)
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))


def cmd_workspace_create(settings: Settings, args: argparse.Namespace) -> None:
    from kurz.workspaces import create_workspace, ensure_default_domain

    async def work(conn: asyncpg.Connection[Any]) -> tuple[int, str]:
        await ensure_default_domain(conn, settings.edge.default_domain)
        return await create_workspace(
            conn,
            args.name,
            plan=args.plan,
            time_zone=args.time_zone,
            home_country=args.home_country,
            owner_email=args.email,
        )

    workspace_id, key = asyncio.run(_with_conn(settings, work))
    _print_json({"workspace_id": workspace_id, "api_key": key})


def cmd_workspace_brand(settings: Settings, args: argparse.Namespace) -> None:
    import redis.asyncio as aioredis

    from kurz.branding import SETTING_FIELDS
    from kurz.edge_cache import EdgeCache
    from kurz.validation import InvalidLink
    from kurz.workspaces import save_edge_settings

    # An empty value clears the setting (kurz's own look or page again).
    changes = {name: getattr(args, name) or None for name in SETTING_FIELDS
               if getattr(args, name) is not None}  # fmt: skip

    async def work(conn: asyncpg.Connection[Any]) -> dict[str, Any]:
        client = aioredis.Redis.from_url(settings.redis.url)
        try:
            # The same write as the API's: Postgres and its edge outbox row, then Redis.
            found = await save_edge_settings(conn, EdgeCache(client), args.workspace_id, changes)
            if found is None:
                raise SystemExit(f"kurz: no workspace {args.workspace_id}")
        except InvalidLink as exc:
            flag = (exc.field or "").replace("_", "-")
            raise SystemExit(f"kurz: --{flag}: {exc.message}") from None
        finally:
            await client.aclose()
        return msgspec.structs.asdict(found[1])

    _print_json(asyncio.run(_with_conn(settings, work)))


def cmd_key_create(settings: Settings, args: argparse.Namespace) -> None:
    from kurz.workspaces import create_key

    async def work(conn: asyncpg.Connection[Any]) -> str:
        if not await conn.fetchval("SELECT 1 FROM workspaces WHERE id = $1", args.workspace_id):
            raise SystemExit(f"kurz: no workspace {args.workspace_id}")
        return await create_key(conn, args.workspace_id)

    key = asyncio.run(_with_conn(settings, work))
    _print_json({"workspace_id": args.workspace_id, "api_key": key})


def cmd_cache_rebuild(settings: Settings, args: argparse.Namespace) -> None:
    import redis.asyncio as aioredis

    from kurz.db import create_pool
    from kurz.edge_cache import EdgeCache

    async def work() -> int:
        pool = await create_pool(settings.database.url, max_size=2)
        client = aioredis.Redis.from_url(settings.redis.url)
        try:
            return await EdgeCache(client).rebuild(pool)
        finally:
            await client.aclose()
            await pool.close()

    print(f"rebuilt the edge cache: {asyncio.run(work())} link(s)")


def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    from kurz.dev.stack import run_stack

    run_stack(settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kurz", description="kurz link management")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(
        func=cmd_migrate
    )

    workspace = sub.add_parser("workspace", help="manage workspaces").add_subparsers(required=True)
    create = workspace.add_parser("create", help="create a workspace and its first API key")
    create.add_argument("name")
    create.add_argument("--plan", default="selfhosted")
    create.add_argument("--time-zone", default="UTC")
    create.add_argument("--home-country")
    create.add_argument("--email")
    create.set_defaults(func=cmd_workspace_create)
    brand = workspace.add_parser(
        "brand", help="show or set a workspace's branding and not-found redirects"
    )
    brand.add_argument("workspace_id", type=int)
    for name in ("brand-name", "logo-url", "accent-color", "base-url-redirect",
                 "invalid-link-redirect", "expired-link-redirect"):  # fmt: skip
        brand.add_argument(f"--{name}", metavar="VALUE", help="'' clears it")
    brand.set_defaults(func=cmd_workspace_brand)

    key = sub.add_parser("key", help="manage API keys").add_subparsers(required=True)
    key_create = key.add_parser("create", help="create another API key for a workspace")
    key_create.add_argument("workspace_id", type=int)
    key_create.set_defaults(func=cmd_key_create)

    cache = sub.add_parser("cache", help="manage the edge cache").add_subparsers(required=True)
    cache.add_parser("rebuild", help="rewrite the Redis edge cache from Postgres").set_defaults(
        func=cmd_cache_rebuild
    )
    sub.add_parser("run", help="run the whole stack locally").set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(load_settings(), args)


if __name__ == "__main__":
    main()
