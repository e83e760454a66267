"""Linkly's click analytics over kurz's statistics:

- `GET /api/v1/workspace/{ws}/clicks`: a time series, by day or by hour;
- `GET /api/v1/workspace/{ws}/clicks/counters/{counter}`: clicks by one dimension;
- `GET /api/v1/workspace/{ws}/clicks/export?format=json|csv|tsv`: raw clicks, streamed.

Linkly's public documentation does not show these responses; the shapes are kurz's
choice, documented in docs/linkly.md. Bots are included unless `bots` says otherwise,
as Linkly's own client documents. Figures come from the rollups when nothing needs raw
clicks (a country, platform or browser filter, bots other than "exclude", or unique
visitors by dimension).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, TypeVar

import msgspec
from kurz.plans import entitlements
from kurz.validation import parse_id
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from kurz_management import constraints as c
from kurz_management import openapi
from kurz_management.constraints import query_breach
from kurz_management.context import AppContext
from kurz_management.core.analytics import exporting, raw, rollups
from kurz_management.core.analytics.model import (
    HTTP_STATUS,
    AnalyticsError,
    Bots,
    Count,
    Period,
    RawFilter,
    Selection,
)
from kurz_management.core.analytics.periods import parse_day, period
from kurz_management.core.analytics.selection import select
from kurz_management.core.auth import Principal
from kurz_management.linkly.errors import LinklyError
from kurz_management.linkly.render import encode
from kurz_management.linkly.request import authorize, read_payload
from kurz_management.openapi import DocumentedRoute

HOURLY_MAX_DAYS = 31
Q = TypeVar("Q", bound=msgspec.Struct)
Counter = Literal[
    "country", "platform", "browser_name", "browser", "referer", "link_id", "destination",
    "bot_name", "isp", "top_params",
]  # fmt: skip
# Counter → the dimension it reads, in the rollups and in raw clicks (link_id reads
# per-link rollups; bot_name only the rollups, where bots are named).
_DIMENSION = {
    "country": "country",
    "platform": "os",
    "browser_name": "browser",
    "browser": "browser",
    "referer": "referrer",
    "destination": "destination",
    "bot_name": "bot",
}
# Counters only raw clicks hold (no rollup has them): always counted from raw clicks.
_RAW_ONLY = {"isp": "isp", "top_params": "params"}
COUNTERS: tuple[str, ...] = (*_DIMENSION, "link_id", *_RAW_ONLY)
openapi.path_words("linkly_counter", COUNTERS)
# Link ids as Linkly's query takes them: one, or several separated by commas.
# Empty is the same as absent.
LinkIds = Annotated[str, c.declared(pattern=r"^(?:[1-9][0-9]{0,17}(?:,[1-9][0-9]{0,17})*)?$")]
Country = Annotated[str, c.declared(pattern="^[A-Za-z]{2}$")]


class LinklyClicksQuery(msgspec.Struct, omit_defaults=True):
    """Fields:
    start: First local day, YYYY-MM-DD; default: 29 days before end.
    end: Last local day, included; default: today.
    link_id: One link id, or several comma-separated.
    api_key: The API key, when not in the X-API-KEY header.
    workspace_id: The key's workspace, when not in the X-WORKSPACE-ID header.
    frequency: day (default) or hour.
    country: Only clicks from this country (ISO alpha-2).
    platform: Only clicks from this platform.
    browser: Only clicks from this browser.
    unique: true: count distinct visitors, not clicks.
    bots: include (default), exclude or only bot clicks.
    """

    start: c.QueryDate | None = None  # local to the workspace; default: end - 29 days
    end: c.QueryDate | None = None  # default: today
    link_id: LinkIds | None = None  # one id or several, comma separated
    frequency: Literal["day", "hour"] = "day"
    country: Country | None = None
    platform: Literal["ios", "android", "windows", "mac", "linux"] | None = None
    browser: c.Text | None = None
    unique: bool = False
    bots: Bots = "include"
    api_key: str | None = None
    workspace_id: str | None = None


class LinklyCountersQuery(msgspec.Struct, omit_defaults=True):
    """Fields:
    start: First local day, YYYY-MM-DD; default: 29 days before end.
    end: Last local day, included; default: today.
    link_id: One link id, or several comma-separated.
    api_key: The API key, when not in the X-API-KEY header.
    workspace_id: The key's workspace, when not in the X-WORKSPACE-ID header.
    limit: Rows of the ranking (default 100).
    country: Only clicks from this country (ISO alpha-2).
    platform: Only clicks from this platform.
    browser: Only clicks from this browser.
    unique: true: count distinct visitors, not clicks.
    bots: include (default), exclude or only bot clicks.
    """

    start: c.QueryDate | None = None
    end: c.QueryDate | None = None
    link_id: LinkIds | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100
    country: Country | None = None
    platform: Literal["ios", "android", "windows", "mac", "linux"] | None = None
    browser: c.Text | None = None
    unique: bool = False
    bots: Bots = "include"
    api_key: str | None = None
    workspace_id: str | None = None


class LinklyClicksExportQuery(LinklyClicksQuery, omit_defaults=True):
    """Fields:
    format: json (default), csv or tsv.
    """

    format: Literal["json", "csv", "tsv"] = "json"


class LinklyPoint(msgspec.Struct):
    """Fields:
    t: The day (2025-08-01) or local hour (2025-08-01T13:00).
    count: Clicks, or distinct visitors with unique=true.
    """

    t: str  # "2025-08-01", or "2025-08-01T13:00" (local hour) by hour
    count: int  # clicks, or unique visitors with unique=true


class LinklyClicks(msgspec.Struct):
    """Fields:
    start: First day.
    end: Last day.
    time_zone: The workspace's time zone.
    frequency: day or hour.
    unique: Whether counts are distinct visitors.
    bots: Which clicks were counted.
    total: The sum of all points.
    results: Every day or hour, in order.
    """

    start: str
    end: str
    time_zone: str
    frequency: str
    unique: bool
    bots: str
    total: int
    results: list[LinklyPoint]


class LinklyCount(msgspec.Struct):
    """Fields:
    value: The value counted; null: unknown.
    count: Counted clicks.
    """

    value: str | int | None  # null: unknown (no country, direct visit)
    count: int


class LinklyCounter(msgspec.Struct):
    """Fields:
    counter: What is counted.
    start: First day.
    end: Last day.
    results: Most clicks first.
    """

    counter: str
    start: str
    end: str
    results: list[LinklyCount]


def _query(request: Request, shape: type[Q]) -> Q:
    params = {k: v for k, v in request.query_params.items() if v != ""}
    if breach := query_breach(shape, params):
        raise LinklyError(400, f"invalid query parameter: {breach[1]}", field=breach[0])
    try:
        return msgspec.convert(params, shape, strict=False)
    except msgspec.ValidationError as exc:
        raise LinklyError(400, f"invalid query parameter: {exc}") from None


def _link_ids(raw_ids: str | None) -> list[int] | None:
    if raw_ids is None:
        return None
    ids = [parse_id(p.strip()) for p in raw_ids.split(",") if p.strip()]
    if not ids or None in ids:
        raise LinklyError(
            400, f"link_id must be link ids separated by commas, got {raw_ids!r}", field="link_id"
        )
    return [i for i in ids if i is not None]


async def _context(
    request: Request,
    ctx: AppContext,
    start: str | None,
    end: str | None,
    link_id: str | None,
    *,
    max_days: int = 366,
) -> tuple[Principal, Selection, Period]:
    payload = await read_payload(request, ctx.settings.api.max_body_bytes)
    principal = await authorize(request, ctx, payload, path_workspace=request.path_params["ws"])
    tz = principal.time_zone
    try:
        span = period(parse_day(start, "start"), parse_day(end, "end"), tz, max_days=max_days)
        sel = await select(
            ctx.pool,
            principal.workspace_id,
            tz,
            entitlements=entitlements(principal.entitlements),
            link_ids=_link_ids(link_id),
        )
    except AnalyticsError as exc:
        raise LinklyError(HTTP_STATUS[exc.kind], exc.message, field=exc.field) from None
    return principal, sel, span


def _json(value: object) -> Response:
    return Response(encode(value), media_type="application/json")


async def clicks(request: Request, ctx: AppContext) -> Response:
    q = _query(request, LinklyClicksQuery)
    hourly = q.frequency == "hour"
    max_days = HOURLY_MAX_DAYS if hourly else 366
    _, sel, span = await _context(request, ctx, q.start, q.end, q.link_id, max_days=max_days)
    flt = RawFilter(q.country, q.platform, q.browser, q.bots)
    if flt.needs_raw:
        buckets = await raw.series(ctx.pool, sel, flt, span, hourly=hourly)
    elif hourly:
        buckets = await rollups.hourly(ctx.pool, sel, span)
    else:
        buckets = await rollups.daily(ctx.pool, sel, span)
    points = [
        LinklyPoint(_stamp(b.day, b.hour), b.visitors if q.unique else b.clicks) for b in buckets
    ]
    return _json(
        LinklyClicks(
            span.start.isoformat(),
            span.end.isoformat(),
            sel.time_zone,
            q.frequency,
            q.unique,
            q.bots,
            sum(p.count for p in points),
            points,
        )
    )


def _stamp(day: date, hour: int | None) -> str:
    return day.isoformat() if hour is None else f"{day.isoformat()}T{hour:02d}:00"


async def counters(request: Request, ctx: AppContext) -> Response:
    counter = request.path_params["counter"]
    q = _query(request, LinklyCountersQuery)
    _, sel, span = await _context(request, ctx, q.start, q.end, q.link_id)
    if counter not in COUNTERS:
        raise LinklyError(404, f"unknown counter {counter!r}; one of: " + ", ".join(COUNTERS))
    # Linkly's own client names the counter in the query too: the same one, or refused.
    again = request.query_params.get("counter")
    if again and again != counter:
        raise LinklyError(400, f"counter {again!r} in the query is not {counter!r}")
    if not 1 <= q.limit <= 1000:
        raise LinklyError(400, "limit must be between 1 and 1000", field="limit")
    flt = RawFilter(q.country, q.platform, q.browser, q.bots)
    if counter in _RAW_ONLY or (counter != "bot_name" and (flt.needs_raw or q.unique)):
        results = await _raw_counts(ctx, sel, span, flt, counter, q.unique, q.limit)
    else:
        results = await _counts(ctx, sel, span, counter, q.limit)
    return _json(LinklyCounter(counter, span.start.isoformat(), span.end.isoformat(), results))


async def _counts(
    ctx: AppContext, sel: Selection, span: Period, counter: str, limit: int
) -> list[LinklyCount]:
    if counter == "link_id":
        per_link = await rollups.by_link(ctx.pool, sel, span, limit)
        return [LinklyCount(t.link_id, t.clicks) for t in per_link]
    if counter == "platform":
        families = await rollups.counts(ctx.pool, sel, "os", span, limit=10_000)
        merged: dict[str, int] = {}
        for item in families:
            key = raw.platform_of(item.value)
            merged[key] = merged.get(key, 0) + item.clicks
        ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [LinklyCount(value, n) for value, n in ranked]
    found: list[Count] = await rollups.counts(ctx.pool, sel, _DIMENSION[counter], span, limit)
    return [LinklyCount(c.value or None, c.clicks) for c in found]


async def _raw_counts(
    ctx: AppContext, sel: Selection, span: Period, flt: RawFilter, counter: str, unique: bool,
    limit: int,
) -> list[LinklyCount]:  # fmt: skip
    dimension = _RAW_ONLY.get(counter) or (
        "link_id" if counter == "link_id" else _DIMENSION[counter]
    )
    wide = 10_000 if counter == "platform" else limit  # merged below, then cut
    found = await raw.counts(ctx.pool, sel, flt, span, dimension, unique=unique, limit=wide)
    if counter == "link_id":
        return [LinklyCount(int(v), n) for v, n in found if v is not None]
    if counter == "platform":
        merged: dict[str, int] = {}
        for value, n in found:
            key = raw.platform_of(value or "")
            merged[key] = merged.get(key, 0) + n
        ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [LinklyCount(value, n) for value, n in ranked]
    return [LinklyCount(v or None, n) for v, n in found]


async def export(request: Request, ctx: AppContext) -> Response:
    q = _query(request, LinklyClicksExportQuery)
    principal, sel, span = await _context(request, ctx, q.start, q.end, q.link_id)
    flt = RawFilter(q.country, q.platform, q.browser, q.bots)
    name = f"clicks-{principal.workspace_id}-{span.start}-{span.end}.{q.format}"
    return StreamingResponse(
        await exporting.chunks(ctx.pool, sel, flt, span, q.format),
        media_type=exporting.MEDIA_TYPES[q.format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def declared() -> list[DocumentedRoute]:
    """The click statistics routes, each with its OpenAPI entry."""
    from kurz_management import openapi
    from kurz_management.linkly.endpoint import linkly_route
    from kurz_management.linkly.errors import LinklyErrorBody

    errors = {s: LinklyErrorBody for s in (400, 401, 403, 404, 429, 500)}
    documented = [
        (
            "/api/v1/workspace/{ws}/clicks",
            clicks,
            LinklyClicksQuery,
            LinklyClicks,
            "application/json",
            "Clicks (or unique visitors) by day or hour; filters by link, country, platform, "
            "browser, bots",
        ),
        (
            "/api/v1/workspace/{ws}/clicks/export",
            export,
            LinklyClicksExportQuery,
            None,
            "application/json",
            "Raw clicks as a streamed JSON array, CSV or TSV file (format=json|csv|tsv)",
        ),
        (
            "/api/v1/workspace/{ws}/clicks/counters/{counter:linkly_counter}",
            counters,
            LinklyCountersQuery,
            LinklyCounter,
            "application/json",
            "Clicks by country, platform, browser_name (or browser), referer, link_id, "
            "destination, bot_name, isp or top_params, most first",
        ),
    ]
    return [
        linkly_route(
            openapi.operation(
                "GET",
                path,
                "linkly",
                None,
                answer,
                query_type=query,
                errors=errors,
                summary=summary,
                security="linkly_key",
                response_content_type=media,
                empty_query_is_absent=True,  # _query drops empty values
            ),
            handler,
        )
        for path, handler, query, answer, media, summary in documented
    ]
