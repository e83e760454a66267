"""The constraints the request schemas declare, each built from the rule the server
checks (kurz.validation, kurz.branding, the core's limits), so the OpenAPI document and
the check share one source.

`declared(...)` puts a constraint in the JSON Schema only: the value is still checked
where it always was, with that check's own status and message (a 422 naming the field,
say), so declaring a rule changes no answer. A pattern here is anchored (^...$) and
describes a subset of what the server takes where the full rule is not a regular
language (an international host name is taken, but only ASCII ones are declared).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any

import msgspec
from kurz import branding, validation
from kurz.countries import COUNTRY_CODES
from kurz.models import PLATFORMS, REDIRECT_TYPES, Rule
from kurz.webhooks import ssrf


def declared(**schema: Any) -> msgspec.Meta:
    """A constraint of the document (JSON Schema keywords, as written there)."""
    return msgspec.Meta(extra_json_schema=schema)


def anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def one_of_words(words: Iterable[str]) -> str:
    """A pattern of any of `words`, in any letter case."""

    def spelled(word: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)

    return "|".join(spelled(w) for w in sorted(words))


# Text: no NUL (Postgres text cannot hold it) and no more than the field's limit.
NO_NUL = r"[^\u0000]*"
# A host: ASCII labels of letters, digits and single hyphens, each shorter than
# validation.MAX_LABEL, at most four of them (validation.normalize_host takes
# international names and longer ones too).
_LABEL = r"[A-Za-z0-9]{1,20}(?:-[A-Za-z0-9]{1,20}){0,2}"
HOST = rf"{_LABEL}(?:\.{_LABEL}){{0,3}}"
_PORT = r"[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]"
# An absolute http(s) URL: no spaces or control characters (validation.normalize_web_url).
WEB_URL = rf"[Hh][Tt][Tt][Pp][Ss]?://{HOST}(?::(?:{_PORT}))?(?:[/?#][^\u0000-\u0020\u007f]*)?"
# Destinations of the other link types (validation.normalize_destination).
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_PHONE = r"\+?[0-9][0-9]{1,30}"
DESTINATION = "|".join(
    [WEB_URL, f"(?:mailto:)?{_EMAIL}", f"(?:tel:)?{_PHONE}", f"(?:sms:)?{_PHONE}"]
)
SLUG = rf"(?!(?:{one_of_words(validation.RESERVED_SLUGS)})$){validation.SLUG_PATTERN.pattern}"
TRACKING_ID = validation.TRACKING_ID.pattern
COLOR = branding.ACCENT.pattern
# Times: a calendar date (days past 28 only in the months that have them; 29 February,
# a leap year's, is taken but not declared), and a time of day.
YEAR = r"(?:19|20)[0-9]{2}"
MONTH_DAY = (
    r"(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31"
)
DATE = rf"{YEAR}-(?:{MONTH_DAY})"
TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
# RFC 3339 with its offset, as msgspec reads a datetime.
DATETIME = rf"{DATE}T{TIME}(?:\.[0-9]{{1,6}})?(?:Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9])"

Id = Annotated[int, declared(minimum=1, maximum=validation.MAX_ID)]
_ID_TEXT = r"^[1-9][0-9]{0,17}$"
IdText = Annotated[str, declared(pattern=_ID_TEXT)]
# An id in a JSON body: a string, as the native API answers ids (its form enforced at
# decoding, so id_of never meets another), or a number.
_SentIdText = Annotated[str, msgspec.Meta(pattern=_ID_TEXT)]
SentId = _SentIdText | Id
# An id whose range is enforced at decoding (400), for bodies that always refused 0.
CheckedId = Annotated[int, msgspec.Meta(ge=1, le=validation.MAX_ID)]
CheckedSentId = _SentIdText | CheckedId


def id_of(sent: str | int | None) -> int | None:
    """The id a SentId names."""
    return None if sent is None else int(sent)


NonEmpty = Annotated[str, declared(minLength=1, pattern=anchored(r"[^\u0000]+"))]
WebUrl = Annotated[
    str, declared(minLength=1, maxLength=validation.MAX_URL_LENGTH, pattern=anchored(WEB_URL))
]
Destination = Annotated[
    str, declared(minLength=1, maxLength=validation.MAX_URL_LENGTH, pattern=anchored(DESTINATION))
]
# A webhook target (kurz.webhooks.ssrf.parse_target): lower-case scheme, no credentials.
WEBHOOK_URL = rf"https?://{HOST}(?::(?:{_PORT}))?(?:[/?#][^\u0000-\u0020\u007f]*)?"
WebhookUrl = Annotated[
    str, declared(minLength=1, maxLength=ssrf.MAX_URL_LENGTH, pattern=anchored(WEBHOOK_URL))
]
# A brand name: stripped, 1 to MAX_BRAND_NAME characters, no control ones.
_BRAND_CHAR = r"[^\u0000-\u001f\u007f]"
BrandName = Annotated[
    str,
    declared(
        maxLength=branding.MAX_BRAND_NAME,
        pattern=anchored(rf"{_BRAND_CHAR}*[^\s\u0085\u0000-\u001f\u007f]{_BRAND_CHAR}*"),
    ),
]
Host = Annotated[str, declared(minLength=1, maxLength=validation.MAX_HOST, pattern=anchored(HOST))]
Slug = Annotated[str, declared(pattern=anchored(SLUG))]
TrackingId = Annotated[str, declared(pattern=anchored(TRACKING_ID))]
Color = Annotated[str, declared(pattern=anchored(COLOR))]
Date = Annotated[str, declared(format="date", pattern=anchored(DATE))]
# A day in a query: empty is the same as absent (the default applies).
QueryDate = Annotated[str, declared(pattern=anchored(f"(?:{DATE})?"))]
Timestamp = Annotated[datetime, declared(pattern=anchored(DATETIME))]
RedirectCode = Annotated[int, declared(enum=sorted(REDIRECT_TYPES))]
MaxClicks = Annotated[int, declared(minimum=0, maximum=validation.MAX_INT32)]
# An id, or 0 where 0 means "none" (Vivoldi's grpIdx on an update).
IdOrZero = Annotated[int, declared(minimum=0, maximum=validation.MAX_ID)]
# Free text (a search, a filter): anything but NUL.
Text = Annotated[str, declared(pattern=anchored(NO_NUL))]
# Vivoldi's times, `YYYY-MM-DD HH:MM:SS` in the workspace's zone; "" clears.
VivoldiTime = Annotated[str, declared(pattern=anchored(f"(?:{DATE} {TIME})?"))]
# An optional web URL where "" means none (cleared, or not given).
OptionalWebUrl = Annotated[
    str, declared(maxLength=validation.MAX_URL_LENGTH, pattern=anchored(f"(?:{WEB_URL})?"))
]
OptionalWebhookUrl = Annotated[
    str, declared(maxLength=ssrf.MAX_URL_LENGTH, pattern=anchored(f"(?:{WEBHOOK_URL})?"))
]


def text_meta(limit: int | None = None, *, min_length: int = 0) -> msgspec.Meta:
    """The constraint of a text field without NUL, of at most `limit` characters; for
    `Annotated[str, text_meta(...)]` where a static type is needed."""
    length = {"maxLength": limit} if limit is not None else {}
    return declared(minLength=min_length, pattern=anchored(NO_NUL), **length)


def text(limit: int | None = None, *, min_length: int = 0) -> Any:
    """A text field without NUL, of at most `limit` characters."""
    return Annotated[str, text_meta(limit, min_length=min_length)]


def link_text(field: str) -> Any:
    """A link's text field (LinkSpec's name), as long as validation allows it."""
    return text(validation.TEXT_LIMITS[field], min_length=1 if field == "password" else 0)


def items(item: Any, limit: int) -> Any:
    """A list of at most `limit` items."""
    return Annotated[list[item], declared(maxItems=limit)]


def _rule(what: str, required: list[str], **properties: Any) -> dict[str, Any]:
    url = {"type": "string", "maxLength": validation.MAX_URL_LENGTH, "pattern": anchored(WEB_URL)}
    return {
        "type": "object",
        "properties": {"what": {"enum": [what]}, "url": url, **properties},
        "required": ["what", "url", *required],
    }


# A rule's `matches` depends on its kind (validation.check_rules): one schema a kind.
RULE_SCHEMA = {
    "oneOf": [
        _rule("country", ["matches"], matches={"enum": sorted(COUNTRY_CODES)}),
        _rule("platform", ["matches"], matches={"enum": sorted(PLATFORMS)}),
        _rule(
            "language",
            ["matches"],
            matches={"type": "string", "pattern": anchored(validation.LANGUAGE.pattern)},
        ),
        _rule(
            "rotator", ["percentage"], percentage={"type": "number", "minimum": 0, "maximum": 100}
        ),
    ]
}
Rules = Annotated[list[Rule], declared(maxItems=validation.MAX_RULES, items=RULE_SCHEMA)]


# Query strings. msgspec converts a query's text (lax: "2" is 2) but checks only what its
# own Meta states; the constraints declared for the document are checked here, on the
# text as sent, so a query the document forbids is refused (400) and never read leniently
# (a number taken as a timestamp, an id of 0 as "none").
_RULES = ("pattern", "minimum", "maximum", "minLength", "maxLength", "enum")
# Patterns that declare only part of what the server takes (ASCII host names, the years
# and days of DATE): the server's own rule decides those values.
_PARTIAL = (HOST, YEAR)


@functools.cache
def _query_rules(shape: type) -> dict[str, dict[str, Any]]:
    schema = msgspec.json.schema(shape)
    name = schema["$ref"].rsplit("/", 1)[1]
    rules: dict[str, dict[str, Any]] = {}
    for field, prop in schema["$defs"][name].get("properties", {}).items():
        branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]
        if len(branches) == 1:
            rules[field] = {k: v for k, v in branches[0].items() if k in _RULES}
    for field in _datetime_fields(shape):
        rules.setdefault(field, {})["date-time"] = True
    return rules


def _datetime_fields(shape: type) -> list[str]:
    """The fields of `shape` that hold a datetime (msgspec would take a number there as
    a Unix time)."""
    info = msgspec.inspect.type_info(shape)
    assert isinstance(info, msgspec.inspect.StructType)
    found = []
    for field in info.fields:
        kind = field.type
        members = kind.types if isinstance(kind, msgspec.inspect.UnionType) else (kind,)
        for member in members:
            inner = member.type if isinstance(member, msgspec.inspect.Metadata) else member
            if isinstance(inner, msgspec.inspect.DateTimeType):
                found.append(field.encode_name)
    return found


def query_breach(shape: type, params: Mapping[str, str]) -> tuple[str, str] | None:
    """The first of `params` breaking its declared constraint, and what it does wrong;
    None when every one keeps them."""
    rules = _query_rules(shape)
    for name, text in params.items():
        if problem := _breach(rules.get(name, {}), name, text):
            return name, problem
    return None


def _breach(rule: dict[str, Any], name: str, text: str) -> str | None:
    if "\x00" in text:
        return f"{name} contains a NUL character"
    pattern = rule.get("pattern", "")
    if pattern and not any(p in pattern for p in _PARTIAL) and not re.search(pattern, text):
        return f"{name}: {text!r} is not in the documented form"
    if rule.get("date-time") and _number(text) is not None:
        return f"{name} must be a date and time (RFC 3339), not a number"
    if "enum" in rule and text not in {str(v) for v in rule["enum"]}:
        return f"{name} must be one of {', '.join(str(v) for v in rule['enum'])}"
    if not {"minLength", "maxLength"}.isdisjoint(rule) and not (
        rule.get("minLength", 0) <= len(text) <= rule.get("maxLength", len(text))
    ):
        return f"{name}: {len(text)} characters, out of the documented range"
    number = _number(text)
    if number is not None and not {"minimum", "maximum"}.isdisjoint(rule):
        low, high = rule.get("minimum", number), rule.get("maximum", number)
        if not low <= number <= high:
            return f"{name} must be from {low} to {high}"
    return None


def _number(text: str) -> float | None:
    """The number `text` spells, exactly (a float would round ids near 2**63)."""
    try:
        return int(text) if text.lstrip("-").isdecimal() else float(text)
    except ValueError:
        return None
