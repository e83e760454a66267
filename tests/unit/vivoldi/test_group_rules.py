"""Group rules without I/O: what a spec changes, defaults, and validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kurz.plans import EVERYTHING, Entitlements
from kurz_management.core.groups import rules
from kurz_management.core.groups.model import WEBHOOK_FREQUENCIES, GroupError, GroupSpec


def merged_check(spec: GroupSpec, ent: Entitlements = EVERYTHING) -> dict[str, Any]:
    cols, _ = rules.changes(spec)
    merged = {**rules.DEFAULTS, **cols}
    rules.check(merged, cols, ent)
    return merged


def test_defaults_apply_to_what_is_not_given() -> None:
    merged = merged_check(GroupSpec(name="  Youtube Group  "))
    assert merged["name"] == "Youtube Group"
    assert merged["webhook_metric"] == "C" and merged["webhook_frequency"] == 1
    assert merged["qr_bypass"] is False and merged["max_clicks"] is None


def test_blank_text_and_zero_limit_clear() -> None:
    cols, passwords = rules.changes(
        GroupSpec(memo=" ", expire_url="", max_clicks=0, password="", stats_password="123456")
    )
    assert cols == {"memo": None, "expire_url": None, "max_clicks": None}
    assert passwords == {"password_hash": None, "stats_password_hash": "123456"}


def test_not_given_is_not_a_change() -> None:
    assert rules.changes(GroupSpec()) == ({}, {})


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (GroupSpec(), "name"),
        (GroupSpec(name=""), "name"),
        (GroupSpec(name="x" * 201), "name"),
        (GroupSpec(name="g", memo="m" * 2001), "memo"),
        (GroupSpec(name="g", expire_url="example.com/x"), "expire_url"),
        (GroupSpec(name="g", expire_url="https://exa mple.com"), "expire_url"),
        (GroupSpec(name="g", webhook_url="mailto:a@b.c"), "webhook_url"),
        (GroupSpec(name="g", webhook_metric="X"), "webhook_metric"),
        (GroupSpec(name="g", webhook_frequency=2), "webhook_frequency"),
        (GroupSpec(name="g", webhook_enabled=True), "webhook_url"),
        (GroupSpec(name="g", max_clicks=-1), "max_clicks"),
        (
            GroupSpec(
                name="g",
                starts_at=datetime(2026, 3, 2, tzinfo=UTC),
                ends_at=datetime(2026, 3, 1, tzinfo=UTC),
            ),
            "ends_at",
        ),
    ],
)
def test_invalid(spec: GroupSpec, field: str) -> None:
    with pytest.raises(GroupError) as caught:
        merged_check(spec)
    assert (caught.value.kind, caught.value.field) == ("invalid", field)


def test_password_length_checked_before_hashing() -> None:
    with pytest.raises(GroupError) as caught:
        rules.changes(GroupSpec(password="p" * 201))
    assert caught.value.field == "password"


@pytest.mark.parametrize("frequency", sorted(WEBHOOK_FREQUENCIES))
def test_documented_frequencies(frequency: int) -> None:
    merged_check(GroupSpec(name="g", webhook_frequency=frequency, webhook_metric="P"))


def test_plan_gates_apply_to_what_the_request_switches_on() -> None:
    free = Entitlements()
    with pytest.raises(GroupError) as caught:
        merged_check(GroupSpec(name="g", mail_notify=True), free)
    assert caught.value.kind == "forbidden"
    with pytest.raises(GroupError):
        merged_check(
            GroupSpec(name="g", webhook_enabled=True, webhook_url="https://h.example/x"), free
        )
    # A group that kept notifications from a former plan can still be renamed.
    stored = {**rules.DEFAULTS, "name": "old", "push_notify": True}
    cols, _ = rules.changes(GroupSpec(name="new"))
    rules.check({**stored, **cols}, cols, free)


def test_web_urls_follow_the_link_destination_rule() -> None:
    """A group's URLs are checked and normalised by the same rule as a link's URL."""
    cols, _ = rules.changes(
        GroupSpec(
            expire_url="https://BÜCHER.example/ended", webhook_url="http://127.0.0.1:8080/x?y=1"
        )
    )
    assert cols["expire_url"] == "https://xn--bcher-kva.example/ended"
    assert cols["webhook_url"] == "http://127.0.0.1:8080/x?y=1"
    for bad in (
        "https://",
        "//example.com",
        "ftp://example.com",
        "https://a b.c",
        "https://" + "a" * 4100 + ".com",
        "http://[::1",
    ):
        with pytest.raises(GroupError) as caught:
            rules.changes(GroupSpec(expire_url=bad))
        assert caught.value.field == "expire_url", bad
