"""The link form: what its fields are, a stored link as the form's values, and the
posted form as the `LinkSpec` (and fields to clear) the link use cases take.

Pure functions: the pages render and post through these, and a unit test can read every
field both ways without a server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kurz.models import REDIRECT_TYPES, LinkSpec, LinkType, Rule
from starlette.datastructures import FormData

from kurz_management.console import local_times
from kurz_management.core.links.model import LinkRecord

# Free-text fields, each a LinkSpec field of the same name; empty means "none".
TEXT_FIELDS = (
    "url", "slug", "title", "description", "image", "og_title", "note", "expiry_url",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "meta_pixel_id", "ga4_id", "gtm_id", "tiktok_pixel_id", "head_tags", "body_tags",
)  # fmt: skip
# Fields the use cases cannot clear (they have no "empty" value).
REQUIRED_TEXT = frozenset({"url", "slug"})
TIME_FIELDS = ("starts_at", "expires_at", "delete_at")
SWITCHES = (
    ("enabled", "Active: the short link redirects"),
    ("forward_params", "Forward the visit's query parameters to the destination"),
    ("block_bots", "Keep bots and crawlers out"),
    ("hide_referrer", "Hide the referrer from the destination"),
    ("cloaked", "Cloak: show the destination under the short address"),
    ("qr_bypass", "QR codes point at the destination itself (scans are not counted)"),
    ("push_subscribe", "Ask visitors to subscribe to push notifications"),
    ("public_analytics", "Public statistics page"),
)
RULE_KINDS = (
    ("country", "Country (ISO code, e.g. DE)"),
    ("platform", "Platform (ios, android, windows, linux, mac)"),
    ("language", "Language (e.g. de, pt-BR)"),
    ("rotator", "Rotator (share of visits, %)"),
)
RULE_ROWS = 3  # empty rule rows offered beyond the link's own (more with the add button)
LINK_TYPES = tuple(t.value for t in LinkType)
REDIRECTS = (*sorted(REDIRECT_TYPES - {200}), 200)


@dataclass
class ParsedForm:
    spec: LinkSpec
    clears: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)


def blank_values() -> dict[str, Any]:
    values: dict[str, Any] = {name: "" for name in (*TEXT_FIELDS, *TIME_FIELDS)}
    values.update(domain="", redirect_type="302", link_type="URL", max_clicks="", password="",
                  remove_password=False, group_id="", tag_ids=[], webhook_urls="",
                  has_password=False, rules=[])  # fmt: skip
    values.update({name: name == "enabled" for name, _ in SWITCHES})
    return values


def values_of(link: LinkRecord, zone: str) -> dict[str, Any]:
    """A stored link as the form shows it (times in the workspace's zone)."""
    values = blank_values()
    for name in TEXT_FIELDS:
        values[name] = getattr(link, name) or ""
    for name in TIME_FIELDS:
        moment = getattr(link, name)
        values[name] = local_times.shown(moment, zone) if moment else ""
    values.update(
        domain=link.host,
        redirect_type=str(link.redirect_type),
        link_type=link.link_type,
        max_clicks="" if link.max_clicks is None else str(link.max_clicks),
        group_id="" if link.group_id is None else str(link.group_id),
        tag_ids=[str(i) for i in link.tag_ids],
        webhook_urls="\n".join(link.webhook_urls),
        has_password=link.has_password,
        rules=[_rule_values(r) for r in link.rules],
    )
    values.update({name: getattr(link, name) for name, _ in SWITCHES})
    return values


def _rule_values(rule: Rule) -> dict[str, str]:
    share = "" if rule.percentage is None else f"{rule.percentage:g}"
    return {"what": rule.what, "matches": rule.matches or "", "url": rule.url, "percentage": share}


def posted_values(form: FormData) -> dict[str, Any]:
    """The form as it was sent, to show again next to its errors."""
    values = blank_values()
    for name in (*TEXT_FIELDS, *TIME_FIELDS, "domain", "redirect_type", "link_type",
                 "max_clicks", "group_id", "webhook_urls"):  # fmt: skip
        values[name] = str(form.get(name) or "")
    values["tag_ids"] = [str(v) for v in form.getlist("tag_ids")]
    values["remove_password"] = form.get("remove_password") == "on"
    values["rules"] = _posted_rules(form)
    values.update({name: form.get(name) == "on" for name, _ in SWITCHES})
    return values


def _posted_rules(form: FormData) -> list[dict[str, str]]:
    columns = [form.getlist(f"rule_{part}") for part in ("what", "matches", "url", "percentage")]
    rows = []
    for what, matches, url, share in zip(*columns, strict=False):
        row = {"what": str(what), "matches": str(matches).strip(), "url": str(url).strip(),
               "percentage": str(share).strip()}  # fmt: skip
        if row["url"] or row["matches"] or row["percentage"]:
            rows.append(row)
    return rows


def parse(form: FormData, zone: str, *, editing: bool) -> ParsedForm:
    """The posted form as a LinkSpec. Creating, an empty field is left to its default;
    editing, an empty field the link had is cleared (named in `clears`)."""
    parsed = ParsedForm(LinkSpec())
    _texts(parsed, form, editing)
    _times(parsed, form, zone, editing)
    _selections(parsed, form, editing)
    spec = parsed.spec
    password = str(form.get("password") or "")
    if form.get("remove_password") == "on":
        parsed.clears.add("password")
    elif password:
        spec.password = password
    for name, _ in SWITCHES:
        setattr(spec, name, form.get(name) == "on")
    hooks = [line.strip() for line in str(form.get("webhook_urls") or "").splitlines()]
    _list(parsed, "webhook_urls", [h for h in hooks if h], editing)
    _list(parsed, "rules", _rules(form, parsed.errors), editing)
    return parsed


def _texts(parsed: ParsedForm, form: FormData, editing: bool) -> None:
    for name in TEXT_FIELDS:
        text = str(form.get(name) or "").strip()
        if text:
            setattr(parsed.spec, name, text)
        elif editing and name not in REQUIRED_TEXT:
            parsed.clears.add(name)
    if not editing and not parsed.spec.url:
        parsed.errors["url"] = "Enter the destination."
    clicks = str(form.get("max_clicks") or "").strip()
    if clicks:
        if clicks.isdecimal() and 0 < int(clicks) < 2**31:
            parsed.spec.max_clicks = int(clicks)
        else:
            parsed.errors["max_clicks"] = "Enter a whole number of clicks, 1 or more."
    elif editing:
        parsed.clears.add("max_clicks")


def _times(parsed: ParsedForm, form: FormData, zone: str, editing: bool) -> None:
    """Dates and times as the browser sends them, in the workspace's time zone."""
    for name in TIME_FIELDS:
        text = str(form.get(name) or "").strip()
        if not text:
            if editing:
                parsed.clears.add(name)
            continue
        moment = local_times.parsed(text, zone)
        if moment is None:
            parsed.errors[name] = "Enter a date and time."
        else:
            setattr(parsed.spec, name, moment)


def _selections(parsed: ParsedForm, form: FormData, editing: bool) -> None:
    spec, errors = parsed.spec, parsed.errors
    spec.domain = str(form.get("domain") or "").strip() or None
    spec.redirect_type = _choice(form, "redirect_type", {str(r): r for r in REDIRECTS}, errors)
    spec.link_type = _choice(form, "link_type", {t: LinkType(t) for t in LINK_TYPES}, errors)
    group = str(form.get("group_id") or "")
    if group.isdecimal():
        spec.group_id = int(group)
    elif group:
        errors["group_id"] = "Choose a group."
    elif editing:
        parsed.clears.add("group_id")
    tags = [str(t) for t in form.getlist("tag_ids")]
    if all(t.isdecimal() for t in tags):
        _list(parsed, "tag_ids", [int(t) for t in tags], editing)
    else:
        errors["tag_ids"] = "Choose tags from the list."


def _list(parsed: ParsedForm, name: str, items: list[Any], editing: bool) -> None:
    """A list field: set when it has items; editing, an emptied list is cleared."""
    if items:
        setattr(parsed.spec, name, items)
    elif editing:
        parsed.clears.add(name)


def _choice(form: FormData, name: str, allowed: dict[str, Any], errors: dict[str, str]) -> Any:
    raw = str(form.get(name) or "")
    if raw not in allowed:
        errors[name] = "Choose one of the options."
        return None
    return allowed[raw]


def _rules(form: FormData, errors: dict[str, str]) -> list[Rule]:
    rules = []
    kinds = {kind for kind, _ in RULE_KINDS}
    for number, row in enumerate(_posted_rules(form), start=1):
        if row["what"] not in kinds:
            errors["rules"] = f"Rule {number}: choose what it matches."
            continue
        share = None
        if row["what"] == "rotator":
            try:
                share = float(row["percentage"])
            except ValueError:
                errors["rules"] = f"Rule {number}: enter the share of visits, 0 to 100."
                continue
        elif not row["matches"]:
            errors["rules"] = f"Rule {number}: enter what it matches."
            continue
        if not row["url"]:
            errors["rules"] = f"Rule {number}: enter where matching visits go."
            continue
        rules.append(Rule(row["what"], row["url"], row["matches"] or None, share))  # type: ignore[arg-type]
    return rules
