"""Enrichment and counting rules: pure functions, checked by table."""

from __future__ import annotations

import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
import pytest
from kurz.events import BATCH_FIELD, FIELD, ClickEvent, encode_batch, encode_event
from kurz.stream import Entry
from kurz_aggregator.enrich import clean_text, parse_agent, referrer_host
from kurz_aggregator.lookups import Lookups, WorkspaceFacts, time_zone
from kurz_aggregator.poison import repeats
from kurz_aggregator.rows import COLUMNS, decode_entries, is_overseas, local_day_hour, to_row
from redis.exceptions import ConnectionError as RedisConnectionError

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize(
    ("user_agent", "device", "os", "browser"),
    [
        (CHROME_WIN, "desktop", "Windows", "Chrome"),
        (SAFARI_MAC, "desktop", "Mac OS X", "Safari"),
        (IPHONE, "mobile", "iOS", "Mobile Safari"),
        (IPAD, "tablet", "iOS", "Mobile Safari"),
        (ANDROID_PHONE, "mobile", "Android", "Chrome Mobile"),
        (ANDROID_TABLET, "tablet", "Android", "Chrome"),
        (None, "other", "Other", "Other"),
        ("", "other", "Other", "Other"),
        ("garbage/1.0", "other", "Other", "Other"),
    ],
)
def test_device_os_and_browser(user_agent: str | None, device: str, os: str, browser: str) -> None:
    agent = parse_agent(user_agent)
    assert (agent.device, agent.os, agent.browser) == (device, os, browser)
    assert not agent.bot and agent.bot_name is None


@pytest.mark.parametrize(
    ("user_agent", "bot_name"),
    [
        (GOOGLEBOT, "Googlebot"),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "facebookexternalhit",
        ),
        ("python-requests/2.32.3", "python-requests"),
        ("curl/8.5.0", None),  # typed by a person trying the link: counted
        ("Wget/1.21.4", None),
        (CHROME_WIN, None),
    ],
)
def test_bots_come_from_the_crawler_list(user_agent: str, bot_name: str | None) -> None:
    agent = parse_agent(user_agent)
    assert agent.bot_name == bot_name
    assert agent.bot is (bot_name is not None)
    assert (agent.device == "bot") is agent.bot


@pytest.mark.parametrize(
    ("referrer", "host"),
    [
        ("https://News.Example.org:8443/path?q=1", "news.example.org"),
        ("http://t.co/abc", "t.co"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("not a url", None),
        ("http://[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_referrer_host(referrer: str | None, host: str | None) -> None:
    assert referrer_host(referrer) == host


def test_clean_text_drops_nul_and_bounds_length() -> None:
    assert clean_text("a\x00b") == "ab"
    assert clean_text("x" * 5000) == "x" * 2048
    assert clean_text(None) is None


def test_unknown_time_zone_falls_back_to_utc() -> None:
    assert time_zone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert time_zone("Not/AZone").utcoffset(None) is not None
    assert time_zone("../../etc/passwd") == time_zone("UTC")


def _event(**fields: object) -> ClickEvent:
    values: dict[str, object] = {
        "id": "e1", "at": 1_700_000_000.0, "workspace_id": 1, "link_id": 2, "group_id": 3,
        "host": "kurz.test", "slug": "s", "destination": "https://example.com/", "rule": None,
        "outcome": "redirect", "visitor": "v", "country": "US", "referrer": None,
        "user_agent": CHROME_WIN,
    }  # fmt: skip
    values.update(fields)
    return ClickEvent(**values)  # type: ignore[arg-type]


def _lookups(home: str | None, blocks: bool, tz: str = "UTC") -> Lookups:
    lookups = Lookups(ttl=60)
    now = time.monotonic()
    lookups._workspaces[1] = (now, WorkspaceFacts(time_zone(tz), home))
    lookups._groups[3] = (now, blocks)
    return lookups


@pytest.mark.parametrize(
    ("home", "blocks", "country", "group_id", "overseas"),
    [
        ("KR", True, "US", 3, True),
        ("KR", True, "KR", 3, False),
        ("KR", True, "kr", 3, False),
        ("KR", True, None, 3, False),  # unknown country: not known to be overseas
        ("KR", False, "US", 3, False),  # the group does not block
        (None, True, "US", 3, False),  # no home country: nothing is overseas
        ("KR", True, "US", None, False),  # not in a group
    ],
)
def test_overseas(
    home: str | None, blocks: bool, country: str | None, group_id: int | None, overseas: bool
) -> None:
    event = _event(country=country, group_id=group_id)
    assert is_overseas(event, _lookups(home, blocks)) is overseas
    row = dict(zip(COLUMNS, to_row(event, _lookups(home, blocks)), strict=True))
    assert row["overseas"] is overseas and row["counted"] is not overseas


@pytest.mark.parametrize(
    ("fields", "counted"),
    [
        ({}, True),
        ({"outcome": "page"}, True),
        ({"outcome": "limited"}, False),
        ({"outcome": "expired"}, False),
        ({"method": "HEAD"}, False),
        ({"bot": True}, False),
        ({"user_agent": GOOGLEBOT}, False),
    ],
)
def test_counting_rules(fields: dict[str, object], counted: bool) -> None:
    row = dict(zip(COLUMNS, to_row(_event(**fields), _lookups(None, False)), strict=True))
    assert row["counted"] is counted


def test_local_day_and_hour_follow_the_workspace_time_zone() -> None:
    event = _event(at=1_709_305_200.0)  # 2024-03-01T15:00:00Z
    utc = dict(zip(COLUMNS, to_row(event, _lookups(None, False)), strict=True))
    seoul = dict(zip(COLUMNS, to_row(event, _lookups(None, False, "Asia/Seoul")), strict=True))
    assert (utc["day"], utc["hour"]) == (date(2024, 3, 1), 15)
    assert (seoul["day"], seoul["hour"]) == (date(2024, 3, 2), 0)
    assert utc["clicked_at"] == seoul["clicked_at"]


def test_decode_skips_what_cannot_be_stored_and_folds_repeated_ids() -> None:
    good = _event()
    entries = [
        Entry(b"1-0", {FIELD: encode_event(good)}),
        Entry(b"2-0", {FIELD: encode_event(good)}),  # the same event twice
        Entry(b"3-0", {FIELD: b"\x00garbage"}),
        Entry(b"4-0", {b"x": b"y"}),
        Entry(b"5-0", {FIELD: msgspec.msgpack.encode(["too", "short"])}),
        Entry(b"6-0", {FIELD: encode_event(_event(id="e2", link_id=2**63))}),
        Entry(b"7-0", {FIELD: encode_event(_event(id="e3", at=float("inf")))}),
        Entry(b"8-0", {FIELD: encode_event(_event(id="e4", at=100.0))}),  # before retention
        Entry(b"9-0", {FIELD: encode_event(_event(id="e5")).replace(b"https", b"\xed\xa0\x80ps")}),
    ]
    decoded = decode_entries(entries, oldest=1_000.0)
    assert decoded.events == [good]
    assert (decoded.invalid, decoded.stale) == (6, 1)  # 9-0: a string that is not UTF-8


def test_decode_reads_a_batch_entry_event_by_event() -> None:
    first, second = _event(id="b1"), _event(id="b2")
    not_an_event = msgspec.msgpack.encode(7)
    entries = [
        Entry(b"1-0", {BATCH_FIELD: encode_batch([encode_event(first), encode_event(second)])}),
        # A malformed item costs itself only: the rest of its batch counts.
        Entry(b"2-0", {BATCH_FIELD: encode_batch([not_an_event, encode_event(_event())])}),
        Entry(b"3-0", {BATCH_FIELD: b"\x92\xc1\xc1"}),  # not msgpack: the entry counts once
        Entry(b"4-0", {BATCH_FIELD: encode_batch([])}),
        Entry(b"5-0", {FIELD: encode_event(first)}),  # the same event as a single entry
    ]
    decoded = decode_entries(entries)
    assert decoded.events == [first, second, _event()]
    assert (decoded.invalid, decoded.stale) == (2, 0)


def _pg_error(sqlstate: str) -> asyncpg.PostgresError:
    error = asyncpg.PostgresError(f"sqlstate {sqlstate}")
    error.sqlstate = sqlstate
    return error


@pytest.mark.parametrize(
    ("exc", "repeated"),
    [
        (_pg_error("22021"), True),  # invalid byte sequence: the same data fails again
        (_pg_error("23505"), True),
        (_pg_error("54000"), True),  # index row too large
        (_pg_error("40P01"), False),  # deadlock: try again
        (_pg_error("57P01"), False),  # admin shutdown
        (_pg_error("42P01"), False),  # kurz's own SQL: retry, never drop the data
        (asyncpg.InterfaceError("connection closed"), False),
        (ConnectionResetError(), False),
        (TimeoutError(), False),
        (RedisConnectionError(), False),
        (ValueError("a bug one event meets"), True),
        (KeyError("x"), True),
    ],
)
def test_which_failures_repeat(exc: BaseException, repeated: bool) -> None:
    assert repeats(exc) is repeated


@pytest.mark.parametrize(
    "zone",
    ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe",
     "America/St_Johns", "Pacific/Chatham", "Asia/Seoul", "Africa/Monrovia"],
)  # fmt: skip
def test_local_day_and_hour_are_as_the_zone_tells_across_its_changes(zone: str) -> None:
    # Each zone's offset changes in 2024 (or a 30/45-minute offset), and Monrovia's
    # offset of 1972 was not a whole number of quarters of an hour.
    tz = time_zone(zone)
    for start in (63_072_000.0, 1_704_067_200.0):  # 1972 and 2024, whole years
        for step in range(366 * 24 * 4):
            instant = start + step * 877.3  # not aligned with quarters nor hours
            local = datetime.fromtimestamp(instant, tz)
            assert local_day_hour(instant, tz) == (local.date(), local.hour), instant
