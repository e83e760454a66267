"""What the edge answers for one visit: a pure function of link, request facts, time and
a random source. No I/O; the redirector performs what the Decision says."""

from __future__ import annotations

import enum
from typing import Protocol

import msgspec

from kurz import agents
from kurz.branding import EdgeWorkspace
from kurz.events import Outcome
from kurz.models import EdgeLink, Rule
from kurz.urls import merge_query


class Answer(enum.StrEnum):
    REDIRECT = "redirect"  # a Location header with Decision.status
    NAVIGATE = "navigate"  # redirect type 200: an HTML page that navigates
    SCHEME = "scheme"  # mailto:/tel:/sms: page
    FRAME = "frame"  # cloaked: the destination in a full-window frame
    PIXELS = "pixels"  # tracking-pixel interstitial, then navigate
    PUSH = "push"  # ask for notification permission, then navigate
    PREVIEW = "preview"  # Open Graph card for a link-preview crawler
    PASSWORD = "password"  # password form
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    LIMITED = "limited"
    BLOCKED = "blocked"
    DISABLED = "disabled"


class Random(Protocol):
    def random(self) -> float: ...


class RequestFacts(msgspec.Struct, frozen=True):
    method: str = "GET"
    user_agent: str = ""
    bot: bool = False
    preview: bool = False  # a link-preview crawler (a bot too)
    country: str | None = None  # ISO alpha-2, upper case
    accept_language: str = ""
    query: tuple[tuple[str, str], ...] = ()  # the visitor's parameters, QR marker removed
    qr: bool = False
    password_ok: bool = False  # carries a valid password cookie for this link


class Decision(msgspec.Struct, frozen=True):
    answer: Answer
    status: int
    outcome: Outcome
    destination: str = ""
    rule: str | None = None
    limited: bool = False  # the link has a click limit: take a slot before answering


_SCHEMES = {"MAILTO": "mailto:", "TEL": "tel:", "SMS": "sms:"}
_COUNTRY_PLATFORM_LANGUAGE = frozenset({"country", "platform", "language"})


def decide(link: EdgeLink, facts: RequestFacts, now: float, rng: Random) -> Decision:
    """Checks in order: enabled, schedule, preview, password, bots, rules, answer kind."""
    if not link.enabled:
        return Decision(Answer.DISABLED, 404, Outcome.DISABLED)
    if link.starts_at is not None and now < link.starts_at:
        return Decision(Answer.NOT_STARTED, 403, Outcome.NOT_STARTED)
    if link.expires_at is not None and now >= link.expires_at:
        return ended(link, Answer.EXPIRED, Outcome.EXPIRED)
    # Owners set Open Graph fields for exactly these visitors, so a card beats bot blocking.
    if facts.preview and has_preview(link):
        return Decision(Answer.PREVIEW, 200, Outcome.PREVIEW)
    if link.password_hash is not None and not facts.password_ok:
        return Decision(Answer.PASSWORD, 200, Outcome.PASSWORD)
    if link.block_bots and facts.bot:
        return Decision(Answer.BLOCKED, 403, Outcome.BLOCKED)
    url, rule = choose_destination(link, facts, rng)
    return _deliver(link, destination(link, url, facts.query), rule)


def ended(link: EdgeLink, answer: Answer, outcome: Outcome) -> Decision:
    """Past its end (time or click limit): on to the expiry URL if set, else a 410 page."""
    if link.expiry_url:
        return Decision(Answer.REDIRECT, 302, outcome, link.expiry_url)
    return Decision(answer, 410, outcome)


def limit_reached(link: EdgeLink) -> Decision:
    """What a visitor gets once the link's click limit is used up."""
    return ended(link, Answer.LIMITED, Outcome.LIMITED)


def fall_back(decision: Decision, workspace: EdgeWorkspace | None) -> Decision:
    """Where the link's workspace sends the visitors kurz would show a status page: a link
    past its end or its click limit (without an expiry URL of its own) to the workspace's
    expired-link URL, a disabled one to its invalid-link URL; else the decision stands."""
    if workspace is None:
        return decision
    if decision.answer in (Answer.EXPIRED, Answer.LIMITED):
        url = workspace.expired_link_redirect
    elif decision.answer == Answer.DISABLED:
        url = workspace.invalid_link_redirect
    else:
        return decision
    return Decision(Answer.REDIRECT, 302, decision.outcome, url) if url else decision


def has_preview(link: EdgeLink) -> bool:
    return bool(link.og_title or link.og_description or link.og_image)


def has_pixels(link: EdgeLink) -> bool:
    return bool(
        link.meta_pixel_id
        or link.ga4_id
        or link.gtm_id
        or link.tiktok_pixel_id
        or link.head_tags
        or link.body_tags
    )


def _deliver(link: EdgeLink, url: str, rule: str | None) -> Decision:
    limited = link.max_clicks is not None
    scheme = _SCHEMES.get(link.link_type)
    if scheme is not None:
        return Decision(
            Answer.SCHEME, 200, Outcome.PAGE, scheme_url(scheme, link.url), rule, limited
        )
    if link.cloaked:
        answer = Answer.FRAME
    elif link.push_subscribe:
        answer = Answer.PUSH
    elif has_pixels(link):
        answer = Answer.PIXELS
    elif link.redirect_type == 200:
        answer = Answer.NAVIGATE
    else:
        return Decision(Answer.REDIRECT, link.redirect_type, Outcome.REDIRECT, url, rule, limited)
    return Decision(answer, 200, Outcome.PAGE, url, rule, limited)


def scheme_url(scheme: str, target: str) -> str:
    """mailto:/tel:/sms: URL whether the stored target carries its scheme or not."""
    return target if target.lower().startswith(scheme) else scheme + target


def destination(link: EdgeLink, url: str, query: tuple[tuple[str, str], ...]) -> str:
    """Destination with the link's UTM fields and, if forwarded, the visitor's parameters;
    parameters the destination has already are kept."""
    extra = list(link.utm)
    if link.forward_params:
        extra.extend(query)
    return merge_query(url, extra) if extra else url


def choose_destination(link: EdgeLink, facts: RequestFacts, rng: Random) -> tuple[str, str | None]:
    """First matching country/platform/language rule, else the rotator, else the main URL."""
    if not link.rules:
        return link.url, None
    platform: str | None = None
    language: str | None = None
    rotator: list[Rule] = []
    for rule in link.rules:
        if rule.what not in _COUNTRY_PLATFORM_LANGUAGE:
            rotator.append(rule)
            continue
        wanted = (rule.matches or "").lower()
        if rule.what == "country":
            actual = (facts.country or "").lower()
        elif rule.what == "platform":
            platform = platform or agents.platform(facts.user_agent) or "-"
            actual = platform
        else:
            if language is None:  # the visitor's most preferred language decides
                preferred = agents.languages(facts.accept_language)
                language = preferred[0] if preferred else "-"
            actual = language if "-" in wanted else language.split("-")[0]
        if wanted and actual == wanted:
            return rule.url, f"{rule.what}:{rule.matches}"
    return _rotate(link.url, rotator, rng)


def _rotate(main: str, rotator: list[Rule], rng: Random) -> tuple[str, str | None]:
    """Weights are percentages of all visits; what they leave goes to the main URL."""
    if not rotator:
        return main, None
    draw = rng.random() * 100.0
    bound = 0.0
    for index, rule in enumerate(rotator):
        bound += rule.percentage or 0.0
        if draw < bound:
            return rule.url, f"rotator:{index}"
    return main, None


def is_static(link: EdgeLink) -> bool:
    """The answer is a plain redirect that depends neither on the clock nor on the visit,
    link-preview crawlers aside: the edge may compute it once per cached link and only
    has to ask decide() again for a crawler."""
    return (
        link.enabled
        and link.starts_at is None
        and link.expires_at is None
        and link.password_hash is None
        and link.max_clicks is None
        and not link.rules
        and not link.forward_params
        and not link.block_bots
        and link.link_type == "URL"
        and not link.cloaked
        and not link.push_subscribe
        and not has_pixels(link)
        and link.redirect_type != 200
    )
