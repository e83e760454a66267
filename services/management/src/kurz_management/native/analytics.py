"""Native analytics: summary, timeseries,
geo, devices, referrers, utm and a streamed export, each filterable by one link, one
group or one tag and by a date range (local days in the workspace's time zone).

Every figure except the export comes from the rollups. Unique visitors are exact for
one link, one group or the whole workspace; over a tag's links they are the sum of each
link's (`unique_visitors_exact` says which)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from kurz.plans import entitlements
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from kurz_management import constraints as c
from kurz_management.core.analytics import exporting, rollups
from kurz_management.core.analytics.model import (
    HTTP_STATUS,
    AnalyticsError,
    Count,
    Period,
    RawFilter,
    Selection,
)
from kurz_management.core.analytics.periods import parse_day, period
from kurz_management.core.analytics.selection import select
from kurz_management.native.endpoint import Call, Handler, NativeError, json_response
from kurz_management.native.routing import native_route

HOURLY_MAX_DAYS = 31
RANKING_MAX = 1000


class AnalyticsQuery(msgspec.Struct, omit_defaults=True):
    """Fields:
    start: First local day (YYYY-MM-DD, the workspace's time zone); default: 29 days before end.
    end: Last local day, included (YYYY-MM-DD); default: today.
    link_id: Only this link's clicks.
    group_id: Only this link group's clicks.
    tag: Only the clicks of links with this tag (name or id).
    limit: Rows of a ranking (geo, devices, referrers, utm); default 50.
    """

    start: c.QueryDate | None = None  # default: 29 days before end
    end: c.QueryDate | None = None  # default: today
    link_id: c.Id | None = None
    group_id: c.Id | None = None
    tag: c.Text | None = None
    limit: Annotated[int, c.declared(minimum=1, maximum=RANKING_MAX)] = (
        50  # rows of a ranking (geo, devices, referrers, utm)
    )


class AnalyticsTimeseriesQuery(AnalyticsQuery, omit_defaults=True):
    """Fields:
    interval: day (default) or hour (local hours, at most 31 days).
    """

    interval: Literal["day", "hour"] = "day"


class AnalyticsExportQuery(AnalyticsQuery, omit_defaults=True):
    """Fields:
    format: csv (default) or json (one object per line).
    bots: exclude (default), include or only bot clicks.
    """

    format: Literal["csv", "json"] = "csv"
    bots: Literal["include", "exclude", "only"] = "exclude"


class AnalyticsSummary(msgspec.Struct):
    """Fields:
    start: First day of the period.
    end: Last day of the period.
    time_zone: The workspace's time zone the days are in.
    clicks: Counted clicks (bots excluded).
    unique_visitors: Distinct visitors of each day, summed over the days.
    unique_visitors_exact: false when summed over several links' own figures (a tag): a visitor
        of two links counts twice.
    """

    start: str
    end: str
    time_zone: str
    clicks: int
    unique_visitors: int  # distinct visitors per day, summed over the days
    unique_visitors_exact: bool


class AnalyticsSummaryEnvelope(msgspec.Struct):
    """Fields:
    summary: The figures.
    """

    summary: AnalyticsSummary


class AnalyticsPoint(msgspec.Struct):
    """Fields:
    period: The day (2025-08-01) or local hour (2025-08-01T13:00).
    clicks: Counted clicks.
    unique_visitors: Distinct visitors.
    """

    period: str  # "2025-08-01", or "2025-08-01T13:00" (local hour)
    clicks: int
    unique_visitors: int


class AnalyticsTimeseriesEnvelope(msgspec.Struct):
    """Fields:
    interval: day or hour.
    time_zone: The workspace's time zone.
    timeseries: Every day or hour of the period, in order, zeros included.
    """

    interval: str
    time_zone: str
    timeseries: list[AnalyticsPoint]


class AnalyticsRanked(msgspec.Struct):
    """Fields:
    name: The value (country code, device, OS, browser or referrer host); null: unknown.
    clicks: Counted clicks.
    """

    name: str | None  # null: unknown (no country known, a direct visit)
    clicks: int


class AnalyticsGeoEnvelope(msgspec.Struct):
    """Fields:
    geo: Countries (ISO 3166-1 alpha-2), most clicks first.
    """

    geo: list[AnalyticsRanked]  # name: ISO alpha-2 country code


class AnalyticsDevices(msgspec.Struct):
    """Fields:
    device: desktop, mobile, tablet or other.
    os: Operating systems.
    browser: Browsers.
    """

    device: list[AnalyticsRanked]  # desktop, mobile, tablet, other
    os: list[AnalyticsRanked]
    browser: list[AnalyticsRanked]


class AnalyticsDevicesEnvelope(msgspec.Struct):
    """Fields:
    devices: Clicks by device, OS and browser.
    """

    devices: AnalyticsDevices


class AnalyticsReferrersEnvelope(msgspec.Struct):
    """Fields:
    referrers: Referrer hosts, most clicks first; null: direct visits.
    """

    referrers: list[AnalyticsRanked]  # name: the referrer's host


class AnalyticsUtm(msgspec.Struct):
    """Fields:
    utm_source: The link's utmSource.
    utm_medium: The link's utmMedium.
    utm_campaign: The link's utmCampaign.
    clicks: Counted clicks.
    unique_visitors: Distinct visitors of each day, summed.
    """

    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    clicks: int
    unique_visitors: int


class AnalyticsUtmEnvelope(msgspec.Struct):
    """Fields:
    utm: Clicks by the clicked links' UTM tags.
    """

    utm: list[AnalyticsUtm]


async def _scope(
    call: Call, query: AnalyticsQuery, *, max_days: int = 366
) -> tuple[Selection, Period]:
    if not 1 <= query.limit <= RANKING_MAX:
        raise NativeError(400, f"limit must be between 1 and {RANKING_MAX}")
    tz = call.principal.time_zone
    try:
        span = period(
            parse_day(query.start, "start"), parse_day(query.end, "end"), tz, max_days=max_days
        )
        links = None if query.link_id is None else [query.link_id]
        sel = await select(
            call.ctx.pool,
            call.principal.workspace_id,
            tz,
            entitlements=entitlements(call.principal.entitlements),
            link_ids=links,
            group_id=query.group_id,
            tag=query.tag,
        )
    except AnalyticsError as exc:
        raise NativeError(HTTP_STATUS[exc.kind], exc.message) from None
    return sel, span


def _ranked(counts: list[Count]) -> list[AnalyticsRanked]:
    return [AnalyticsRanked(c.value or None, c.clicks) for c in counts]


async def summary(call: Call) -> Response:
    sel, span = await _scope(call, call.query(AnalyticsQuery))
    totals = await rollups.totals(call.ctx.pool, sel, span)
    return json_response(
        AnalyticsSummaryEnvelope(
            AnalyticsSummary(
                span.start.isoformat(),
                span.end.isoformat(),
                sel.time_zone,
                totals.clicks,
                totals.visitors,
                sel.exact_visitors,
            )
        )
    )


async def timeseries(call: Call) -> Response:
    query = call.query(AnalyticsTimeseriesQuery)
    hourly = query.interval == "hour"
    sel, span = await _scope(call, query, max_days=HOURLY_MAX_DAYS if hourly else 366)
    fetch = rollups.hourly if hourly else rollups.daily
    points = [
        AnalyticsPoint(
            b.day.isoformat() if b.hour is None else f"{b.day.isoformat()}T{b.hour:02d}:00",
            b.clicks,
            b.visitors,
        )
        for b in await fetch(call.ctx.pool, sel, span)
    ]
    return json_response(AnalyticsTimeseriesEnvelope(query.interval, sel.time_zone, points))


async def geo(call: Call) -> Response:
    query = call.query(AnalyticsQuery)
    sel, span = await _scope(call, query)
    counts = await rollups.counts(call.ctx.pool, sel, "country", span, query.limit)
    return json_response(AnalyticsGeoEnvelope(_ranked(counts)))


async def devices(call: Call) -> Response:
    query = call.query(AnalyticsQuery)
    sel, span = await _scope(call, query)
    pool, limit = call.ctx.pool, query.limit
    found = [await rollups.counts(pool, sel, d, span, limit) for d in ("device", "os", "browser")]
    return json_response(AnalyticsDevicesEnvelope(AnalyticsDevices(*(_ranked(c) for c in found))))


async def referrers(call: Call) -> Response:
    query = call.query(AnalyticsQuery)
    sel, span = await _scope(call, query)
    counts = await rollups.counts(call.ctx.pool, sel, "referrer", span, query.limit)
    return json_response(AnalyticsReferrersEnvelope(_ranked(counts)))


async def utm(call: Call) -> Response:
    query = call.query(AnalyticsQuery)
    sel, span = await _scope(call, query)
    rows = await rollups.by_utm(call.ctx.pool, sel, span, query.limit)
    return json_response(
        AnalyticsUtmEnvelope(
            [AnalyticsUtm(r.source, r.medium, r.campaign, r.clicks, r.visitors) for r in rows]
        )
    )


async def export(call: Call) -> Response:
    """Raw clicks of the period, streamed as CSV (default) or a JSON array."""
    query = call.query(AnalyticsExportQuery)
    sel, span = await _scope(call, query)
    flt = RawFilter(bots=query.bots)
    name = f"clicks-{sel.workspace_id}-{span.start}-{span.end}.{query.format}"
    return StreamingResponse(
        await exporting.chunks(call.ctx.pool, sel, flt, span, query.format),
        media_type=exporting.MEDIA_TYPES[query.format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


_OPERATIONS: list[tuple[str, Handler, Any, Any, str]] = [
    ("summary", summary, AnalyticsQuery, AnalyticsSummaryEnvelope, "Clicks and unique visitors"),
    (
        "timeseries",
        timeseries,
        AnalyticsTimeseriesQuery,
        AnalyticsTimeseriesEnvelope,
        "Clicks and unique visitors by day or local hour (hour: at most 31 days)",
    ),
    ("geo", geo, AnalyticsQuery, AnalyticsGeoEnvelope, "Clicks by country"),
    (
        "devices",
        devices,
        AnalyticsQuery,
        AnalyticsDevicesEnvelope,
        "Clicks by device, OS and browser",
    ),
    ("referrers", referrers, AnalyticsQuery, AnalyticsReferrersEnvelope, "Clicks by referrer host"),
    ("utm", utm, AnalyticsQuery, AnalyticsUtmEnvelope, "Clicks by the clicked links' UTM tags"),
    ("export", export, AnalyticsExportQuery, None, "Raw clicks, streamed as CSV or JSON"),
]


def _route(name: str, handler: Handler, query: Any, answer: Any, summary_text: str) -> Route:
    return native_route(
        "GET",
        f"/api/v1/analytics/{name}",
        handler,
        summary_text,
        response=answer,
        query=query,
        errors=(400, 404),
        media="text/csv" if name == "export" else "application/json",
    )


routes: list[BaseRoute] = [_route(*op) for op in _OPERATIONS]
