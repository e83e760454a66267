"""The HTML of statistics figures, shared by the public statistics page and the console's
statistics pages so both look and read the same: total cards, the chart panel (drawn by
/stats/static/stats.js from its numbers table, which stays as the accessible fallback),
rankings and the period picker.

Everything that comes from users (referrers, browsers, country codes) goes through `e`;
nothing is put in a script or a style. The rules are in /stats/static/figures.css."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from html import escape

from kurz_management.core.analytics.model import Bucket, Count, Period

STATIC = "/stats/static"
FIGURES_CSS = f"{STATIC}/figures.css"
CHART_JS = f"{STATIC}/stats.js"
DEVICES = {"desktop": "Desktop", "mobile": "Mobile", "tablet": "Tablet", "other": "Other"}
SOURCES = {"qr": "QR code scans", "link": "Link clicks"}


def e(value: object) -> str:
    return escape(str(value), quote=True)


def n(value: int) -> str:
    return f"{value:,}"


def country(code: str) -> str:
    return code.upper() if len(code) == 2 and code.isalpha() else "Unknown"


def device(value: str) -> str:
    return DEVICES.get(value, value or "Unknown")


def referrer(value: str) -> str:
    return value or "Direct / none"


def unknown(value: str) -> str:
    return value or "Unknown"


def source(value: str) -> str:
    return SOURCES.get(value, value or "Unknown")


def card(label: str, value: int, ident: str) -> str:
    return (
        f'<div class="card stat"><span class="label">{e(label)}</span>'
        f'<span class="value" id="{e(ident)}" data-value="{value}">{n(value)}</span></div>'
    )


def chart_panel(days: Sequence[Bucket]) -> str:
    """Clicks as bars and unique visitors as a line, day by day; without a script (or
    for a screen reader) the same numbers are the table under "Show the numbers"."""
    return f"""<section class="panel">
<div class="panel-head"><h2>Clicks and unique visitors</h2>
<p class="legend"><span class="key clicks"></span>Clicks <span class="key visitors"></span>Unique
 visitors</p></div>
<div id="chart" class="chart" role="img" aria-label="Daily clicks and unique visitors"></div>
<details class="numbers"><summary>Show the numbers</summary>
{series_table(days)}
</details>
</section>"""


def series_table(days: Sequence[Bucket]) -> str:
    rows = "".join(
        f'<tr data-day="{b.day.isoformat()}" data-clicks="{b.clicks}" '
        f'data-visitors="{b.visitors}"><th scope="row">{b.day.isoformat()}</th>'
        f"<td>{n(b.clicks)}</td><td>{n(b.visitors)}</td></tr>"
        for b in days
    )
    return (
        f'<table id="series" class="table"><thead><tr><th scope="col">Day</th>'
        f'<th scope="col">Clicks</th><th scope="col">Unique visitors</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def ranking(title: str, ident: str, counts: Sequence[Count], label: Callable[[str], str]) -> str:
    if not counts:
        items = '<li class="empty">No clicks in this period</li>'
    else:
        top = max(c.clicks for c in counts) or 1
        items = "".join(
            f'<li data-value="{e(c.value)}" data-clicks="{c.clicks}">'
            f'<span class="name">{e(label(c.value))}</span>'
            f'<span class="count">{n(c.clicks)}</span>'
            f'<svg class="bar" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect width="100" height="4" rx="2" class="track"/>'
            f'<rect width="{100 * c.clicks / top:.1f}" height="4" rx="2"/></svg></li>'
            for c in counts
        )
    return (
        f'<section class="panel rank" id="{e(ident)}"><h2>{e(title)}</h2>'
        f'<ol class="ranking">{items}</ol></section>'
    )


def ranges(span: Period, today: date, choices: Sequence[int], action: str = "") -> str:
    """Links to the last N days (the current one marked), then the custom range form."""
    current = ' aria-current="page"'
    days = span.days if span.end == today else None
    links = "".join(
        f'<a href="{e(action)}?days={d}"{current if d == days else ""}>{d} days</a>'
        for d in choices
    )
    return links + range_form(span, action)


def range_form(span: Period, action: str = "") -> str:
    """Any range of days, sent as ?start=&end= (checked by the server, a year at most)."""
    return (
        f'<form class="range" method="get" action="{e(action)}">'
        f'<label>From <input type="date" name="start" value="{span.start.isoformat()}" '
        "required></label>"
        f'<label>to <input type="date" name="end" value="{span.end.isoformat()}" required>'
        '</label><button type="submit">Show</button></form>'
    )
