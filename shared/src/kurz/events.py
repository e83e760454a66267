"""The click event, and how events sit in the `clicks` stream.

An entry of the stream holds either one event (field `e`: the msgpack-encoded Struct) or,
as the redirector writes them, a batch of events (field `b`: a msgpack array of encoded
events): one entry per group commit costs Redis a third of the time an entry per event
does. Consumers read both, so entries written before a rolling update still decode.
An entry may instead hold a web-push subscription (field `s`, kurz.push): no click, so
click consumers pass over it, and the webhook worker stores it.
"""

from __future__ import annotations

import enum
import os
import random
import time
from collections.abc import Mapping, Sequence

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
    # The visitor's network (IPv4 /24, IPv6 /48), for the aggregator's ISP lookup: the
    # provider, never the person (the raw address is not on the stream).
    network: str | None = None
    params: tuple[str, ...] = ()  # the visit's query parameters, "name=value", capped

    @property
    def counted(self) -> bool:
        """Counted as a click: a real visit (not a bot, not HEAD) that went through."""
        return self.outcome in COUNTED_OUTCOMES and not self.bot and self.method != "HEAD"


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(ClickEvent)
_items_decoder = msgspec.msgpack.Decoder(list[msgspec.Raw])

# The fields of a stream entry: one event, or a batch of them.
FIELD = b"e"
BATCH_FIELD = b"b"
SUBSCRIPTION_FIELD = b"s"


def encode_event(event: ClickEvent) -> bytes:
    return _encoder.encode(event)


def encode_event_fields(fields: tuple[object, ...]) -> bytes:
    """`encode_event(ClickEvent(*fields))` without the struct: an array-like struct is
    encoded as the array of its fields, so the tuple of every field, in order, gives the
    same bytes (the redirector's hot path saves building the struct)."""
    return _encoder.encode(fields)


def decode_event(data: bytes) -> ClickEvent:
    return _decoder.decode(data)


def encode_batch(events: Sequence[bytes]) -> bytes:
    """Encoded events as one msgpack array: its header, then the events as they are (no
    event is encoded twice)."""
    n = len(events)
    if n < 16:
        head = bytes((0x90 | n,))
    elif n < 0x10000:
        head = b"\xdc" + n.to_bytes(2, "big")
    else:
        head = b"\xdd" + n.to_bytes(4, "big")
    return head + b"".join(events)


def entry_items(fields: Mapping[bytes, bytes]) -> list[bytes] | None:
    """The encoded events of a stream entry, undecoded; None if it holds no event field
    or its batch is not a msgpack array; none for an entry that holds no click by design
    (a push subscription)."""
    one = fields.get(FIELD)
    if one is not None:
        return [one]
    batch = fields.get(BATCH_FIELD)
    if batch is None:
        return [] if SUBSCRIPTION_FIELD in fields else None
    try:
        return [bytes(item) for item in _items_decoder.decode(batch)]
    except msgspec.DecodeError:
        return None


class EntryEvents(msgspec.Struct):
    events: list[ClickEvent]
    invalid: int  # items that are no click event (or the whole entry, counted once)


def entry_events(fields: Mapping[bytes, bytes]) -> EntryEvents:
    """The click events of a stream entry. A malformed item costs only itself: the other
    events of its batch still count."""
    items = entry_items(fields)
    if items is None:
        return EntryEvents([], 1)
    events = []
    for item in items:
        try:
            events.append(_decoder.decode(item))
        except (msgspec.DecodeError, ValueError):  # ValueError: bytes that are not UTF-8
            continue
    return EntryEvents(events, len(items) - len(events))


def _new_process_tag() -> None:
    global _tag
    _tag = f"{random.getrandbits(40):010x}"


_tag = ""
_new_process_tag()
# The random module reseeds itself in a forked child; the tag must change with it.
os.register_at_fork(after_in_child=_new_process_tag)
_last_ms = 0
_time_hex = ""
_seq = 0
# The time part as ten hex digits of ms >> 8, changed every 256 ms, and two of the low
# byte from a table: formatting all twelve at each new millisecond cost more than an id.
_high = -1
_high_hex = ""
_HEX2 = tuple(f"{n:02x}" for n in range(256))
# Sequence numbers as text, made once: formatting one costs more than the rest of an id.
_SEQ_HEX = tuple(f"{n:04x}" for n in range(1024))


def new_event_id(now: float | None = None) -> str:
    """A 26-character sortable id, like a ULID in hex: 12 hex digits of milliseconds, 4 of
    sequence within the millisecond, 10 of a random tag of the process. Unique because
    (time, sequence) is unique within a process and the tags tell processes apart; the
    time part is formatted once per millisecond, so an id costs two concatenations."""
    global _last_ms, _time_hex, _seq, _high, _high_hex
    ms = int((time.time() if now is None else now) * 1000)
    if ms == _last_ms and _seq < 1023:
        _seq += 1
    elif ms > _last_ms:
        high = ms >> 8
        if high != _high:
            _high, _high_hex = high, f"{high:010x}"
        _last_ms, _time_hex, _seq = ms, _high_hex + _HEX2[ms & 0xFF], 0
    else:
        # An earlier time than the last id's (the clock stepped back, or the caller
        # passes past moments), or over 1,024 ids in one millisecond: the sequence cannot
        # vouch for uniqueness, so this id takes fresh randomness, as a ULID would.
        return f"{ms:012x}{random.getrandbits(56):014x}"
    return _time_hex + _SEQ_HEX[_seq] + _tag
