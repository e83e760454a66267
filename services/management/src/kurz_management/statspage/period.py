"""The period a visitor asks the page for: `?days=N` (the last N days, today included) or
`?start=YYYY-MM-DD&end=YYYY-MM-DD`, at most a year either way; 30 days by default."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from kurz_management.core.analytics.model import AnalyticsError, Period
from kurz_management.core.analytics.periods import MAX_DAYS, parse_day, period, today

DEFAULT_DAYS = 30


def chosen(params: Mapping[str, str], time_zone: str) -> Period:
    """The checked period; AnalyticsError("invalid") says what is wrong with the query."""
    if params.get("start") or params.get("end"):
        start = parse_day(params.get("start"), "start")
        end = parse_day(params.get("end"), "end")
        return period(start, end, time_zone, default_days=DEFAULT_DAYS, max_days=MAX_DAYS)
    raw = params.get("days", str(DEFAULT_DAYS)).strip()
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_DAYS:
        raise AnalyticsError("invalid", f"days must be a whole number from 1 to {MAX_DAYS}", "days")
    end = today(time_zone)
    return Period(end - timedelta(days=int(raw) - 1), end)
