"""The click event: one msgpack-encoded Struct per entry of the `clicks` stream."""

from __future__ import annotations

import enum
import random
import time

import msgspec


class Outcome(enum.StrEnum):
    REDIRECT = "redirect"  # sent to a destination (directly or through a page)
    PAGE = "page"  # an interstitial that navigates on (pixels, cloaking, scheme links)
    PREVIEW = "preview"  # OG preview answered to a link-preview crawler
    PASSWORD = "password"  # password form shown
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    LIMITED = "limited"  # click limit reached
    BLOCKED = "blocked"  # bot blocked
    DISABLED = "disabled"


COUNTED_OUTCOMES: frozenset[str] = frozenset({Outcome.REDIRECT, Outcome.PAGE})


class ClickEvent(msgspec.Struct, array_like=True, frozen=True):
    """Field order is the wire format: append new fields at the end, with defaults."""

    id: str  # time-ordered, unique: stable across redeliveries
    at: float  # Unix seconds
    workspace_id: int
    link_id: int
    group_id: int | None
    host: str
    slug: str
    destination: str
    rule: str | None  # "country:US", "rotator:1", ...
    outcome: str
    visitor: str  # keyed hash of IP and user agent, rotated daily; never the raw IP
    country: str | None
    referrer: str | None
    user_agent: str | None
    qr: bool = False
    method: str = "GET"
    request_id: str | None = None
    bot: bool = False  # known bot as far as the edge could tell cheaply

    @property
    def counted(self) -> bool:
        """Counted as a click: a real visit (not a bot, not HEAD) that went through."""
        return self.outcome in COUNTED_OUTCOMES and not self.bot and self.method != "HEAD"


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(ClickEvent)

# The stream entry's single field.
FIELD = b"e"


def encode_event(event: ClickEvent) -> bytes:
    return _encoder.encode(event)


def decode_event(data: bytes) -> ClickEvent:
    return _decoder.decode(data)


_last_ms = 0
_seq = 0


def new_event_id(now: float | None = None) -> str:
    """A 26-character sortable id (48-bit ms time, then randomness), like a ULID in hex."""
    global _last_ms, _seq
    ms = int((time.time() if now is None else now) * 1000)
    if ms == _last_ms:
        _seq += 1
    else:
        _last_ms, _seq = ms, 0
    # The random module's generator (seeded from the OS, reseeded in a forked child) is
    # unique enough here: time and sequence already order ids within a process. One
    # number formatted once: 12 hex digits of time, 4 of sequence, 10 of randomness.
    return f"{(ms << 56) | ((_seq & 0xFFFF) << 40) | random.getrandbits(40):026x}"
