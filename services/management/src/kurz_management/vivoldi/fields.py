"""Vivoldi's field vocabulary: wire names, Y/N flags and `YYYY-MM-DD HH:MM:SS` times in
the workspace's time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from msgspec import UNSET, UnsetType

from kurz_management.vivoldi.envelope import Code, VivoldiError

YN = Literal["Y", "N"]
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Domain field (groups and LinkSpec) -> Vivoldi name, for error messages.
_WIRE_NAMES = {
    "group_id": "grpIdx",
    "name": "nm",
    "memo": "memo",
    "push_subscribe": "notfSubscYn",
    "qr_bypass": "qrBypassYn",
    "block_overseas_stats": "blockOverseasSticsYn",
    "push_notify": "pushNotifyYn",
    "mail_notify": "mailNotifyYn",
    "stats_password": "nonmemberSticsPwd",
    "starts_at": "strtYmdt",
    "ends_at": "endYmdt",
    "expire_url": "expireUrl",
    "password": "pwd",
    "max_clicks": "acesMaxCnt",
    "webhook_enabled": "webhookEnableYn",
    "webhook_url": "webhookCallbackUrl",
    "webhook_metric": "webhookMetric",
    "webhook_frequency": "webhookFrequency",
    "url": "url",
    "domain": "domain",
    "slug": "brandLinkId",
    "title": "ttl",
    "description": "description",
    "image": "metaImg",
    "note": "memo",
    "redirect_type": "redirectType",
    "expires_at": "expireYmdt",
    "expiry_url": "expireUrl",
    "delete_at": "delYmdt",
}


def wire_name(field: str) -> str:
    return _WIRE_NAMES.get(field, field)


def flag(value: YN | UnsetType | None) -> bool | UnsetType:
    """Y/N to a boolean; null reads as "not given"."""
    if value is None or value is UNSET:
        return UNSET
    return value == "Y"


def yn(value: bool) -> YN:
    return "Y" if value else "N"


def parse_time(value: str | UnsetType | None, field: str, tz: str) -> datetime | UnsetType | None:
    """`YYYY-MM-DD HH:MM:SS` in the workspace's time zone; "" or null clears."""
    if value is UNSET:
        return UNSET
    if not value:
        return None
    try:
        naive = datetime.strptime(value.strip(), DATETIME_FORMAT)
    except ValueError:
        raise VivoldiError(
            Code.INVALID, f"{field} must be a date and time as YYYY-MM-DD HH:MM:SS, got {value!r}"
        ) from None
    return naive.replace(tzinfo=ZoneInfo(tz))


def format_time(value: datetime | None, tz: str) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(tz)).strftime(DATETIME_FORMAT)


def parse_date(value: str, field: str) -> datetime:
    """`YYYY-MM-DD` (a day) or a full `YYYY-MM-DD HH:MM:SS`, naive."""
    for fmt in (DATETIME_FORMAT, "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    raise VivoldiError(
        Code.INVALID, f"{field} must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, got {value!r}"
    )


def host_of(domain: str) -> str:
    """`https://vvd.bz` or `vvd.bz` → `vvd.bz` (a port stays)."""
    text = domain.strip()
    if "://" not in text:
        return text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
        raise VivoldiError(
            Code.INVALID, f"domain must look like https://short.example, got {domain!r}"
        )
    return parts.netloc
