"""Which events of a batch the webhook worker decodes: those of a link, group or
workspace with a target, in stream order; the rest are counted as passed over."""

from __future__ import annotations

from kurz.events import BATCH_FIELD, FIELD, SUBSCRIPTION_FIELD, ClickEvent, encode_batch
from kurz.events import encode_event as encode
from kurz.stream import Entry
from kurz_webhooks.selection import select
from kurz_webhooks.targets import Targets


def event(n: int, link_id: int, workspace_id: int = 1, group_id: int | None = None) -> ClickEvent:
    return ClickEvent(
        f"e{n}", 1_700_000_000.0, workspace_id, link_id, group_id, "kurz.test", "s",
        "https://example.com/", None, "redirect", "v", None, None, None,
    )  # fmt: skip


def targets(
    links: frozenset[int] = frozenset(),
    groups: frozenset[int] = frozenset(),
    workspaces: frozenset[int] = frozenset(),
) -> Targets:
    found = Targets()
    found.links, found.groups, found.workspaces = links, groups, workspaces
    return found


def batch(n: int, *events: ClickEvent) -> Entry:
    return Entry(b"%d-0" % n, {BATCH_FIELD: encode_batch([encode(e) for e in events])})


def test_only_events_with_a_target_are_decoded_in_stream_order() -> None:
    entries = [
        batch(1, event(1, 10), event(2, 20), event(3, 30, group_id=7)),
        Entry(b"2-0", {FIELD: encode(event(4, 40, workspace_id=9))}),
        Entry(b"3-0", {FIELD: encode(event(5, 50))}),
    ]
    chosen = select(entries, targets(frozenset({20}), frozenset({7}), frozenset({9})))
    assert [e.id for e in chosen.events] == ["e2", "e3", "e4"]
    assert (chosen.passed_over, chosen.malformed) == (2, 0)


def test_a_malformed_item_costs_only_itself() -> None:
    good = encode(event(1, 10))
    # b"\xa1x" is msgpack, the string "x": readable, but no click event.
    entries = [
        Entry(b"1-0", {BATCH_FIELD: encode_batch([good, b"\xa1x", encode(event(2, 11))])}),
        Entry(b"2-0", {FIELD: b"\xc1not msgpack"}),
        Entry(b"3-0", {b"other": b"x"}),
        Entry(b"4-0", {SUBSCRIPTION_FIELD: b"{}"}),
    ]
    chosen = select(entries, targets(frozenset({10})))
    assert [e.id for e in chosen.events] == ["e1"]
    assert (chosen.passed_over, chosen.malformed) == (1, 3)
