"""The edge's decision, branch by branch: a table of (link, facts, time) -> answer."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest
from kurz.decision import (
    Answer,
    Decision,
    RequestFacts,
    choose_destination,
    decide,
    is_static,
    limit_reached,
)
from kurz.events import Outcome
from kurz.models import EdgeLink, Rule

NOW = 1_800_000_000.0
URL = "https://example.com/page"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120"
MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605"
LINUX = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0"

RULES = (
    Rule("country", "https://de.example/", matches="DE"),
    Rule("platform", "https://ios.example/", matches="ios"),
    Rule("platform", "https://android.example/", matches="android"),
    Rule("language", "https://fr.example/", matches="fr"),
    Rule("language", "https://pt-br.example/", matches="pt-BR"),
)


def link(**changes: object) -> EdgeLink:
    base = EdgeLink(id=7, workspace_id=1, url=URL, host="kurz.test", slug="abc")
    return msgspec.structs.replace(base, **changes)


class Fixed:
    """A random source that always draws the same number."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


CASES: list[tuple[str, EdgeLink, RequestFacts, Decision]] = [
    ("plain 302", link(), RequestFacts(), Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL)),
    (
        "301",
        link(redirect_type=301),
        RequestFacts(),
        Decision(Answer.REDIRECT, 301, Outcome.REDIRECT, URL),
    ),
    (
        "307",
        link(redirect_type=307),
        RequestFacts(),
        Decision(Answer.REDIRECT, 307, Outcome.REDIRECT, URL),
    ),
    (
        "308",
        link(redirect_type=308),
        RequestFacts(),
        Decision(Answer.REDIRECT, 308, Outcome.REDIRECT, URL),
    ),
    (
        "type 200 page",
        link(redirect_type=200),
        RequestFacts(),
        Decision(Answer.NAVIGATE, 200, Outcome.PAGE, URL),
    ),
    (
        "disabled",
        link(enabled=False),
        RequestFacts(),
        Decision(Answer.DISABLED, 404, Outcome.DISABLED),
    ),
    (
        "not started",
        link(starts_at=NOW + 1),
        RequestFacts(),
        Decision(Answer.NOT_STARTED, 403, Outcome.NOT_STARTED),
    ),
    (
        "started",
        link(starts_at=NOW),
        RequestFacts(),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL),
    ),
    (
        "expired, no url",
        link(expires_at=NOW),
        RequestFacts(),
        Decision(Answer.EXPIRED, 410, Outcome.EXPIRED),
    ),
    (
        "expired, expiry url",
        link(expires_at=NOW - 1, expiry_url="https://x.example/over"),
        RequestFacts(),
        Decision(Answer.REDIRECT, 302, Outcome.EXPIRED, "https://x.example/over"),
    ),
    (
        "not yet expired",
        link(expires_at=NOW + 1),
        RequestFacts(),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL),
    ),
    (
        "preview crawler with og",
        link(og_title="Hello"),
        RequestFacts(bot=True, preview=True),
        Decision(Answer.PREVIEW, 200, Outcome.PREVIEW),
    ),
    (
        "preview beats bot blocking",
        link(og_image="https://i.example/a.png", block_bots=True),
        RequestFacts(bot=True, preview=True),
        Decision(Answer.PREVIEW, 200, Outcome.PREVIEW),
    ),
    (
        "preview crawler without og",
        link(),
        RequestFacts(bot=True, preview=True),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL),
    ),
    (
        "og but a person",
        link(og_description="d"),
        RequestFacts(),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL),
    ),
    (
        "expired beats preview",
        link(og_title="t", expires_at=NOW - 1),
        RequestFacts(bot=True, preview=True),
        Decision(Answer.EXPIRED, 410, Outcome.EXPIRED),
    ),
    (
        "password asked",
        link(password_hash="$argon2id$x"),
        RequestFacts(),
        Decision(Answer.PASSWORD, 200, Outcome.PASSWORD),
    ),
    (
        "password cookie ok",
        link(password_hash="$argon2id$x"),
        RequestFacts(password_ok=True),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL),
    ),
    (
        "bot blocked",
        link(block_bots=True),
        RequestFacts(bot=True),
        Decision(Answer.BLOCKED, 403, Outcome.BLOCKED),
    ),
    (
        "bot allowed",
        link(),
        RequestFacts(bot=True),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL),
    ),
    (
        "person on a bot-blocking link",
        link(block_bots=True),
        RequestFacts(),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL),
    ),
    (
        "click limit flagged",
        link(max_clicks=5),
        RequestFacts(),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL, limited=True),
    ),
    (
        "country rule",
        link(rules=RULES),
        RequestFacts(country="DE"),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, "https://de.example/", "country:DE"),
    ),
    (
        "platform rule ios",
        link(rules=RULES),
        RequestFacts(user_agent=IPHONE),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, "https://ios.example/", "platform:ios"),
    ),
    (
        "platform rule android",
        link(rules=RULES),
        RequestFacts(user_agent=ANDROID),
        Decision(
            Answer.REDIRECT, 302, Outcome.REDIRECT, "https://android.example/", "platform:android"
        ),
    ),
    (
        "first matching rule wins",
        link(rules=RULES),
        RequestFacts(country="DE", user_agent=IPHONE),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, "https://de.example/", "country:DE"),
    ),
    (
        "language rule, primary subtag",
        link(rules=RULES),
        RequestFacts(accept_language="fr-CA,fr;q=0.9,en;q=0.5"),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, "https://fr.example/", "language:fr"),
    ),
    (
        "language rule, full tag",
        link(rules=RULES),
        RequestFacts(accept_language="pt-BR"),
        Decision(
            Answer.REDIRECT, 302, Outcome.REDIRECT, "https://pt-br.example/", "language:pt-BR"
        ),
    ),
    (
        "language rule, preferred only",
        link(rules=RULES),
        RequestFacts(accept_language="en;q=0.9,fr;q=0.1"),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL),
    ),
    (
        "no rule matches",
        link(rules=RULES),
        RequestFacts(country="US", user_agent=WINDOWS),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL),
    ),
    (
        "mailto page",
        link(link_type="MAILTO", url="hi@example.com"),
        RequestFacts(),
        Decision(Answer.SCHEME, 200, Outcome.PAGE, "mailto:hi@example.com"),
    ),
    (
        "tel page keeps scheme",
        link(link_type="TEL", url="tel:+4930123"),
        RequestFacts(),
        Decision(Answer.SCHEME, 200, Outcome.PAGE, "tel:+4930123"),
    ),
    (
        "sms page",
        link(link_type="SMS", url="+4930123"),
        RequestFacts(),
        Decision(Answer.SCHEME, 200, Outcome.PAGE, "sms:+4930123"),
    ),
    ("cloaked", link(cloaked=True), RequestFacts(), Decision(Answer.FRAME, 200, Outcome.PAGE, URL)),
    (
        "push",
        link(push_subscribe=True),
        RequestFacts(),
        Decision(Answer.PUSH, 200, Outcome.PAGE, URL),
    ),
    (
        "meta pixel",
        link(meta_pixel_id="123"),
        RequestFacts(),
        Decision(Answer.PIXELS, 200, Outcome.PAGE, URL),
    ),
    ("ga4", link(ga4_id="G-1"), RequestFacts(), Decision(Answer.PIXELS, 200, Outcome.PAGE, URL)),
    ("gtm", link(gtm_id="GTM-1"), RequestFacts(), Decision(Answer.PIXELS, 200, Outcome.PAGE, URL)),
    (
        "tiktok pixel",
        link(tiktok_pixel_id="C4TT01"),
        RequestFacts(),
        Decision(Answer.PIXELS, 200, Outcome.PAGE, URL),
    ),
    (
        "raw tags",
        link(head_tags="<meta name=x>"),
        RequestFacts(),
        Decision(Answer.PIXELS, 200, Outcome.PAGE, URL),
    ),
    (
        "utm merged",
        link(utm=(("utm_source", "news"),)),
        RequestFacts(query=(("a", "1"),)),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL + "?utm_source=news"),
    ),
    (
        "forwarded params",
        link(forward_params=True, url=URL + "?keep=1"),
        RequestFacts(query=(("keep", "2"), ("x", "y z"))),
        Decision(Answer.REDIRECT, 302, Outcome.REDIRECT, URL + "?keep=1&x=y+z"),
    ),
    (
        "rule destination gets utm",
        link(rules=RULES, utm=(("utm_medium", "qr"),)),
        RequestFacts(country="DE"),
        Decision(
            Answer.REDIRECT,
            302,
            Outcome.REDIRECT,
            "https://de.example/?utm_medium=qr",
            "country:DE",
        ),
    ),
]


@pytest.mark.parametrize(("name", "edge", "facts", "expected"), CASES, ids=[c[0] for c in CASES])
def test_decision_table(name: str, edge: EdgeLink, facts: RequestFacts, expected: Decision) -> None:
    assert decide(edge, facts, NOW, Fixed(0.5)) == expected


def test_click_limit_reached_goes_to_expiry_url_or_410() -> None:
    assert limit_reached(link(max_clicks=1)) == Decision(Answer.LIMITED, 410, Outcome.LIMITED)
    assert limit_reached(link(max_clicks=1, expiry_url="https://x.example/")) == Decision(
        Answer.REDIRECT, 302, Outcome.LIMITED, "https://x.example/"
    )


@pytest.mark.parametrize(
    ("draw", "expected"),
    [(0.0, ("https://a.example/", "rotator:0")), (0.299, ("https://a.example/", "rotator:0")),
     (0.30, ("https://b.example/", "rotator:1")), (0.59, ("https://b.example/", "rotator:1")),
     (0.60, (URL, None)), (0.99, (URL, None))],
)  # fmt: skip
def test_rotator_bands_and_remainder_to_the_main_url(
    draw: float, expected: tuple[Any, ...]
) -> None:
    rotated = link(
        rules=(
            Rule("rotator", "https://a.example/", percentage=30),
            Rule("rotator", "https://b.example/", percentage=30),
        )
    )
    assert choose_destination(rotated, RequestFacts(), Fixed(draw)) == expected


def test_rotator_runs_after_unmatched_rules() -> None:
    rules = (Rule("rotator", "https://r.example/", percentage=100), *RULES)
    assert choose_destination(link(rules=rules), RequestFacts(country="DE"), Fixed(0.1)) == (
        "https://de.example/",
        "country:DE",
    )
    assert choose_destination(link(rules=rules), RequestFacts(country="US"), Fixed(0.1)) == (
        "https://r.example/",
        "rotator:0",
    )


def test_rotator_fifty_fifty_over_ten_thousand_draws() -> None:
    rotated = link(
        rules=(
            Rule("rotator", "https://a.example/", percentage=50),
            Rule("rotator", "https://b.example/", percentage=50),
        )
    )
    rng = random.Random(20261122)
    counts = {"https://a.example/": 0, "https://b.example/": 0, URL: 0}
    for _ in range(10_000):
        counts[choose_destination(rotated, RequestFacts(), rng)[0]] += 1
    assert counts[URL] == 0
    assert abs(counts["https://a.example/"] / 100 - 50) <= 3
    assert abs(counts["https://b.example/"] / 100 - 50) <= 3


def test_platform_detection_covers_each_platform() -> None:
    rules = tuple(
        Rule("platform", f"https://{p}.example/", matches=p)
        for p in ("ios", "android", "windows", "mac", "linux")
    )
    for ua, expected in (
        (IPHONE, "ios"),
        (ANDROID, "android"),
        (WINDOWS, "windows"),
        (MAC, "mac"),
        (LINUX, "linux"),
    ):
        dest, rule = choose_destination(link(rules=rules), RequestFacts(user_agent=ua), Fixed(0))
        assert rule == f"platform:{expected}" and dest == f"https://{expected}.example/"


def test_static_links_are_only_plain_redirects() -> None:
    assert is_static(link())
    assert is_static(link(redirect_type=301, utm=(("utm_source", "x"),), hide_referrer=True))
    assert is_static(link(og_title="t"))  # the edge asks decide() again for crawlers
    for changes in (
        {"max_clicks": 3},
        {"forward_params": True},
        {"rules": RULES},
        {"expires_at": NOW},
        {"password_hash": "h"},
        {"cloaked": True},
        {"redirect_type": 200},
        {"link_type": "TEL"},
        {"block_bots": True},
        {"enabled": False},
        {"gtm_id": "G"},
    ):
        assert not is_static(link(**changes)), changes
