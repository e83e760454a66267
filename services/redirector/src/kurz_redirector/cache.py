"""The in-process link cache: bounded LRU of resolved links and unknown addresses.

Pub/sub invalidation keeps it current; the TTL is a safety net for a lost message.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import msgspec
from kurz.models import EdgeLink

Counters = tuple[tuple[str, int], ...]  # (Redis key, limit) of each limit a visit must pass


class Entry(msgspec.Struct, gc=False):
    """A resolved address. An unknown one has link_id 0. A link whose answer never
    changes (a plain redirect) keeps its ready response (status, destination, headers)
    and drops the EdgeLink, unless a link-preview crawler would get a card from it: most
    cached links cost a few hundred bytes. Other links keep the effective EdgeLink.

    gc=False: no collector header, and a full collection does not walk every cached
    entry (an entry never refers back to itself)."""

    deadline: float
    workspace_id: int = 0
    link_id: int = 0
    group_id: int | None = None
    link: EdgeLink | None = None
    counters: Counters | None = None  # click limits of a limited link, with their keys
    status: int = 0
    destination: str = ""
    headers: tuple[tuple[bytes, bytes], ...] | None = None
    # The answer on the wire (kept alive, closing), made by kurz's own protocol (edge.py)
    # at the first visit that needs it.
    wire: tuple[bytes, bytes] | None = None

    @classmethod
    def unknown(cls, deadline: float) -> Entry:
        return cls(deadline)

    @classmethod
    def of_link(cls, link: EdgeLink, deadline: float, counters: Counters | None = None) -> Entry:
        return cls(
            deadline, link.workspace_id, link.id, link.group_id, link=link, counters=counters
        )


class LinkCache:
    def __init__(self, size: int, ttl: float) -> None:
        self._size = max(1, size)
        self._ttl = ttl
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._by_group: dict[int, set[str]] = {}
        # Bumped by every invalidation: a load that overlapped one may hold stale data.
        self.epoch = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.deadline < time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self._drop(key)
        self._entries[key] = entry
        if entry.group_id is not None:
            self._by_group.setdefault(entry.group_id, set()).add(key)
        while len(self._entries) > self._size:
            oldest = next(iter(self._entries))
            self._drop(oldest)

    def deadline(self) -> float:
        return time.monotonic() + self._ttl

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and entry.group_id is not None:
            members = self._by_group.get(entry.group_id)
            if members is not None:
                members.discard(key)
                if not members:
                    del self._by_group[entry.group_id]

    def invalidate(self, message: str) -> None:
        """Apply an invalidation message: lines of "l host/slug", "g <id>" or "*"."""
        self.epoch += 1
        for line in message.splitlines():
            kind, _, target = line.strip().partition(" ")
            if kind == "*":
                self.clear()
            elif kind == "l":
                self._drop(target)
            elif kind == "g" and target.isdigit():
                for key in list(self._by_group.get(int(target), ())):
                    self._drop(key)

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._by_group.clear()
