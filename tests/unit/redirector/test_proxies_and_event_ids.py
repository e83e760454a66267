"""Client addresses behind trusted proxies (kurz.proxies), and click event ids."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import msgspec
import pytest
from kurz import events
from kurz.events import new_event_id
from kurz.proxies import ProxyHeaders, TrustedProxies

INGRESS = "10.0.0.5"


@pytest.mark.parametrize(
    ("spec", "peer", "forwarded_for", "client"),
    [
        ("127.0.0.1", "127.0.0.1", "203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", INGRESS, "203.0.113.7", INGRESS),  # not a trusted proxy
        ("127.0.0.1", "127.0.0.1", "", "127.0.0.1"),  # nothing forwarded
        # The right-most address no trusted proxy added: entries left of it are the
        # visitor's own words.
        ("10.0.0.0/8", INGRESS, "1.1.1.1, 203.0.113.7, 10.1.2.3", "203.0.113.7"),
        ("10.0.0.0/8, 127.0.0.1", INGRESS, "10.1.1.1, 10.2.2.2", "10.1.1.1"),  # all trusted
        # Everyone trusted: one hop only, what the peer saw; never the visitor's own words.
        ("*", INGRESS, "203.0.113.7, 198.51.100.1", "198.51.100.1"),
        ("*", INGRESS, "203.0.113.7, ", "203.0.113.7"),
        ("::1, fd00::/8", "fd00::1", "2001:db8::7", "2001:db8::7"),
        ("127.0.0.1", "127.0.0.1", " 203.0.113.7 ,", "203.0.113.7"),  # blanks are skipped
        ("not-an-address, 127.0.0.1", "not-an-address", "203.0.113.7", "203.0.113.7"),
    ],
)
def test_the_client_address_follows_uvicorns_rules(
    spec: str, peer: str, forwarded_for: str, client: str
) -> None:
    assert TrustedProxies(spec).client(peer, forwarded_for) == client


def test_trust_is_decided_once_per_address_and_bounded() -> None:
    proxies = TrustedProxies("10.0.0.0/8")
    for n in range(5000):  # more addresses than the memo keeps
        assert proxies.trusts(f"10.0.{n // 256}.{n % 256}")
    assert not proxies.trusts("11.0.0.1") and not proxies.trusts("")


async def _scope_after(spec: str, scope: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.update(scope)

    await ProxyHeaders(app, TrustedProxies(spec))(scope, None, None)
    return seen


async def test_middleware_applies_address_and_scheme_from_a_trusted_peer() -> None:
    headers = [
        (b"x-forwarded-for", b"1.1.1.1"),
        (b"x-forwarded-proto", b"HTTPS"),
        (b"x-forwarded-for", b"203.0.113.7"),  # a second header continues the list
    ]
    scope = {"type": "http", "scheme": "http", "client": (INGRESS, 4000), "headers": headers}
    applied = await _scope_after("10.0.0.0/8", dict(scope))
    assert applied["client"] == ("203.0.113.7", 0) and applied["scheme"] == "https"
    ignored = await _scope_after("127.0.0.1", dict(scope))
    assert ignored["client"] == (INGRESS, 4000) and ignored["scheme"] == "http"
    socket = {**scope, "type": "websocket", "scheme": "ws"}
    assert (await _scope_after("*", socket))["scheme"] == "wss"
    odd = {**scope, "headers": [(b"x-forwarded-proto", b"gopher")]}
    assert (await _scope_after("*", odd))["scheme"] == "http"  # only http and https


def test_event_ids_are_unique_ordered_and_fixed_width(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in a fresh process: other tests may have made ids for later moments already.
    monkeypatch.setattr(events, "_last_ms", 0)
    moment = 1_790_000_000.123
    ids = [new_event_id(moment) for _ in range(3000)]  # beyond one millisecond's sequence
    assert len(set(ids)) == len(ids) and {len(i) for i in ids} == {26}
    assert ids[:1024] == sorted(ids[:1024])  # the sequence orders ids of one millisecond
    later = new_event_id(moment + 0.002)
    assert later > max(ids)
    assert int(later[:12], 16) == int((moment + 0.002) * 1000)  # the time reads back
    earlier = new_event_id(moment - 60)  # a clock step back: still unique
    assert earlier < later and earlier not in ids


def test_event_ids_of_forked_processes_differ() -> None:
    """The process tag changes in a forked child, so two processes never share ids."""
    code = (
        "import os, sys\n"
        "from kurz.events import new_event_id\n"
        "r, w = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.write(w, new_event_id(1.0).encode()); os._exit(0)\n"
        "os.wait()\n"
        "print(new_event_id(1.0), os.read(r, 26).decode())\n"
    )
    parent, child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    ).stdout.split()
    assert parent[:16] == child[:16] and parent[16:] != child[16:]


@pytest.mark.parametrize("count", [0, 1, 15, 16, 65_535, 65_536])
def test_a_batch_of_encoded_events_is_one_msgpack_array_of_them(count: int) -> None:
    """Each array header size msgpack has: fixarray, array 16, array 32."""
    items = [msgspec.msgpack.encode(i % 300) for i in range(count)]
    batch = events.encode_batch(items)
    assert msgspec.msgpack.decode(batch) == [i % 300 for i in range(count)]
    assert events.entry_items({events.BATCH_FIELD: batch}) == items


def test_entry_items_of_entries_that_hold_no_events() -> None:
    assert events.entry_items({b"other": b"x"}) is None
    assert events.entry_items({events.BATCH_FIELD: b"\xc1"}) is None
    assert events.entry_items({events.BATCH_FIELD: msgspec.msgpack.encode({"a": 1})}) is None
    assert events.entry_items({events.FIELD: b"anything"}) == [b"anything"]
