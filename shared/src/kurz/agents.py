"""Cheap user-agent tests for the edge: known bots, link-preview crawlers, platform.

Substring tests only (no full user-agent parsing): the aggregator enriches events
properly off the hot path. Generic HTTP clients (curl, httpx...) are not bots here:
people use them on purpose.
"""

from __future__ import annotations

import re

# Link-preview crawlers: they fetch a URL to draw a card in a chat or feed. iMessage
# announces itself with facebookexternalhit and Twitterbot tokens.
_PREVIEW = re.compile(
    r"facebookexternalhit|facebot|twitterbot|linkedinbot|slackbot|slack-imgproxy|discordbot"
    r"|whatsapp|telegrambot|skypeuripreview|pinterestbot|redditbot|embedly|iframely"
    r"|vkshare|mastodon|bluesky|snapchat|viber|line-poker|kakaotalk-scrap|zoombot",
    re.IGNORECASE,
)
_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|facebookexternalhit|whatsapp|bingpreview"
    r"|mediapartners|lighthouse|pingdom|uptime|monitor/|ahrefs|semrush|yandex|baidu",
    re.IGNORECASE,
)

_CACHE_MAX = 4096
_bot_cache: dict[str, tuple[bool, bool]] = {}


def classify(user_agent: str) -> tuple[bool, bool]:
    """(is a bot, is a link-preview crawler), memoized: traffic repeats a few agents."""
    hit = _bot_cache.get(user_agent)
    if hit is not None:
        return hit
    preview = _PREVIEW.search(user_agent) is not None
    result = (preview or _BOT.search(user_agent) is not None, preview)
    if len(_bot_cache) >= _CACHE_MAX:
        _bot_cache.clear()
    _bot_cache[user_agent] = result
    return result


_PLATFORMS = (
    ("ios", ("iphone", "ipad", "ipod")),
    ("android", ("android",)),
    ("windows", ("windows",)),
    ("mac", ("macintosh", "mac os x")),
    ("linux", ("linux", "x11", "cros")),
)


def platform(user_agent: str) -> str | None:
    """ios, android, windows, mac or linux; order matters (Android says Linux too)."""
    ua = user_agent.lower()
    for name, needles in _PLATFORMS:
        if any(n in ua for n in needles):
            return name
    return None


def languages(accept_language: str) -> tuple[str, ...]:
    """Language tags of an Accept-Language header, most preferred first, lower case."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*":
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            weighted.append((-quality, index, tag))
    return tuple(tag for _, _, tag in sorted(weighted))
