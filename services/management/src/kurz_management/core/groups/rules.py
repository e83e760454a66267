"""Pure group rules: what a spec changes, defaults, and whether the result is valid.

Works on column-named mappings (the `link_groups` row), so create and update share one
path: create merges a spec over DEFAULTS, update over the stored row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from kurz.plans import Entitlements, group_settings_denial
from kurz.validation import InvalidLink, normalize_web_url

from kurz_management.core.groups.model import (
    WEBHOOK_FREQUENCIES,
    WEBHOOK_METRICS,
    GroupError,
    GroupSpec,
)

NAME_MAX = 200
MEMO_MAX = 2000
PASSWORD_MAX = 200
INT4_MAX = 2**31 - 1

DEFAULTS: dict[str, Any] = {
    "name": None,
    "memo": None,
    "push_subscribe": False,
    "qr_bypass": False,
    "block_overseas_stats": False,
    "push_notify": False,
    "mail_notify": False,
    "stats_password_hash": None,
    "starts_at": None,
    "ends_at": None,
    "expire_url": None,
    "password_hash": None,
    "max_clicks": None,
    "webhook_enabled": False,
    "webhook_url": None,
    "webhook_metric": "C",
    "webhook_frequency": 1,
    "webhook_secret": None,
    "webhook_format": "standard",
}
COLUMNS: tuple[str, ...] = tuple(DEFAULTS)

# Spec fields that are stored as they come (after blank text becomes None).
_PLAIN = (
    "webhook_format",
    "name",
    "memo",
    "push_subscribe",
    "qr_bypass",
    "block_overseas_stats",
    "push_notify",
    "mail_notify",
    "starts_at",
    "ends_at",
    "expire_url",
    "max_clicks",
    "webhook_enabled",
    "webhook_url",
    "webhook_metric",
    "webhook_frequency",
)
_OPTIONAL_TEXT = frozenset({"memo", "expire_url", "webhook_url"})
_URLS = ("expire_url", "webhook_url")
PASSWORDS = {"password": "password_hash", "stats_password": "stats_password_hash"}


def changes(spec: GroupSpec) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The columns a spec sets, and the passwords it sets (column -> clear text or None),
    which the caller hashes once the whole request is known to be valid."""
    given = {f: v for f, v in msgspec.structs.asdict(spec).items() if v is not msgspec.UNSET}
    cols: dict[str, Any] = {}
    for field in _PLAIN:
        if field not in given:
            continue
        value = given[field]
        if isinstance(value, str):
            value = value.strip()
            if field in _OPTIONAL_TEXT and not value:
                value = None
        if field == "max_clicks" and value == 0:
            value = None  # 0 means unlimited
        if field in _URLS and value is not None:
            value = _web_url(value, field)
        cols[field] = value
    passwords: dict[str, str | None] = {}
    for field, column in PASSWORDS.items():
        if field in given:
            clear = given[field] or None
            if clear is not None and len(clear) > PASSWORD_MAX:
                raise GroupError("invalid", f"must be at most {PASSWORD_MAX} characters", field)
            if clear is not None and "\x00" in clear:  # as a link's password: no NUL
                raise GroupError("invalid", "must not contain a NUL character", field)
            passwords[column] = clear
    return cols, passwords


def check(merged: Mapping[str, Any], cols: Mapping[str, Any], ent: Entitlements) -> None:
    """Raise GroupError for the first problem of the merged group; plan gates apply to
    what this request switches on (a group kept from a former plan stays editable)."""
    _check_text(merged)
    _check_schedule(merged)
    _check_webhook(merged)
    denial = group_settings_denial(
        ent,
        notify=bool(cols.get("push_notify") or cols.get("mail_notify")),
        webhooks=bool(cols.get("webhook_enabled")),
    )
    if denial:
        raise GroupError("forbidden", denial)


def _check_text(group: Mapping[str, Any]) -> None:
    name = group["name"]
    if not name:
        raise GroupError("invalid", "is required", "name")
    if len(name) > NAME_MAX:
        raise GroupError("invalid", f"must be at most {NAME_MAX} characters", "name")
    if group["memo"] is not None and len(group["memo"]) > MEMO_MAX:
        raise GroupError("invalid", f"must be at most {MEMO_MAX} characters", "memo")


def _check_schedule(group: Mapping[str, Any]) -> None:
    starts, ends = group["starts_at"], group["ends_at"]
    if starts is not None and ends is not None and starts >= ends:
        raise GroupError("invalid", "must be later than the start", "ends_at")
    max_clicks = group["max_clicks"]
    if max_clicks is not None and not 0 <= max_clicks <= INT4_MAX:
        raise GroupError("invalid", f"must be between 0 and {INT4_MAX}", "max_clicks")


def _check_webhook(group: Mapping[str, Any]) -> None:
    if group["webhook_metric"] not in WEBHOOK_METRICS:
        raise GroupError("invalid", "must be C (clicks) or P (unique people)", "webhook_metric")
    if group["webhook_frequency"] not in WEBHOOK_FREQUENCIES:
        allowed = ", ".join(str(f) for f in sorted(WEBHOOK_FREQUENCIES))
        raise GroupError("invalid", f"must be one of {allowed}", "webhook_frequency")
    if group["webhook_enabled"] and not group["webhook_url"]:
        raise GroupError("invalid", "is required when webhooks are enabled", "webhook_url")


def _web_url(value: str, field: str) -> str:
    """The same URL rule as a link's destination (kurz.validation), in the group's error."""
    try:
        return normalize_web_url(value, field)
    except InvalidLink as exc:
        raise GroupError("invalid", exc.message, field) from None
