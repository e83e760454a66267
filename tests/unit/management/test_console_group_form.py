"""The console's group form reads every setting a group has, both ways."""

from __future__ import annotations

from datetime import datetime

import msgspec
from kurz_management.console import group_form, local_times
from starlette.datastructures import FormData

FULL = {"name": " Sale ", "memo": "m", "expire_url": "https://example.com/end",
        "webhook_url": "https://hooks.example/", "starts_at": "2030-01-01T08:00",
        "ends_at": "2030-02-01T08:00", "max_clicks": "10", "webhook_enabled": "on",
        "webhook_format": "vivoldi", "webhook_metric": "P", "webhook_frequency": "50",
        "password": "p", "stats_password": "s",
        **{name: "on" for name, _ in group_form.SWITCHES}}  # fmt: skip


def test_a_full_form_sets_every_setting_of_a_group() -> None:
    parsed = group_form.parse(FormData(FULL), "Europe/Berlin")
    assert parsed.errors == {}
    unset = [f for f, v in msgspec.structs.asdict(parsed.spec).items() if v is msgspec.UNSET]
    assert unset == []  # a GroupSpec field without a form field would be listed here
    spec = parsed.spec
    assert spec.name == "Sale" and spec.webhook_frequency == 50 and spec.max_clicks == 10
    assert isinstance(spec.starts_at, datetime)  # in the workspace's zone, not naive
    assert spec.starts_at.isoformat() == "2030-01-01T08:00:00+01:00"


def test_an_empty_form_clears_what_can_be_cleared_and_keeps_passwords() -> None:
    parsed = group_form.parse(FormData({"name": "n", "webhook_metric": "C",
                                        "webhook_frequency": "1",
                                        "webhook_format": "standard"}), "UTC")  # fmt: skip
    spec = parsed.spec
    assert parsed.errors == {}
    assert (spec.memo, spec.expire_url, spec.starts_at, spec.max_clicks) == ("", "", None, None)
    assert spec.password is msgspec.UNSET and spec.stats_password is msgspec.UNSET
    assert not spec.qr_bypass and not spec.webhook_enabled
    removed = group_form.parse(FormData({"name": "n", "remove_password": "on"}), "UTC")
    assert removed.spec.password is None


def test_bad_values_are_named_by_their_field() -> None:
    bad = {"name": "", "max_clicks": "-1", "ends_at": "tomorrow", "webhook_metric": "X",
           "webhook_frequency": "7", "webhook_format": "other"}  # fmt: skip
    parsed = group_form.parse(FormData(bad), "UTC")
    assert set(parsed.errors) == {"name", "max_clicks", "ends_at", "webhook_metric",
                                  "webhook_frequency", "webhook_format"}  # fmt: skip


def test_times_keep_their_seconds_both_ways() -> None:
    parsed = group_form.parse(FormData({**FULL, "ends_at": "2030-03-31T23:59:59"}), "UTC")
    assert isinstance(parsed.spec.ends_at, datetime)
    assert parsed.spec.ends_at.isoformat() == "2030-03-31T23:59:59+00:00"
    assert local_times.shown(parsed.spec.ends_at, "Asia/Seoul") == "2030-04-01T08:59:59"
    on_the_minute = parsed.spec.ends_at.replace(second=0)
    assert local_times.shown(on_the_minute, "UTC") == "2030-03-31T23:59"
