"""The `kurz import WORKSPACE_ID FILE` command (registered through the `kurz.commands`
entry point): read the export, then create its links in batches through the bulk link
use case, with a progress bar, every refused row reported, and a summary.

--dry-run runs every check of the use case (addresses taken included) and writes nothing.
Exit status: 0 when every row was imported (or would be), 1 when some row was refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kurz import cliutil
from kurz.db import create_pool
from kurz.edge_cache import EdgeCache
from kurz.settings import Settings
from rich.console import Console
from rich.progress import Progress

from kurz_management.context import AppContext
from kurz_management.core.auth import Principal
from kurz_management.core.links.model import LinkError
from kurz_management.importer.batches import import_rows
from kurz_management.importer.formats import FORMATS, Row, UnreadableFile, read_rows


def add_command(sub: Any) -> None:
    parser = sub.add_parser(
        "import", help="create links from another shortener's export (Bitly, YOURLS, ...)"
    )
    parser.add_argument(
        "workspace_id", type=cliutil.positive_id, help="the workspace the links go to"
    )
    parser.add_argument("file", type=Path, help="the export file (CSV or JSON)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help="the file's format; auto (default) tells them apart by their columns",
    )
    parser.add_argument(
        "--domain", help="short domain of the links (default: the shared default domain)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check every row, report, and write nothing"
    )
    parser.set_defaults(func=run_import)


async def run_import(settings: Settings, args: argparse.Namespace) -> str:
    rows = _read(args.file, args.format)
    client = await cliutil.redis_client(settings.redis.url)
    try:
        async with cliutil.postgres(settings.database.url) as conn:
            principal = await _principal(conn, args.workspace_id)
        pool = await create_pool(settings.database.url, max_size=2)
        try:
            ctx = AppContext(settings, pool, client, EdgeCache(client))
            done, refused = await _import(ctx, principal, rows, args)
        finally:
            await pool.close()
    finally:
        await client.aclose()
    for where, message in refused:
        print(f"{args.file.name}: {where}: {message}", file=sys.stderr)
    verb = "would be imported (dry run, nothing written)" if args.dry_run else "imported"
    summary = f"{done} link(s) {verb}; {len(refused)} row(s) refused, of {len(rows)}"
    if refused:
        raise cliutil.CommandFailed(summary)
    return summary


def _read(path: Path, fmt: str) -> list[Row]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise cliutil.BadInput(f"cannot read {path}: {exc}") from None
    try:
        return read_rows(text, fmt)
    except UnreadableFile as exc:
        raise cliutil.BadInput(f"{path}: {exc}") from None


async def _principal(conn: Any, workspace_id: int) -> Principal:
    row = await conn.fetchrow(
        """SELECT w.plan, w.time_zone, p.entitlements FROM workspaces w
           JOIN plans p ON p.code = w.plan WHERE w.id = $1""",
        workspace_id,
    )
    if row is None:
        raise cliutil.CommandFailed(f"no workspace {workspace_id}")
    return Principal(workspace_id, row["plan"], row["entitlements"], row["time_zone"], 0)


async def _import(
    ctx: AppContext, principal: Principal, rows: list[Row], args: argparse.Namespace
) -> tuple[int, list[tuple[str, str]]]:
    progress = Progress(console=Console(stderr=True), disable=not sys.stderr.isatty())
    with progress:
        task = progress.add_task("importing", total=sum(r.spec is not None for r in rows))
        try:
            outcome = await import_rows(
                ctx,
                principal,
                rows,
                dry_run=args.dry_run,
                domain=args.domain,
                advance=lambda n: progress.advance(task, n),
            )
        except LinkError as exc:
            raise cliutil.CommandFailed(exc.message) from None
    return outcome.done, outcome.refused
