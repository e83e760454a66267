"""Times as <input type="datetime-local"> shows and sends them, in the workspace's time
zone: with seconds when the time has them (an end set through the API at 23:59:59 must
not come back from the form as 23:59:00), in minutes otherwise."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

_MINUTES = "%Y-%m-%dT%H:%M"
_SECONDS = "%Y-%m-%dT%H:%M:%S"


def shown(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime(_SECONDS if local.second else _MINUTES)


def parsed(text: str, zone: str) -> datetime | None:
    """The moment the form sent, or None when the text is not a date and time."""
    for layout in (_MINUTES, _SECONDS):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=ZoneInfo(zone))
        except ValueError:
            continue
    return None
