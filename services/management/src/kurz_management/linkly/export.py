"""GET /api/v1/workspace/{ws}/links/export: every live link (or those matching `search`,
by URL, name, slug or note), as JSON or CSV, streamed.

Links come from the links layer in keyset batches, so memory stays flat however many
links the workspace has; each batch is encoded and sent before the next is read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from kurz_management import constraints as c
from kurz_management.context import AppContext
from kurz_management.core.analytics.exporting import primed
from kurz_management.core.links import service
from kurz_management.linkly.errors import LinklyError
from kurz_management.linkly.render import csv_header, csv_rows, encode, to_linkly
from kurz_management.linkly.request import authorize, read_payload

BATCH = 1000
_MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


class LinklyExportQuery(msgspec.Struct, omit_defaults=True):
    """Fields:
    api_key: The API key, when not in the X-API-KEY header.
    format: json (default) or csv, in any case; the answer's media type follows it.
    search: Only links whose URL, name, slug or note contains this (any case).
    """

    api_key: str | None = None
    format: Annotated[str, c.declared(pattern=c.anchored(c.one_of_words(_MEDIA)))] = "json"
    search: c.Text | None = None


async def export_links(request: Request, ctx: AppContext) -> Response:
    payload = await read_payload(request, ctx.settings.api.max_body_bytes)
    workspace = request.path_params["ws"]
    principal = await authorize(request, ctx, payload, path_workspace=workspace)
    if breach := c.query_breach(LinklyExportQuery, dict(request.query_params)):
        raise LinklyError(400, f"invalid query: {breach[1]}", field=breach[0])
    fmt = (request.query_params.get("format") or "json").lower()
    if fmt not in _MEDIA:
        raise LinklyError(400, "format must be json or csv", field="format")
    # The first batch read now: a database that does not answer gets its 503 before
    # the response starts, not a 200 with a broken body.
    search = request.query_params.get("search") or None
    batches = await primed(service.iter_links(ctx, principal, batch=BATCH, search=search))
    chunks = _json_chunks(ctx, batches) if fmt == "json" else _csv_chunks(ctx, batches)
    disposition = f'attachment; filename="links-{principal.workspace_id}.{fmt}"'
    return StreamingResponse(
        chunks, media_type=_MEDIA[fmt], headers={"Content-Disposition": disposition}
    )


async def _json_chunks(ctx: AppContext, batches: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    """One JSON array, written a batch at a time."""
    domain = ctx.settings.edge.default_domain
    yield b"["
    first = True
    async for records in batches:
        if not records:
            continue
        items = encode([to_linkly(r, domain) for r in records])[1:-1]
        yield items if first else b"," + items
        first = False
    yield b"]"


async def _csv_chunks(ctx: AppContext, batches: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    """A header row, then one row per link; `rules` as its JSON array."""
    domain = ctx.settings.edge.default_domain
    yield csv_header().encode()
    async for records in batches:
        yield csv_rows(to_linkly(r, domain) for r in records).encode()
