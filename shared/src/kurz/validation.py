"""Link validation rules every API family shares: destinations, slugs, hosts, rules.

Pure functions: nothing here performs I/O. Checks that need the database (domains,
tags, groups, slug taken) live with the use cases that run them.
"""

from __future__ import annotations

import functools
import re
import secrets
import string
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import idna
import msgspec

from kurz.countries import COUNTRY_CODES
from kurz.models import PLATFORMS, REDIRECT_TYPES, LinkSpec, LinkType, Rule

MAX_URL_LENGTH = 4096
MAX_HOST = 253  # DNS: a name's length, and a label's
MAX_LABEL = 63
MAX_RULES = 50
SLUG_ALPHABET = string.ascii_letters + string.digits
GENERATED_SLUG_LENGTH = 7
SLUG_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
# Paths the redirector answers itself: a link there could never be reached.
RESERVED_SLUGS = frozenset({"healthz", "readyz", "metrics", "favicon", "robots"})
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_PHONE = re.compile(r"\+?[0-9][0-9().\- ]{1,30}")
_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")
_HOST_LABELS = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


class InvalidLink(ValueError):
    """One problem with a link's fields; `field` is the LinkSpec field name."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalize_host(host: str, field: str = "domain") -> str:
    """A host name (optionally with :port) in its canonical ASCII form: lower case,
    IDN labels as punycode, no trailing dot."""
    try:
        return _normalize_host(host)
    except InvalidLink as exc:
        raise InvalidLink(field, exc.message) from None


@functools.lru_cache(maxsize=4096)
def _normalize_host(host: str) -> str:
    """Cached: a bulk request names the same few hosts a thousand times, and IDNA
    processing is the costliest step of checking a link."""
    field = "domain"
    raw = host.strip().rstrip(".")
    name, _, port = raw.rpartition(":") if raw.count(":") == 1 else (raw, "", "")
    if port and not (port.isdecimal() and 0 < int(port) < 65536):
        raise InvalidLink(field, f"{host!r} has an invalid port")
    if not name or _CONTROL.search(name):
        raise InvalidLink(field, f"{host!r} is not a valid host name")
    try:
        ascii_name = (
            name.lower()
            if name.isascii() and "xn--" not in name.lower()
            else idna.encode(name, uts46=True).decode("ascii")
        )
    except idna.IDNAError as exc:
        raise InvalidLink(field, f"{host!r} is not a valid host name: {exc}") from None
    if not _HOST_LABELS.fullmatch(ascii_name) and not _is_ipv4(ascii_name):
        raise InvalidLink(field, f"{host!r} is not a valid host name")
    if len(ascii_name) > MAX_HOST or any(len(x) > MAX_LABEL for x in ascii_name.split(".")):
        raise InvalidLink(
            field,
            f"{host!r} is too long for DNS: labels of at most {MAX_LABEL} characters, "
            f"{MAX_HOST} in all",
        )
    return f"{ascii_name}:{port}" if port else ascii_name


def _is_ipv4(name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 4 and all(p.isdecimal() and int(p) < 256 for p in parts)


def normalize_web_url(url: str, field: str = "url") -> str:
    """An absolute http(s) URL with a host; the host normalised (IDN → punycode)."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidLink(field, f"URL longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(url):
        raise InvalidLink(field, "URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidLink(field, f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidLink(field, f"{url!r} is not an absolute http(s) URL")
    if not parts.hostname:
        raise InvalidLink(field, f"{url!r} has no host")
    host = parts.hostname
    # urlsplit strips an IPv6 literal's brackets: put them back, keep it as given.
    host = f"[{host}]" if ":" in host else normalize_host(host, field)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (userinfo + "@" if userinfo else "") + host + (f":{port}" if port else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def normalize_destination(link_type: LinkType, url: str) -> str:
    """The destination in the canonical form of its link type: http(s) for URL,
    mailto:/tel:/sms: for the others (a bare address or number gets its scheme)."""
    if link_type is LinkType.URL:
        return normalize_web_url(url)
    if _CONTROL.sub("", url.replace(" ", "")) != url.replace(" ", ""):
        raise InvalidLink("url", "destination contains control characters")
    scheme = link_type.value.lower()
    body = url[len(scheme) + 1 :] if url.lower().startswith(scheme + ":") else url
    address, _, query = body.partition("?")
    if link_type is LinkType.MAILTO:
        if not all(_EMAIL.fullmatch(a.strip()) for a in address.split(",")):
            raise InvalidLink("url", f"{url!r} is not a mailto: address")
    elif not _PHONE.fullmatch(address):
        raise InvalidLink("url", f"{url!r} is not a {scheme}: phone number")
    if link_type is LinkType.TEL and query:
        raise InvalidLink("url", "tel: links take no parameters")
    if len(body) > MAX_URL_LENGTH:
        raise InvalidLink("url", f"destination longer than {MAX_URL_LENGTH} characters")
    return f"{scheme}:{body}"


def check_slug(slug: str) -> str:
    if not SLUG_PATTERN.fullmatch(slug):
        raise InvalidLink(
            "slug",
            f"{slug!r} is not a valid slug: 1 to 128 letters, digits, '-' or '_', "
            "starting with a letter or digit",
        )
    if slug.lower() in RESERVED_SLUGS:
        raise InvalidLink("slug", f"{slug!r} is reserved")
    return slug


def generate_slug(length: int = GENERATED_SLUG_LENGTH) -> str:
    """A random base62 slug: 62**7 ≈ 3.5e12 addresses, so collisions are rare; the
    writer still retries one that is taken. One draw of random bits per slug (a
    thousand-link bulk request makes a thousand); 64 bits leave a negligible bias."""
    number = secrets.randbits(64)
    digits = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        digits.append(SLUG_ALPHABET[digit])
    return "".join(digits)


def check_rules(rules: list[Rule]) -> list[Rule]:
    """Rules in canonical form (country codes upper case, platforms lower case)."""
    if len(rules) > MAX_RULES:
        raise InvalidLink("rules", f"at most {MAX_RULES} rules per link")
    checked = [_check_rule(i, rule) for i, rule in enumerate(rules)]
    total = sum(r.percentage or 0 for r in checked if r.what == "rotator")
    if total > 100:
        raise InvalidLink("rules", f"rotator percentages add up to {total:g}, more than 100")
    return checked


def _check_rule(index: int, rule: Rule) -> Rule:
    where = f"rule {index + 1}"
    try:
        url = normalize_web_url(rule.url, "rules")
    except InvalidLink as exc:
        raise InvalidLink("rules", f"{where}: {exc.message}") from None
    if rule.what == "rotator":
        if rule.percentage is None or not 0 <= rule.percentage <= 100:
            raise InvalidLink("rules", f"{where}: a rotator needs a percentage from 0 to 100")
        return Rule("rotator", url, None, rule.percentage)
    matches = (rule.matches or "").strip()
    if rule.what == "country":
        matches = matches.upper()
        if matches not in COUNTRY_CODES:
            raise InvalidLink("rules", f"{where}: {rule.matches!r} is not an ISO 3166 alpha-2 code")
    elif rule.what == "platform":
        matches = matches.lower()
        if matches not in PLATFORMS:
            raise InvalidLink(
                "rules", f"{where}: platform must be one of {', '.join(sorted(PLATFORMS))}"
            )
    elif not LANGUAGE.fullmatch(matches):
        raise InvalidLink("rules", f"{where}: {rule.matches!r} is not a language tag")
    return Rule(rule.what, url, matches, None)


TEXT_LIMITS = {
    "title": 500,
    "description": 2000,
    "og_title": 500,
    "note": 10_000,
    "utm_source": 500,
    "utm_medium": 500,
    "utm_campaign": 500,
    "utm_term": 500,
    "utm_content": 500,
    "head_tags": 20_000,
    "body_tags": 20_000,
    "password": 256,
}
_WEB_URL_FIELDS = ("image", "expiry_url")
# Tracking ids end up inside the interstitial page's script: a strict charset keeps
# them from carrying markup.
TRACKING_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TRACKING_FIELDS = ("meta_pixel_id", "ga4_id", "gtm_id", "tiktok_pixel_id")
MAX_TAGS = 100
MAX_WEBHOOK_URLS = 10
MAX_INT32 = 2**31 - 1
MAX_ID = 2**63 - 1  # ids are Postgres bigints


def is_id(value: int) -> bool:
    """Whether `value` can be the id of a stored row (a positive bigint)."""
    return 0 < value <= MAX_ID


def parse_id(text: str) -> int | None:
    """An id written in ASCII digits, or None: the one rule every API and page reads ids
    by (`str.isdecimal` alone takes other scripts' digits and numbers past bigint)."""
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if is_id(value) else None


def check_spec(spec: LinkSpec, *, link_type: LinkType) -> LinkSpec:
    """The spec with every given field checked and put in canonical form; `link_type`
    is the type the link will have (the spec's, or the stored one on an update).
    Raises InvalidLink for the first problem."""
    changes: dict[str, object] = {}
    if spec.url is not None:
        changes["url"] = normalize_destination(link_type, spec.url)
    if spec.domain is not None:
        changes["domain"] = normalize_host(spec.domain)
    if spec.slug is not None:
        check_slug(spec.slug)
    changes.update(_check_texts(spec))
    changes.update(_check_times(spec))
    changes.update(_check_numbers(spec))
    if spec.webhook_urls is not None:
        if len(spec.webhook_urls) > MAX_WEBHOOK_URLS:
            raise InvalidLink("webhook_urls", f"at most {MAX_WEBHOOK_URLS} webhook URLs")
        changes["webhook_urls"] = [normalize_web_url(u, "webhook_urls") for u in spec.webhook_urls]
    if spec.rules is not None:
        changes["rules"] = check_rules(spec.rules)
    return msgspec.structs.replace(spec, **changes) if changes else spec


def _check_texts(spec: LinkSpec) -> dict[str, object]:
    for name, limit in TEXT_LIMITS.items():
        value = getattr(spec, name)
        if value is not None and len(value) > limit:
            raise InvalidLink(name, f"{name} longer than {limit} characters")
        if value is not None and "\x00" in value:  # Postgres text cannot hold it
            raise InvalidLink(name, f"{name} contains a NUL character")
    if spec.password is not None and not spec.password:
        raise InvalidLink("password", "password must not be empty (clear it instead)")
    for name in _TRACKING_FIELDS:
        value = getattr(spec, name)
        if value is not None and not TRACKING_ID.fullmatch(value):
            raise InvalidLink(name, f"{name} must be 1 to 64 letters, digits, '-' or '_'")
    if spec.redirect_type is not None and spec.redirect_type not in REDIRECT_TYPES:
        allowed = ", ".join(str(c) for c in sorted(REDIRECT_TYPES))
        raise InvalidLink("redirect_type", f"redirect type must be one of {allowed}")
    return {
        name: normalize_web_url(getattr(spec, name), name)
        for name in _WEB_URL_FIELDS
        if getattr(spec, name) is not None
    }


def _check_times(spec: LinkSpec) -> dict[str, object]:
    """Times in UTC; a time without a zone is taken as UTC."""
    changes: dict[str, object] = {}
    for name in ("starts_at", "expires_at", "delete_at"):
        value: datetime | None = getattr(spec, name)
        if value is not None:
            changes[name] = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    starts, expires = changes.get("starts_at"), changes.get("expires_at")
    if isinstance(starts, datetime) and isinstance(expires, datetime) and expires <= starts:
        raise InvalidLink("expires_at", "expiry must come after the start")
    return changes


def _check_numbers(spec: LinkSpec) -> dict[str, object]:
    changes: dict[str, object] = {}
    if spec.max_clicks is not None and not 0 <= spec.max_clicks <= MAX_INT32:
        raise InvalidLink("max_clicks", "max clicks must be 0 or more")
    if spec.group_id is not None and not 0 < spec.group_id <= MAX_ID:
        raise InvalidLink("group_id", "group id must be a positive number")
    if spec.tag_ids is not None:
        if len(spec.tag_ids) > MAX_TAGS:
            raise InvalidLink("tag_ids", f"at most {MAX_TAGS} tags per link")
        if any(not 0 < t <= MAX_ID for t in spec.tag_ids):
            raise InvalidLink("tag_ids", "tag ids must be positive numbers")
        changes["tag_ids"] = sorted(set(spec.tag_ids))
    return changes
