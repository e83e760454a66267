"""The Redis key layout, in one place.

Keys that a multi-key operation touches together share a hash tag (`{...}`) so
they live in one Redis Cluster slot.
"""

from __future__ import annotations

PREFIX = "k:"

CLICK_STREAM = "clicks"  # the click stream's first shard, and the only one by default
AGGREGATOR_GROUP = "aggregator"
# Click entries the aggregator could not store even alone (their fields, plus the error):
# kept for inspection and replay instead of stalling the stream.
DEAD_CLICK_STREAM = "clicks:dead"
WEBHOOK_GROUP = "webhooks"
INVALIDATION_CHANNEL = PREFIX + "inval"


def click_stream(shard: int) -> str:
    """Shard `shard` of the click stream. The first keeps the name of the single stream
    kurz always had; the others carry their number as a hash tag, so Redis Cluster
    spreads them over its slots (and each stream's dead letters share its slot)."""
    return CLICK_STREAM if shard == 0 else f"{CLICK_STREAM}:{{{shard}}}"


def click_streams(shards: int) -> list[str]:
    """Every shard of a click stream cut in `shards` (at least one)."""
    return [click_stream(i) for i in range(max(shards, 1))]


def link(host: str, slug: str) -> str:
    """Edge record of a link, by the address visitors use."""
    return f"{PREFIX}l:{{{host}/{slug}}}"


def group(group_id: int) -> str:
    """Edge record of a group's settings, shared by all its links."""
    return f"{PREFIX}g:{group_id}"


def workspace(workspace_id: int) -> str:
    """Edge record of a workspace: its branding and not-found redirects."""
    return f"{PREFIX}w:{workspace_id}"


def host_workspace(host: str) -> str:
    """The workspace a verified custom domain belongs to (its id, as text)."""
    return f"{PREFIX}hw:{host}"


def click_counter(link_id: int) -> str:
    """Clicks let through a link with a click limit (exact, atomic)."""
    return f"{PREFIX}n:{link_id}"


def group_click_counter(group_id: int, link_id: int) -> str:
    """Clicks let through a grouped link when the limit comes from its group."""
    return f"{PREFIX}gn:{group_id}:{link_id}"


def rate_limit(scope: str, ident: str, window: int) -> str:
    """One caller's count in one window. The name changes every window; the hash tag
    keeps a caller's keys in one slot, so a cluster does not move them every second."""
    return f"{PREFIX}rl:{{{scope}:{ident}}}:{window}"


def password_attempts(link_id: int, visitor: str) -> str:
    return f"{PREFIX}pw:{link_id}:{visitor}"


# Invalidation messages published on INVALIDATION_CHANNEL.
def link_invalidation(host: str, slug: str) -> str:
    return f"l {host}/{slug}"


def group_invalidation(group_id: int) -> str:
    return f"g {group_id}"


def workspace_invalidation(workspace_id: int) -> str:
    return f"w {workspace_id}"


FLUSH_ALL = "*"


def stats_password_attempts(group_id: int, visitor: str) -> str:
    """Wrong passwords on a group's public statistics page, per visitor (a keyed hash,
    never the raw IP) and group, in the current window."""
    return f"{PREFIX}spw:{group_id}:{visitor}"


def console_sign_in_attempts(account: str) -> str:
    """Wrong passwords for one console account (a hash of its lower-cased e-mail, never
    the address itself) in the current window, wherever they come from."""
    return f"{PREFIX}csi:{account}"
