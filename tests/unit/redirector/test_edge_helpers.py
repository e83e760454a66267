"""The redirector's pure helpers: query merging, user-agent tests, visitor ids, the local
cache's invalidation, page escaping and password cookies."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import pytest
from kurz import qr
from kurz.agents import classify, languages, platform
from kurz.models import EdgeLink
from kurz.urls import merge_query, visitor_params
from kurz.visitor import VisitorIds
from kurz_redirector import pages
from kurz_redirector.cache import Entry, LinkCache
from kurz_redirector.passwords import PasswordCookies, cookie_name, form_password
from kurz_redirector.respond import header_url


def test_merge_keeps_existing_parameters_and_fragment() -> None:
    merged = merge_query("https://e.example/p?a=1#top", [("a", "2"), ("b", "x y"), ("b", "3")])
    assert merged == "https://e.example/p?a=1&b=x+y#top"
    assert merge_query("https://e.example/", []) == "https://e.example/"


@pytest.mark.parametrize(
    "raw", [b"x=%ff%fe", b"a=<script>&b=\"'", b"%zz=1&&==&q", b"u=%E2%9C%93&n=1;2"]
)
def test_any_visitor_query_gives_a_valid_url(raw: bytes) -> None:
    params, _ = visitor_params(raw)
    merged = merge_query("https://e.example/p?keep=1", params)
    parts = urlsplit(merged)
    assert parts.scheme == "https" and parts.netloc == "e.example"
    assert all(c not in merged for c in " <>\"'")
    assert parse_qsl(parts.query)[0] == ("keep", "1")


@pytest.mark.parametrize(
    ("url", "header"),
    [
        ("https://e.example/a?b=1&c=%20#f", b"https://e.example/a?b=1&c=%20#f"),
        ("https://e.example/ü", b"https://e.example/%C3%BC"),
        ("https://e.example/a b", b"https://e.example/a%20b"),
        ("https://e.example/\r\nset-cookie: x=1", b"https://e.example/%0D%0Aset-cookie:%20x=1"),
        ("https://e.example/\x00\x7f\t", b"https://e.example/%00%7F%09"),
    ],
)
def test_a_location_header_is_printable_ascii_whatever_the_url(url: str, header: bytes) -> None:
    # The protocol writes it as it is (protocol.py): a CR or LF would split the response.
    assert header_url(url) == header


def test_qr_marker_is_taken_out_of_the_visitor_query() -> None:
    assert visitor_params(b"qr=1&a=b") == ((("a", "b"),), True)
    assert visitor_params(b"qr=2") == ((("qr", "2"),), False)
    assert visitor_params(b"") == ((), False)


@pytest.mark.parametrize(
    ("ua", "bot", "preview"),
    [
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", True, True),
        ("Twitterbot/1.0", True, True),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", True, True),
        ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", True, True),
        ("WhatsApp/2.23.20.0 A", True, True),
        ("TelegramBot (like TwitterBot)", True, True),
        ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
         True, True),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True, False),
        ("Mozilla/5.0 (compatible; bingbot/2.0)", True, False),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36", False, False),
        ("curl/8.5.0", False, False),
        ("python-httpx/0.28.1", False, False),
    ],
)  # fmt: skip
def test_bot_and_preview_classification(ua: str, bot: bool, preview: bool) -> None:
    assert classify(ua) == (bot, preview)
    assert classify(ua) == (bot, preview)  # memoized answer is the same


def test_platform_and_languages() -> None:
    assert platform("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)") == "ios"
    assert platform("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0)") == "linux"
    assert platform("something") is None
    assert languages("de;q=0.5, en-US , fr;q=0.9, *;q=0.1, xx;q=0") == ("en-us", "fr", "de")
    assert languages("en;q=abc") == ()


def test_visitor_ids_hide_the_address_and_rotate_daily() -> None:
    ids = VisitorIds("secret")
    day = 1_800_000_000.0
    first = ids.visitor_id("203.0.113.7", "ua", day)
    assert first == ids.visitor_id("203.0.113.7", "ua", day + 10)
    assert first != ids.visitor_id("203.0.113.8", "ua", day)
    assert first != ids.visitor_id("203.0.113.7", "other", day)
    assert first != ids.visitor_id("203.0.113.7", "ua", day + 86_400)
    assert first != VisitorIds("other secret").visitor_id("203.0.113.7", "ua", day)
    assert "203.0.113.7" not in first and len(first) == 32


def _entry(cache: LinkCache, link_id: int, group: int | None = None) -> Entry:
    edge = EdgeLink(id=link_id, workspace_id=1, url="https://e.example/", group_id=group)
    return Entry.of_link(edge, cache.deadline())


def test_cache_invalidation_messages_lru_and_ttl() -> None:
    cache = LinkCache(size=3, ttl=60)
    cache.put("h/a", _entry(cache, 1, group=9))
    cache.put("h/b", _entry(cache, 2, group=9))
    cache.put("h/c", _entry(cache, 3))
    cache.invalidate("g 9")
    assert cache.get("h/a") is None and cache.get("h/b") is None and cache.get("h/c") is not None
    cache.put("h/a", _entry(cache, 1))
    cache.put("h/b", _entry(cache, 2))
    cache.invalidate("l h/a\nl h/zzz\nbogus line")
    assert cache.get("h/a") is None and len(cache) == 2
    cache.get("h/c")  # most recently used now
    cache.put("h/d", _entry(cache, 4))
    cache.put("h/e", _entry(cache, 5))
    assert cache.get("h/b") is None and cache.get("h/c") is not None
    cache.invalidate("*")
    assert len(cache) == 0
    short = LinkCache(size=3, ttl=0.01)
    short.put("h/a", _entry(short, 1))
    time.sleep(0.02)
    assert short.get("h/a") is None


def test_pages_escape_what_users_supplied() -> None:
    evil = 'https://e.example/?q="><script>alert(1)</script>'
    for page in (pages.navigate(evil), pages.frame(evil, "<b>t</b>"), pages.push(evil, evil, evil),
                 pages.pixels(evil, meta="1\"><x", ga4=None, gtm=None, tiktok="2\"><x",
                              head_tags=None, body_tags=None),
                 pages.preview(evil, "<t>", "<d>", evil), pages.scheme("mailto:\"<x>"),
                 pages.password_form(evil, error="<e>")):  # fmt: skip
        html = page.body.decode()
        assert "<script>alert" not in html and "<t>" not in html and "<x" not in html
        assert "frame-ancestors 'none'" in page.csp
        assert "unsafe-inline" not in page.csp


def test_password_cookie_is_bound_to_link_and_password() -> None:
    cookies = PasswordCookies("s")
    link = EdgeLink(id=1, workspace_id=1, url="u", password_hash="h1")
    other = EdgeLink(id=2, workspace_id=1, url="u", password_hash="h1")
    now = time.time()
    value = cookies.issue(link, now)
    assert cookies.valid(link, f"a=b; {cookie_name(link)}={value}", now)
    assert not cookies.valid(other, f"{cookie_name(other)}={value}", now)
    changed = EdgeLink(id=1, workspace_id=1, url="u", password_hash="h2")
    assert not cookies.valid(changed, f"{cookie_name(link)}={value}", now)
    assert not cookies.valid(link, f"{cookie_name(link)}={value}", now + 90_000)
    assert not PasswordCookies("t").valid(link, f"{cookie_name(link)}={value}", now)
    assert not cookies.valid(link, f"{cookie_name(link)}=garbage", now)


def test_form_password_and_qr_options() -> None:
    assert form_password(b"password=s%C3%A9cret&x=1") == "sécret"
    assert form_password(b"nothing=1") is None
    assert form_password(b"password=" + b"a" * 5000) is None
    assert qr.parse_options({}) == (200, "png")
    assert qr.parse_options({"size": ["300"], "format": ["SVG"]}) == (300, "svg")
    for bad in ({"size": ["10"]}, {"size": ["abc"]}, {"size": ["9999"]}, {"format": ["gif"]}):
        with pytest.raises(qr.QrError):
            qr.parse_options(bad)


def test_every_invalidation_moves_the_epoch() -> None:
    cache = LinkCache(size=3, ttl=60)
    before = cache.epoch
    cache.invalidate("l h/x")
    cache.clear()
    assert cache.epoch == before + 2


def test_countries_from_the_bundled_database() -> None:
    import warnings

    from kurz_redirector.geo import Countries

    # geoip2fast's source has an invalid escape sequence: Python warns when it compiles it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        countries = Countries()
    assert countries.of("8.8.8.8") == "US"
    assert countries.of("81.2.69.160") == "GB"
    assert countries.of("127.0.0.1") is None and countries.of("10.1.2.3") is None
    assert countries.of("not an ip") is None
