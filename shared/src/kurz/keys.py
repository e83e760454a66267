"""The Redis key layout, in one place.

Keys that a multi-key operation touches together share a hash tag (`{...}`) so
they live in one Redis Cluster slot.
"""

from __future__ import annotations

PREFIX = "k:"

CLICK_STREAM = "clicks"
AGGREGATOR_GROUP = "aggregator"
# Click entries the aggregator could not store even alone (their fields, plus the error):
# kept for inspection and replay instead of stalling the stream.
DEAD_CLICK_STREAM = "clicks:dead"
WEBHOOK_GROUP = "webhooks"
INVALIDATION_CHANNEL = PREFIX + "inval"


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
    return f"{PREFIX}rl:{scope}:{ident}:{window}"


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
