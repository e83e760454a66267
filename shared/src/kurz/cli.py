"""The `kurz` command: migrations, workspaces, keys, the edge cache and the dev stack.

Without DATABASE_URL / REDIS_URL it talks to the stack `kurz run` started (its addresses
are in `.local/dev/env`). Failures are one line on stderr: exit 1 when something could
not be done or reached, 2 when the input was refused (and nothing was changed).
Packages add commands through the `kurz.commands` entry point group (a function that
takes the subcommand table), so the library never imports a service.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import sys
from importlib.metadata import entry_points
from typing import Any

import msgspec

from kurz import admin, cliutil, users
from kurz.devenv import exports, find_env, read_env, with_dev_env
from kurz.settings import Settings, load_settings


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> str:
    import psycopg

    from kurz.migrate import apply_migrations

    try:
        applied = apply_migrations(settings.database.url)
    except psycopg.OperationalError as exc:
        raise cliutil.unreachable("Postgres", settings.database.url, exc) from None
    return f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else "")


async def cmd_cache_rebuild(settings: Settings, args: argparse.Namespace) -> str:
    from kurz.db import create_pool
    from kurz.edge_cache import EdgeCache

    client = await cliutil.redis_client(settings.redis.url)
    try:
        async with cliutil.postgres(settings.database.url):
            pass  # one clear line if Postgres is away, before the pool retries
        pool = await create_pool(settings.database.url, max_size=2)
        try:
            return f"rebuilt the edge cache: {await EdgeCache(client).rebuild(pool)} link(s)"
        finally:
            await pool.close()
    finally:
        await client.aclose()


def cmd_env(settings: Settings, args: argparse.Namespace) -> str:
    path = find_env()
    if path is None:
        raise cliutil.CommandFailed("no dev stack found (.local/dev/env): start one with make run")
    return f"export {exports(read_env(path))}"


def cmd_push_keys(settings: Settings, args: argparse.Namespace) -> str:
    from kurz.push import new_vapid_keys

    private, public = new_vapid_keys()
    return (
        "# web push (VAPID) keys: the private one is a secret (every webhook worker needs\n"
        "# it), the public one every redirector and management process reads\n"
        f"KURZ_VAPID_PRIVATE_KEY={private}\nKURZ_VAPID_PUBLIC_KEY={public}"
    )


def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    from kurz.dev.stack import run_stack

    run_stack(settings)


def _add_workspace_commands(sub: Any) -> None:
    workspace = sub.add_parser("workspace", help="manage workspaces").add_subparsers(
        required=True, metavar="{create,list,brand}"
    )
    create = workspace.add_parser("create", help="create a workspace and its first API key")
    create.add_argument("name", help="the workspace's name")
    create.add_argument(
        "--plan", type=cliutil.plan, default="selfhosted", help="its plan (default: selfhosted)"
    )
    create.add_argument(
        "--time-zone",
        type=cliutil.time_zone,
        default="UTC",
        help="IANA time zone its statistics days follow, e.g. Europe/Berlin (default: UTC)",
    )
    create.add_argument(
        "--home-country",
        type=cliutil.country,
        help="ISO 3166-1 alpha-2 code of its home country, e.g. DE (for overseas statistics)",
    )
    create.add_argument("--email", type=cliutil.email, help="the owner's e-mail address")
    create.set_defaults(func=admin.workspace_create)
    listing = workspace.add_parser("list", help="list every workspace")
    _json_option(listing)
    listing.set_defaults(func=admin.workspace_list)
    brand = workspace.add_parser(
        "brand", help="show or set a workspace's branding and not-found redirects"
    )
    brand.add_argument("workspace_id", type=cliutil.positive_id, help="the workspace's id")
    for name, what in (
        ("brand-name", "the name its pages show"),
        ("logo-url", "an http(s) URL of its logo"),
        ("accent-color", "its accent colour, #rrggbb"),
        ("base-url-redirect", "where a visit to its domain itself goes"),
        ("invalid-link-redirect", "where an unknown or disabled slug goes"),
        ("expired-link-redirect", "where an ended link goes"),
    ):
        brand.add_argument(f"--{name}", metavar="VALUE", help=f"{what} ('' clears it)")
    brand.set_defaults(func=admin.workspace_brand)


def _add_key_commands(sub: Any) -> None:
    key = sub.add_parser("key", help="manage API keys").add_subparsers(
        required=True, metavar="{create,list,revoke}"
    )
    create = key.add_parser("create", help="create another API key for a workspace")
    create.add_argument("workspace_id", type=cliutil.positive_id, help="the workspace's id")
    create.set_defaults(func=admin.key_create)
    listing = key.add_parser("list", help="a workspace's keys: prefix, created, last used")
    listing.add_argument("workspace_id", type=cliutil.positive_id, help="the workspace's id")
    _json_option(listing)
    listing.set_defaults(func=admin.key_list)
    revoke = key.add_parser("revoke", help="revoke an API key at once")
    revoke.add_argument(
        "key_prefix", help="the key's prefix as `kurz key list` shows it, or the whole key"
    )
    revoke.set_defaults(func=admin.key_revoke)


def _add_user_commands(sub: Any) -> None:
    user = sub.add_parser("user", help="manage web console users").add_subparsers(
        required=True, metavar="{create,list,password}"
    )
    create = user.add_parser(
        "create", help="give an e-mail address a workspace in the console (prints its password)"
    )
    create.add_argument("email", type=cliutil.email, help="the user's e-mail address")
    create.add_argument(
        "--workspace", type=cliutil.positive_id, required=True, help="the workspace's id"
    )
    create.add_argument(
        "--role",
        choices=users.ROLES,
        default="member",
        help="owner (everything, API keys and webhooks too) or member (default)",
    )
    create.set_defaults(func=admin.user_create)
    listing = user.add_parser("list", help="every console user and their workspaces")
    _json_option(listing)
    listing.set_defaults(func=admin.user_list)
    password = user.add_parser(
        "password", help="give a user a fresh password (prints it) and end their sessions"
    )
    password.add_argument("email", type=cliutil.email, help="the user's e-mail address")
    password.set_defaults(func=admin.user_password)


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document, not a table")


def build_parser() -> argparse.ArgumentParser:
    parser = cliutil.OneLineParser(prog="kurz", description="kurz link management")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(
        func=cmd_migrate
    )
    _add_workspace_commands(sub)
    _add_key_commands(sub)
    _add_user_commands(sub)
    cache = sub.add_parser("cache", help="manage the edge cache").add_subparsers(
        required=True, metavar="{rebuild}"
    )
    cache.add_parser("rebuild", help="rewrite the Redis edge cache from Postgres").set_defaults(
        func=cmd_cache_rebuild
    )
    push = sub.add_parser("push", help="web push").add_subparsers(required=True, metavar="{keys}")
    push.add_parser("keys", help="print a fresh VAPID key pair as settings").set_defaults(
        func=cmd_push_keys
    )
    sub.add_parser("run", help="run the whole stack locally").set_defaults(func=cmd_run)
    sub.add_parser(
        "env", help="print the shell exports that reach the running dev stack"
    ).set_defaults(func=cmd_env)
    for plugin in sorted(entry_points(group="kurz.commands"), key=lambda e: e.name):
        plugin.load()(sub)
    return parser


def _print(result: object, as_json: bool) -> None:
    if result is None:
        return
    if isinstance(result, str):
        print(result)
    elif isinstance(result, list) and not as_json:
        print(_table(result))
    else:
        sys.stdout.write(msgspec.json.encode(result).decode() + "\n")


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(none)"
    names = list(rows[0])
    cells = [[("" if r[n] is None else str(r[n])) for n in names] for r in rows]
    widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]
    lines = [names, *cells]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def main(argv: list[str] | None = None) -> None:
    try:
        args = build_parser().parse_args(argv)
        settings = load_settings(with_dev_env(os.environ))
        result = args.func(settings, args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        _print(result, getattr(args, "json", False))
    except cliutil.CommandFailed as exc:
        print(f"kurz: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_status) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
