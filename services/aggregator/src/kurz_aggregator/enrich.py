"""What the aggregator learns about a click beyond what the edge recorded: device type,
OS and browser (ua-parser), whether a crawler sent it (crawlerdetect's maintained list),
the referrer's host. Pure functions, cached per user agent: real traffic repeats a few
thousand user agents, and crawlerdetect costs a few hundred microseconds per new one.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import msgspec
from crawlerdetect import CrawlerDetect
from ua_parser import parse

# Command-line clients a person types by hand (`curl -i <short url>` to try a link).
# crawlerdetect lists them as automated; kurz counts them like a browser so that trying
# a link from a terminal shows up in its statistics. Libraries (python-requests, okhttp,
# ...) stay bots: they are how scripts and scrapers fetch.
HUMAN_DRIVEN_TOOLS: frozenset[str] = frozenset({"curl", "wget", "httpie"})

_TABLET_HINTS = ("ipad", "tablet", "kindle", "silk", "playbook", "nexus 7", "nexus 9", "sm-t")
_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Tizen"})
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "macOS",
        "Linux",
        "Ubuntu",
        "Chrome OS",
        "ChromeOS",
        "Fedora",
        "Debian",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Arch Linux",
        "Linux Mint",
        "Gentoo",
    }
)


class Agent(msgspec.Struct, frozen=True):
    device: str  # desktop | mobile | tablet | bot | other
    os: str  # ua-parser's OS family, e.g. "iOS", "Windows", "Mac OS X"; "Other" if unknown
    browser: str  # ua-parser's browser family, e.g. "Chrome", "Mobile Safari"
    bot: bool
    bot_name: str | None  # what crawlerdetect matched, e.g. "Googlebot"


_detector = CrawlerDetect()


def _crawler_name(user_agent: str) -> str | None:
    # CrawlerDetect keeps the last match on the instance: read it right after the call.
    if not user_agent or not _detector.isCrawler(user_agent):
        return None
    name = _detector.getMatches()
    return str(name) if name else "bot"


def device_type(user_agent: str, os_family: str, device_family: str, bot: bool) -> str:
    """A coarse device class from ua-parser's families (device family and brand) and the
    raw string."""
    if bot:
        return "bot"
    lowered = user_agent.lower()
    family = device_family.lower()
    if any(hint in lowered for hint in _TABLET_HINTS) or "ipad" in family or "tablet" in family:
        return "tablet"
    if os_family == "Android" and "mobile" not in lowered:
        return "tablet"  # Android tablets leave "Mobile" out of their user agent
    if os_family in _MOBILE_OS or "mobile" in lowered:
        return "mobile"
    if os_family in _DESKTOP_OS:
        return "desktop"
    return "other"


@functools.lru_cache(maxsize=50_000)
def parse_agent(user_agent: str | None) -> Agent:
    """Device, OS, browser and bot flag of a user agent (None: the visitor sent none)."""
    if not user_agent:
        return Agent("other", "Other", "Other", False, None)
    bot_name = _crawler_name(user_agent)
    if bot_name is not None and bot_name.lower() in HUMAN_DRIVEN_TOOLS:
        bot_name = None
    result = parse(user_agent)
    os_family = result.os.family if result.os else "Other"
    browser = result.user_agent.family if result.user_agent else "Other"
    device_family = f"{result.device.family} {result.device.brand}" if result.device else ""
    bot = bot_name is not None
    device = device_type(user_agent, os_family, device_family, bot)
    return Agent(device, os_family, browser, bot, bot_name)


@functools.lru_cache(maxsize=50_000)
def referrer_host(referrer: str | None) -> str | None:
    """The host of a referrer URL, lower case, without port; None when there is none."""
    if not referrer:
        return None
    try:
        host = urlsplit(referrer.strip()).hostname
    except ValueError:
        return None
    return host or None


def clean_text(value: str | None, limit: int = 2048) -> str | None:
    """Text as Postgres can store it: no NUL characters, bounded length."""
    if value is None:
        return None
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:limit]
