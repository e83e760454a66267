"""Plan entitlements and the gates that read them.

The entitlements are data (the `plans` table); the gates are pure functions of that data
and of what a request asks for. They return None when allowed, else a message a client can
act on. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

# The plans a workspace can be on (the rows of the `plans` table), cheapest first.
PLAN_CODES = ("free", "personal", "premium", "business", "enterprise", "selfhosted")


class Entitlements(msgspec.Struct, frozen=True):
    """One plan's entitlements. The defaults are the most restrictive values, so a plan
    row that omits a key grants nothing it does not name."""

    notify: bool = False  # push and mail click notifications on groups
    clicks_by_group: bool = False  # the clicks-by-group statistics
    # clicks-by-group selection: None = the group list is optional (omitted: all groups)
    # and unbounded; N = the list is required and holds at most N groups.
    group_list_max: int | None = 0
    webhooks: bool = False  # group webhooks


EVERYTHING = Entitlements(notify=True, clicks_by_group=True, group_list_max=None, webhooks=True)


def entitlements(raw: Mapping[str, Any] | None) -> Entitlements:
    """Entitlements from a plan row's jsonb; unknown keys are ignored."""
    return msgspec.convert(dict(raw or {}), Entitlements)


def group_settings_denial(ent: Entitlements, *, notify: bool, webhooks: bool) -> str | None:
    """Why a group may not switch on push/mail notifications or webhooks, if it may not."""
    if notify and not ent.notify:
        return "push and mail notifications need the Personal plan or higher"
    if webhooks and not ent.webhooks:
        return "group webhooks (webhookEnableYn) need the Enterprise plan"
    return None


def clicks_by_group_denial(ent: Entitlements, group_ids: Sequence[int] | None) -> str | None:
    """Why a clicks-by-group query may not run with this selection (None: every group)."""
    if not ent.clicks_by_group:
        return "clicks by group needs the Personal plan or higher"
    if ent.group_list_max is None:
        return None
    if not group_ids:
        return f"grpIdxList is required on this plan (at most {ent.group_list_max} groups)"
    if len(set(group_ids)) > ent.group_list_max:
        return f"grpIdxList holds at most {ent.group_list_max} groups on this plan"
    return None
