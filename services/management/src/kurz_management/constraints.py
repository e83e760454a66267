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

import re
from collections.abc import Iterable
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
IdText = Annotated[str, declared(pattern=r"^[1-9][0-9]{0,17}$")]
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
