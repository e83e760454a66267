"""Plan gates are pure functions of entitlement data."""

from __future__ import annotations

import pytest
from kurz.plans import (
    EVERYTHING,
    Entitlements,
    clicks_by_group_denial,
    entitlements,
    group_settings_denial,
)

FREE = entitlements(
    {"notify": False, "clicks_by_group": False, "group_list_max": 0, "webhooks": False}
)
PREMIUM = entitlements(
    {"notify": True, "clicks_by_group": True, "group_list_max": 5, "webhooks": False}
)
BUSINESS = entitlements(
    {"notify": True, "clicks_by_group": True, "group_list_max": None, "webhooks": False}
)


def test_missing_keys_grant_nothing() -> None:
    assert entitlements({}) == Entitlements()
    assert entitlements(None).webhooks is False
    assert entitlements({"webhooks": True, "unknown": 1}).webhooks is True


@pytest.mark.parametrize(
    ("ent", "notify", "webhooks", "denied"),
    [
        (FREE, False, False, None),
        (FREE, True, False, "Personal"),
        (PREMIUM, True, False, None),
        (PREMIUM, False, True, "Enterprise"),
        (BUSINESS, True, True, "Enterprise"),
        (EVERYTHING, True, True, None),
    ],
)
def test_group_settings(
    ent: Entitlements, notify: bool, webhooks: bool, denied: str | None
) -> None:
    message = group_settings_denial(ent, notify=notify, webhooks=webhooks)
    assert (message is None) if denied is None else (denied in (message or ""))


@pytest.mark.parametrize(
    ("ent", "ids", "denied"),
    [
        (FREE, [1], "Personal"),
        (PREMIUM, None, "required"),
        (PREMIUM, [], "required"),
        (PREMIUM, [1, 2, 3, 4, 5], None),
        (PREMIUM, [1, 2, 3, 4, 5, 5], None),  # duplicates name one group
        (PREMIUM, [1, 2, 3, 4, 5, 6], "at most 5"),
        (BUSINESS, None, None),
        (BUSINESS, list(range(100)), None),
        (EVERYTHING, None, None),
    ],
)
def test_clicks_by_group(ent: Entitlements, ids: list[int] | None, denied: str | None) -> None:
    message = clicks_by_group_denial(ent, ids)
    assert (message is None) if denied is None else (denied in (message or ""))
