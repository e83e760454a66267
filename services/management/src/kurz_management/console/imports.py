"""Importing links from a file (a CSV, or another shortener's export): upload, a preview
of every row (what will be created, and why a row would be refused) from a dry run of
the same checks, then the import itself, which reports every row it refused."""

from __future__ import annotations

from typing import NamedTuple

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kurz_management.console.links import domain_choices
from kurz_management.console.pages import Page, console_page, problem
from kurz_management.core.links.model import LinkError
from kurz_management.importer.batches import Outcome, import_rows
from kurz_management.importer.formats import FORMATS, Row, UnreadableFile, read_rows

PREVIEW_ROWS = 500  # rows the preview lists; the counts cover every row


async def _choices(page: Page) -> list[str]:
    return await domain_choices(page)


@console_page()
async def import_form(request: Request, page: Page) -> Response:
    return page.render("import.html", stage="upload", formats=FORMATS, domains=await _choices(page),
                       chosen={"format": "auto", "domain": ""}, error=None)  # fmt: skip


class Read(NamedTuple):
    text: str
    format: str
    domain: str
    rows: list[Row]


async def _read(page: Page) -> Read | Response:
    """The posted file (or the text a preview carried) and its rows, or the page that
    says why they cannot be read."""
    form = await page.form()
    fmt = str(form.get("format") or "auto")
    domain = str(form.get("domain") or "")
    upload = form.get("file")
    if isinstance(upload, UploadFile):
        raw = await upload.read()
    else:
        raw = str(form.get("content") or "").encode()
    chosen = {"format": fmt, "domain": domain}

    async def again(message: str) -> Response:
        return page.render("import.html", 400, stage="upload", formats=FORMATS,
                           domains=await _choices(page), chosen=chosen, error=message)  # fmt: skip

    if fmt not in FORMATS:
        return await again("Choose one of the formats.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return await again("The file is not UTF-8 text. Save it as CSV (UTF-8) and try again.")
    try:
        rows = read_rows(text, fmt)
    except UnreadableFile as exc:
        return await again(f"The file cannot be read: {exc}.")
    if not rows:
        return await again("The file has no rows.")
    return Read(text, fmt, domain, rows)


async def _imported(page: Page, *, dry_run: bool) -> tuple[Read, Outcome] | Response:
    """The posted file's rows run through the import (only checked, in a dry run)."""
    read = await _read(page)
    if isinstance(read, Response):
        return read
    try:
        outcome = await import_rows(page.ctx, page.principal, read.rows, dry_run=dry_run,
                                    domain=read.domain or None)  # fmt: skip
    except LinkError as exc:
        status = 503 if exc.kind == "unavailable" else 400
        return problem(status, "Not imported", exc.message, page)
    return read, outcome


@console_page(upload=True)
async def preview(request: Request, page: Page) -> Response:
    done = await _imported(page, dry_run=True)
    if isinstance(done, Response):
        return done
    read, checked = done
    why = dict(checked.refused)
    return page.render(
        "import.html",
        stage="preview",
        rows=[(r, why.get(r.where)) for r in read.rows[:PREVIEW_ROWS]],
        hidden_rows=max(0, len(read.rows) - PREVIEW_ROWS),
        good=checked.done,
        refused=checked.refused,
        content=read.text,
        chosen={"format": read.format, "domain": read.domain},
    )


@console_page(upload=True)
async def run(request: Request, page: Page) -> Response:
    done = await _imported(page, dry_run=False)
    if isinstance(done, Response):
        return done
    read, outcome = done
    return page.render("import.html", stage="done", created=outcome.created,
                       refused=outcome.refused, total=len(read.rows))  # fmt: skip


routes = [
    Route("/links/import", import_form, methods=["GET"]),
    Route("/links/import", preview, methods=["POST"]),
    Route("/links/import/run", run, methods=["POST"]),
]
