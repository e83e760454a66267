"""Importing links from a file (a CSV, or another shortener's export): upload, a preview
of every row (what will be created, and why a row would be refused) from a dry run of
the same checks, then the import itself, which reports every row it refused."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kurz_management.console.links import domain_choices
from kurz_management.console.pages import Page, console_page, problem
from kurz_management.core.links.model import LinkError
from kurz_management.importer.batches import import_rows
from kurz_management.importer.formats import FORMATS, Row, UnreadableFile, read_rows

PREVIEW_ROWS = 500  # rows the preview lists; the counts cover every row


async def _choices(page: Page) -> list[str]:
    return await domain_choices(page)


@console_page()
async def import_form(request: Request, page: Page) -> Response:
    return page.render("import.html", stage="upload", formats=FORMATS, domains=await _choices(page),
                       chosen={"format": "auto", "domain": ""}, error=None)  # fmt: skip


async def _read(page: Page) -> tuple[str, str, str, list[Row]] | Response:
    """(text, format, domain, rows) of the posted file or carried text, or the page
    that says why they cannot be read."""
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
    return text, fmt, domain, rows


@console_page(upload=True)
async def preview(request: Request, page: Page) -> Response:
    read = await _read(page)
    if isinstance(read, Response):
        return read
    text, fmt, domain, rows = read
    try:
        checked = await import_rows(page.ctx, page.principal, rows, dry_run=True,
                                    domain=domain or None)  # fmt: skip
    except LinkError as exc:
        return problem(503 if exc.kind == "unavailable" else 400, "Cannot check", exc.message, page)
    why = dict(checked.refused)
    return page.render(
        "import.html",
        stage="preview",
        rows=[(r, why.get(r.where)) for r in rows[:PREVIEW_ROWS]],
        hidden_rows=max(0, len(rows) - PREVIEW_ROWS),
        good=checked.done,
        refused=checked.refused,
        content=text,
        chosen={"format": fmt, "domain": domain},
    )


@console_page(upload=True)
async def run(request: Request, page: Page) -> Response:
    read = await _read(page)
    if isinstance(read, Response):
        return read
    _, _, domain, rows = read
    try:
        outcome = await import_rows(page.ctx, page.principal, rows, dry_run=False,
                                    domain=domain or None)  # fmt: skip
    except LinkError as exc:
        return problem(503 if exc.kind == "unavailable" else 400, "Not imported", exc.message, page)
    return page.render("import.html", stage="done", created=outcome.created,
                       refused=outcome.refused, total=len(rows))  # fmt: skip


routes = [
    Route("/links/import", import_form, methods=["GET"]),
    Route("/links/import", preview, methods=["POST"]),
    Route("/links/import/run", run, methods=["POST"]),
]
