"""What the statistics queries take and give back."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

ErrorKind = Literal["invalid", "not_found", "forbidden"]
# The HTTP status of each refusal, for the families that answer with plain statuses.
HTTP_STATUS: dict[ErrorKind, int] = {"invalid": 400, "not_found": 404, "forbidden": 403}
Bots = Literal["include", "exclude", "only"]


class AnalyticsError(Exception):
    """A request the statistics cannot answer; each family renders it in its format."""

    def __init__(self, kind: ErrorKind, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field


class Selection(msgspec.Struct, frozen=True):
    """Which clicks a query counts: a workspace's, narrowed to some links or one group.

    Unique visitors are exact for one link, one group or the whole workspace (each has its
    own rollup). Over several links they are the sum of each link's visitors."""

    workspace_id: int
    time_zone: str = "UTC"
    link_ids: tuple[int, ...] | None = None  # None: not narrowed by link
    group_id: int | None = None

    @property
    def exact_visitors(self) -> bool:
        return self.link_ids is None or len(self.link_ids) == 1


class Period(msgspec.Struct, frozen=True):
    """Local days, both ends included, in the workspace's time zone."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class Bucket(msgspec.Struct, frozen=True):
    """One day (hour None) or one hour of a day: clicks and unique visitors."""

    day: date
    hour: int | None
    clicks: int
    visitors: int


class Count(msgspec.Struct, frozen=True):
    """Counted clicks for one value of a dimension ('' when unknown)."""

    value: str
    clicks: int


class Totals(msgspec.Struct, frozen=True):
    clicks: int
    visitors: int  # distinct visitors per day, summed over the days


class RawFilter(msgspec.Struct, frozen=True):
    """Filters only raw clicks can answer (the rollups have no cross-dimension counts)."""

    country: str | None = None  # ISO alpha-2, upper case
    platform: str | None = None  # ios | android | windows | mac | linux
    browser: str | None = None  # ua-parser family, compared without case
    bots: Bots = "exclude"

    @property
    def needs_raw(self) -> bool:
        return bool(self.country or self.platform or self.browser) or self.bots != "exclude"
