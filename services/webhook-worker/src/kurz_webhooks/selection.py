"""The click events of a batch that may have something to deliver, decoded; the others
are counted and passed over having had only their routing fields read."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import NamedTuple

import msgspec
from kurz.events import BATCH_FIELD, FIELD, ClickEvent, decode_event, entry_events, entry_items
from kurz.stream import Entry

from kurz_webhooks.targets import Targets

log = logging.getLogger(__name__)


class _Route(msgspec.Struct, array_like=True, frozen=True):
    """The first fields of a ClickEvent in its wire order (kurz.events); the fields after
    them are skipped, not decoded. The id and time are left raw: no string is made."""

    id: msgspec.Raw
    at: msgspec.Raw
    workspace_id: int
    link_id: int
    group_id: int | None


_route = msgspec.msgpack.Decoder(_Route)
_routes = msgspec.msgpack.Decoder(list[_Route])


class Selection(NamedTuple):
    events: list[ClickEvent]  # the wanted ones, in stream order
    passed_over: int  # events with no target: not decoded beyond their routes
    malformed: int


def _routes_of(fields: Mapping[bytes, bytes]) -> list[_Route] | None:
    """The routes of an entry's events, or None when the entry needs the full decode to
    tell what is wrong with it (or holds no click)."""
    try:
        one = fields.get(FIELD)
        if one is not None:
            return [_route.decode(one)]
        batch = fields.get(BATCH_FIELD)
        return None if batch is None else _routes.decode(batch)
    except (msgspec.DecodeError, ValueError):
        return None


def _entry(entry: Entry, targets: Targets, out: list[ClickEvent]) -> tuple[int, int]:
    """Append the entry's wanted events to `out`; return (passed over, malformed)."""
    routes = _routes_of(entry.fields)
    if routes is None:
        # A push subscription, or something malformed: decoded in full as before, so a
        # malformed item costs only itself and is counted.
        found = entry_events(entry.fields)
        if found.invalid:
            log.warning("malformed stream entry", extra={"entry": entry.id.decode()})
        wanted = [e for e in found.events if targets.wanted(e.workspace_id, e.link_id, e.group_id)]
        out.extend(wanted)
        return len(found.events) - len(wanted), found.invalid
    picked = [
        i for i, r in enumerate(routes) if targets.wanted(r.workspace_id, r.link_id, r.group_id)
    ]
    if not picked:
        return len(routes), 0
    items = entry_items(entry.fields) or []
    malformed = 0
    for i in picked:
        try:
            out.append(decode_event(items[i]))
        except (msgspec.DecodeError, ValueError):  # ValueError: bytes that are not UTF-8
            malformed += 1
    if malformed:
        log.warning("malformed stream entry", extra={"entry": entry.id.decode()})
    return len(routes) - len(picked), malformed


def select(entries: list[Entry], targets: Targets) -> Selection:
    events: list[ClickEvent] = []
    passed_over = malformed = 0
    for entry in entries:
        skipped, bad = _entry(entry, targets, events)
        passed_over += skipped
        malformed += bad
    return Selection(events, passed_over, malformed)
