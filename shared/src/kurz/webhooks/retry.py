"""When a failed delivery tries again: the configured schedule, jittered, and never
sooner than the receiver's Retry-After."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER = 86_400.0  # a receiver cannot park a delivery for more than a day
JITTER = 0.2  # ±20 %: spreads the retries of a burst that failed together


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdecimal():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, when.timestamp() - now), MAX_RETRY_AFTER)


def retry_delay(
    schedule: Sequence[float],
    attempts: int,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds until the next try after `attempts` failed tries, or None when the
    schedule is used up (the delivery is dead)."""
    if attempts < 1 or attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    delay = base * (1 + JITTER * (2 * (rng or random).random() - 1))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
