"""The group form: its fields, a stored group as the form's values, and the posted form
as the `GroupSpec` the group use cases take. Every setting a group has is here, as the
Vivoldi group API offers them.

Pure functions, like link_form: a unit test can read every field both ways."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from msgspec import UNSET
from starlette.datastructures import FormData

from kurz_management.console import local_times
from kurz_management.core.groups.model import (
    WEBHOOK_FREQUENCIES,
    GroupRecord,
    GroupSpec,
)

TEXT_FIELDS = ("name", "memo", "expire_url", "webhook_url")
TIME_FIELDS = ("starts_at", "ends_at")
SWITCHES = (
    ("qr_bypass", "QR codes point at the destination itself (scans are not counted)"),
    ("push_subscribe", "Ask visitors to subscribe to push notifications"),
    ("push_notify", "Push notifications at click milestones"),
    ("mail_notify", "Mail at click milestones"),
    ("block_overseas_stats", "Leave visits from abroad out of the statistics"),
)
WEBHOOK_METRIC_CHOICES = (("C", "Clicks"), ("P", "Unique people"))
FREQUENCIES = tuple(sorted(WEBHOOK_FREQUENCIES))
FORMATS = (("standard", "Standard Webhooks"), ("vivoldi", "Vivoldi"))
PASSWORDS = ("password", "stats_password")


@dataclass
class ParsedForm:
    spec: GroupSpec
    errors: dict[str, str] = field(default_factory=dict)


def blank_values() -> dict[str, Any]:
    values: dict[str, Any] = {name: "" for name in (*TEXT_FIELDS, *TIME_FIELDS)}
    values.update(max_clicks="", webhook_enabled=False, webhook_format="standard",
                  webhook_metric="C", webhook_frequency="1", has_password=False,
                  has_stats_password=False, remove_password=False,
                  remove_stats_password=False)  # fmt: skip
    values.update({name: False for name, _ in SWITCHES})
    return values


def values_of(group: GroupRecord, zone: str) -> dict[str, Any]:
    """A stored group as the form shows it (times in the workspace's zone)."""
    values = blank_values()
    for name in TEXT_FIELDS:
        values[name] = getattr(group, name) or ""
    for name in TIME_FIELDS:
        moment = getattr(group, name)
        values[name] = local_times.shown(moment, zone) if moment else ""
    values.update(
        max_clicks="" if group.max_clicks is None else str(group.max_clicks),
        webhook_enabled=group.webhook_enabled,
        webhook_format=group.webhook_format,
        webhook_metric=group.webhook_metric,
        webhook_frequency=str(group.webhook_frequency),
        has_password=group.has_password,
        has_stats_password=group.has_stats_password,
    )
    values.update({name: getattr(group, name) for name, _ in SWITCHES})
    return values


def posted_values(form: FormData, stored: GroupRecord | None = None) -> dict[str, Any]:
    """The form as it was sent, to show again next to its errors (passwords are never
    sent back to the browser)."""
    values = blank_values()
    for name in (*TEXT_FIELDS, *TIME_FIELDS, "max_clicks", "webhook_format", "webhook_metric",
                 "webhook_frequency"):  # fmt: skip
        values[name] = str(form.get(name) or "")
    for name in ("webhook_enabled", "remove_password", "remove_stats_password"):
        values[name] = form.get(name) == "on"
    values.update({name: form.get(name) == "on" for name, _ in SWITCHES})
    if stored is not None:
        values.update(has_password=stored.has_password,
                      has_stats_password=stored.has_stats_password)  # fmt: skip
    return values


def parse(form: FormData, zone: str) -> ParsedForm:
    """The posted form as a GroupSpec that sets every setting the form shows: an empty
    field clears its setting; an empty password keeps the one the group has."""
    parsed = ParsedForm(GroupSpec())
    spec, errors = parsed.spec, parsed.errors
    spec.name = str(form.get("name") or "").strip()
    if not spec.name:
        errors["name"] = "Enter a name."
    spec.memo = str(form.get("memo") or "")
    spec.expire_url = str(form.get("expire_url") or "")
    spec.webhook_url = str(form.get("webhook_url") or "")
    for name in TIME_FIELDS:
        setattr(spec, name, _time(form, name, zone, errors))
    clicks = str(form.get("max_clicks") or "").strip()
    if not clicks:
        spec.max_clicks = None
    elif clicks.isdecimal() and int(clicks) < 2**31:
        spec.max_clicks = int(clicks)
    else:
        errors["max_clicks"] = "Enter a whole number of clicks, or leave empty for no limit."
    for name, _ in SWITCHES:
        setattr(spec, name, form.get(name) == "on")
    spec.webhook_enabled = form.get("webhook_enabled") == "on"
    spec.webhook_format = _choice(form, "webhook_format", {k: k for k, _ in FORMATS}, errors)
    spec.webhook_metric = _choice(form, "webhook_metric",
                                  {k: k for k, _ in WEBHOOK_METRIC_CHOICES}, errors)  # fmt: skip
    spec.webhook_frequency = _choice(form, "webhook_frequency",
                                     {str(f): f for f in FREQUENCIES}, errors)  # fmt: skip
    for name in PASSWORDS:
        clear = str(form.get(name) or "")
        if form.get(f"remove_{name}") == "on":
            setattr(spec, name, None)
        elif clear:
            setattr(spec, name, clear)
    return parsed


# Settings a plan gates: the gate judges what a request switches on, so an edit sends them
# only when they change (a group kept from a former plan stays editable).
GATED = ("push_notify", "mail_notify", "webhook_enabled")


def keep_unchanged_gates(spec: GroupSpec, group: GroupRecord) -> None:
    for name in GATED:
        if getattr(spec, name) == getattr(group, name):
            setattr(spec, name, UNSET)


def _time(form: FormData, name: str, zone: str, errors: dict[str, str]) -> datetime | None:
    text = str(form.get(name) or "").strip()
    if not text:
        return None
    moment = local_times.parsed(text, zone)
    if moment is None:
        errors[name] = "Enter a date and time."
    return moment


def _choice(form: FormData, name: str, allowed: dict[str, Any], errors: dict[str, str]) -> Any:
    raw = str(form.get(name) or "")
    if raw not in allowed:
        errors[name] = "Choose one of the options."
        return next(iter(allowed.values()))
    return allowed[raw]
