"""Local days: parsing, ranges and the calendar a series is filled over."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kurz_management.core.analytics.model import AnalyticsError, Period

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_DAYS = 366  # one year, leap day included: the longest range a query may span


def parse_day(text: str | None, field: str) -> date | None:
    """`YYYY-MM-DD`, or None when not given."""
    if text is None or text.strip() == "":
        return None
    value = text.strip()
    if _DAY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise AnalyticsError("invalid", f"{field} must be a date as YYYY-MM-DD, got {text!r}", field)


def today(time_zone: str) -> date:
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).date()


def period(
    start: date | None,
    end: date | None,
    time_zone: str,
    *,
    fields: tuple[str, str] = ("start", "end"),
    default_days: int = 30,
    max_days: int = MAX_DAYS,
) -> Period:
    """A checked range; a missing end is today, a missing start `default_days` before."""
    end = end or today(time_zone)
    start = start or end - timedelta(days=default_days - 1)
    if start > end:
        raise AnalyticsError("invalid", f"{fields[0]} must not be after {fields[1]}", fields[0])
    span = Period(start, end)
    if span.days > max_days:
        raise AnalyticsError(
            "invalid",
            f"the range from {fields[0]} to {fields[1]} spans {span.days} days; "
            f"at most {max_days} are allowed",
            fields[1],
        )
    return span


def each_day(span: Period) -> Iterator[date]:
    for offset in range(span.days):
        yield span.start + timedelta(days=offset)


class Split(NamedTuple):
    """A period as whole months (read from monthly rollups) and the days around them."""

    first_month: date | None  # first day of the first whole month, None: no whole month
    last_month: date | None  # first day of the last whole month
    days: tuple[Period, ...]  # the days outside whole months (at most two runs)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def split(span: Period) -> Split:
    first = span.start if span.start.day == 1 else _next_month(span.start)
    after = _next_month(span.end)  # the first day after the month holding span.end
    last_end = (
        span.end
        if after - timedelta(days=1) == span.end
        else span.end.replace(day=1) - timedelta(days=1)
    )
    if first > last_end:
        return Split(None, None, (span,))
    last = last_end.replace(day=1)
    days = []
    if span.start < first:
        days.append(Period(span.start, first - timedelta(days=1)))
    if last_end < span.end:
        days.append(Period(last_end + timedelta(days=1), span.end))
    return Split(first, last, tuple(days))
