"""Rows of a rollup over a period, read as whole months from the monthly rollup
(migration 0005) and as days around them from the daily one: a year is twelve monthly
rows per key instead of 365 daily ones."""

from __future__ import annotations

from typing import Any

from kurz_management.core.analytics.model import Period
from kurz_management.core.analytics.periods import split


def rows_over(key: str, daily: str, monthly: str, scope: str, span: Period, args: list[Any]) -> str:
    """A query yielding (`key`, clicks, visitors) rows whose sums are the period's
    totals. `scope` is a condition on `key` over parameters already in `args`; the
    period's bounds are appended to `args`."""

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    parts = split(span)
    selects = []
    if parts.days:
        days = " OR ".join(f"day BETWEEN {arg(p.start)} AND {arg(p.end)}" for p in parts.days)
        selects.append(f"SELECT {key}, clicks, visitors FROM {daily} WHERE {scope} AND ({days})")
    if parts.first_month is not None:
        months = f"month BETWEEN {arg(parts.first_month)} AND {arg(parts.last_month)}"
        selects.append(f"SELECT {key}, clicks, visitors FROM {monthly} WHERE {scope} AND {months}")
    return " UNION ALL ".join(selects)
