"""Linkly's link request shape and its translation into kurz's LinkSpec."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec
from kurz.countries import COUNTRY_CODES
from kurz.models import PLATFORMS, LinkSpec, Rule

from kurz_management.linkly.errors import from_validation
from kurz_management.linkly.fields import LINK_FIELDS
from kurz_management.openapi import fields_doc

# Linkly request fields that are booleans.
BOOL_FIELDS = frozenset(
    {"forward_params", "enabled", "cloaking", "block_bots", "hide_referrer", "public_analytics"}
)
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
# Linkly fields that can be emptied on update (null or "") → their LinkSpec names.
CLEARABLE = {
    "name": "title",
    "note": "note",
    "head_tags": "head_tags",
    "body_tags": "body_tags",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_term": "utm_term",
    "utm_content": "utm_content",
    "og_title": "og_title",
    "og_description": "description",
    "og_image": "image",
    "fb_pixel_id": "meta_pixel_id",
    "ga4_tag_id": "ga4_id",
    "gtm_id": "gtm_id",
    "tiktok_pixel_id": "tiktok_pixel_id",
    "expiry_datetime": "expires_at",
    "expiry_destination": "expiry_url",
    "expiry_clicks": "max_clicks",  # 0 clears it too: no limit
    "rules": "rules",
}
# An empty value of these means "no value" rather than an empty string or a bad type.
_EMPTY_IS_NONE = BOOL_FIELDS | CLEARABLE.keys() | {"id", "link_id", "workspace_id"}
# Linkly's documentation uses "UK"; ISO 3166 (and every geo source) says "GB".
_COUNTRY_ALIASES = {"UK": "GB"}


_IN_FIELDS = {
    "id": "The link to update; omitted: a new link.",
    "link_id": "The link to update (the same as id).",
    "api_key": "The API key, when not in the X-API-KEY header.",
    "workspace_id": "The key's workspace, when not in the X-WORKSPACE-ID header.",
    "domain": "Short domain; default: the default domain.",
    "slug": "Path of the short URL; default: generated.",
    "expiry_datetime": "When the link stops redirecting (ISO 8601).",
    "full_url": "A new address for the link: the whole short URL (its host is the "
    "domain) or only its path (a new slug), as Pipedream's update action sends it.",
    "domain_id": "The custom domain by id (GET /api/v1/workspace/{ws}/domains), "
    "instead of by name.",
}


class LinklyLinkIn(msgspec.Struct, kw_only=True):
    __doc__ = fields_doc(
        "One link as Linkly clients send it (form fields or a JSON object).",
        {**LINK_FIELDS, **_IN_FIELDS},
    )

    id: int | None = None
    link_id: int | None = None  # Linkly's update documentation names the id this way
    workspace_id: int | None = None
    api_key: str | None = None
    url: str | None = None
    name: str | None = None
    note: str | None = None
    head_tags: str | None = None
    body_tags: str | None = None
    forward_params: bool | None = None
    enabled: bool | None = None
    cloaking: bool | None = None
    block_bots: bool | None = None
    hide_referrer: bool | None = None
    public_analytics: bool | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    domain: str | None = None
    slug: str | None = None
    og_title: str | None = None
    og_description: str | None = None
    og_image: str | None = None
    fb_pixel_id: str | None = None
    ga4_tag_id: str | None = None
    gtm_id: str | None = None
    tiktok_pixel_id: str | None = None
    expiry_datetime: datetime | None = None
    expiry_destination: str | None = None
    expiry_clicks: int | None = None
    rules: list[Rule] | None = None
    full_url: str | None = None
    domain_id: int | None = None

    @property
    def target_id(self) -> int | None:
        return self.id if self.id is not None else self.link_id


class SchemaError(Exception):
    """A request that does not fit Linkly's link shape."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _clean(key: str, value: Any) -> Any:
    """Empty values of typed or clearable fields are "no value"; booleans may be spelled
    the ways forms and scripts spell them ("on", "yes", "0")."""
    if key in _EMPTY_IS_NONE and _blank(value):
        return None
    if key in BOOL_FIELDS and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


def parse_link(raw: object) -> LinklyLinkIn:
    """Convert one decoded object (JSON or form fields) into Linkly's request shape.
    Lenient on scalar types the way Linkly is: "123" is an id, "true" a boolean."""
    if not isinstance(raw, dict):
        raise SchemaError("each link must be a JSON object", None)
    raw = {key: _clean(key, value) for key, value in raw.items()}
    try:
        link = msgspec.convert(raw, LinklyLinkIn, strict=False)
    except msgspec.ValidationError as exc:
        message, field = from_validation(exc)
        raise SchemaError(f"{field}: {message}" if field else message, field) from None
    if link.rules is not None:
        link.rules = [_check_rule(rule, i) for i, rule in enumerate(link.rules)]
        _check_rotator_total(link.rules)
    if link.full_url is not None and link.full_url.strip():
        _take_full_url(link)
    return link


def _take_full_url(link: LinklyLinkIn) -> None:
    """`full_url` names the link's new address: honoured (as domain and slug) where it
    agrees with `domain` and `slug`, refused where it does not, never ignored."""
    text = link.full_url.strip() if link.full_url else ""
    host: str | None = None
    if "://" in text:
        parts = urlsplit(text)
        host, path = parts.hostname, parts.path
        if not host or parts.query or parts.fragment:
            raise SchemaError("full_url must be a short URL such as https://host/slug", "full_url")
    else:
        path = text
    slug = _slug(path)
    if slug is None or "/" in slug:
        raise SchemaError("full_url must name one slug, such as /spring-sale", "full_url")
    if link.slug is not None and _slug(link.slug) != slug:
        raise SchemaError("full_url and slug name different slugs", "full_url")
    if host is not None and link.domain is not None and _host(link.domain) != host.lower():
        raise SchemaError("full_url and domain name different domains", "full_url")
    link.slug = slug
    if host is not None:
        link.domain = host.lower()


def clears_of(raw: object) -> frozenset[str]:
    """LinkSpec fields an update empties: clearable fields sent as null or ""."""
    if not isinstance(raw, dict):
        return frozenset()
    return frozenset(
        CLEARABLE[k]
        for k, v in raw.items()
        if k in CLEARABLE and (_blank(v) or (k == "expiry_clicks" and str(v).strip() == "0"))
    )


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _check_rule(rule: Rule, index: int) -> Rule:
    where = f"rules[{index}]"
    if not rule.url.strip():
        raise SchemaError(f"{where}.url: a destination URL is required", f"{where}.url")
    if rule.what != "rotator":
        return Rule(rule.what, rule.url, matches=_matches(rule, where))
    if rule.percentage is None or not 0 <= rule.percentage <= 100:
        raise SchemaError(
            f"{where}.percentage: a rotator needs a percentage from 0 to 100",
            f"{where}.percentage",
        )
    return Rule("rotator", rule.url, percentage=rule.percentage)


def _matches(rule: Rule, where: str) -> str:
    """A country, platform or language rule's `matches`, in its canonical spelling."""
    matches = (rule.matches or "").strip()
    if rule.what == "country":
        code = _COUNTRY_ALIASES.get(matches.upper(), matches.upper())
        if code in COUNTRY_CODES:
            return code
        problem = "a country rule needs an ISO 3166 alpha-2 code such as US"
    elif rule.what == "platform":
        if matches.lower() in PLATFORMS:
            return matches.lower()
        problem = f"a platform rule matches one of {'|'.join(sorted(PLATFORMS))}"
    else:
        if matches:
            return matches.lower()
        problem = "a language rule needs a language tag"
    raise SchemaError(f"{where}.matches: {problem}", f"{where}.matches")


def _check_rotator_total(rules: list[Rule]) -> None:
    total = sum(r.percentage or 0 for r in rules if r.what == "rotator")
    if total > 100:
        raise SchemaError(f"rules: rotator percentages add up to {total:g}, more than 100", "rules")


def _host(domain: str | None) -> str | None:
    """Linkly clients send a domain as a bare host or with a scheme; kurz stores hosts."""
    if domain is None:
        return None
    host = domain.strip()
    for scheme in ("https://", "http://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
    return host.rstrip("/").lower() or None


def _slug(slug: str | None) -> str | None:
    """Linkly shows slugs with their leading "/"; kurz stores them without it."""
    if slug is None:
        return None
    return slug.strip().lstrip("/") or None


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)  # a time without an offset is read as UTC


def to_spec(link: LinklyLinkIn) -> LinkSpec:
    return LinkSpec(
        url=link.url.strip() if link.url is not None else None,
        domain=_host(link.domain),
        slug=_slug(link.slug),
        title=link.name,
        note=link.note,
        head_tags=link.head_tags,
        body_tags=link.body_tags,
        forward_params=link.forward_params,
        enabled=link.enabled,
        cloaked=link.cloaking,
        block_bots=link.block_bots,
        hide_referrer=link.hide_referrer,
        public_analytics=link.public_analytics,
        utm_source=link.utm_source,
        utm_medium=link.utm_medium,
        utm_campaign=link.utm_campaign,
        utm_term=link.utm_term,
        utm_content=link.utm_content,
        og_title=link.og_title,
        description=link.og_description,
        image=link.og_image,
        meta_pixel_id=link.fb_pixel_id,
        ga4_id=link.ga4_tag_id,
        gtm_id=link.gtm_id,
        tiktok_pixel_id=link.tiktok_pixel_id,
        expires_at=_utc(link.expiry_datetime),
        expiry_url=link.expiry_destination,
        max_clicks=link.expiry_clicks or None,  # 0: no limit (cleared, see clears_of)
        rules=link.rules,
    )
