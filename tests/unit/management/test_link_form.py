"""The console's link form both ways: a stored link shown as the form's values, sent
back unchanged, gives the same link (nothing lost, nothing cleared); emptied fields are
cleared; bad values are named by field and nothing is guessed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kurz.models import LinkType, Rule
from kurz_management.console import link_form
from kurz_management.core.links.model import LinkRecord, TagRef
from starlette.datastructures import FormData, UploadFile

ZONE = "Europe/Berlin"


def _record(**changes: Any) -> LinkRecord:
    fields: dict[str, Any] = {name: None for name in LinkRecord.__struct_fields__}
    fields.update(
        id=7, workspace_id=1, host="kurz.test", slug="spring", short_url="https://kurz.test/spring",
        url="https://example.com/a", link_type="URL", redirect_type=301, cloaked=False,
        has_password=True, forward_params=True, block_bots=False, hide_referrer=True,
        webhook_urls=["https://hooks.example/a"], enabled=True, qr_bypass=False,
        push_subscribe=False, public_analytics=True, tag_ids=[3, 4],
        tags=[TagRef(3, "a", None), TagRef(4, "b", None)], created_by_key=None,
        created_by_prefix=None, clicks=0, version=1, group_id=9, max_clicks=50,
        title="Spring", note="for the newsletter", utm_source="news", ga4_id="G-1",
        expires_at=datetime(2027, 3, 1, 11, 30, tzinfo=UTC), created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
        rules=[Rule("country", "https://example.de/", "DE"), Rule("rotator", "https://b/",
                                                                  None, 25)],
    )  # fmt: skip
    fields.update(changes)
    return LinkRecord(**fields)


def _form(values: dict[str, Any]) -> FormData:
    """What a browser sends for these values: checked boxes as "on", lists repeated."""
    items: list[tuple[str, str | UploadFile]] = []
    for name, value in values.items():
        if name == "rules":
            for rule in value:
                items += [
                    (f"rule_{part}", rule[part])
                    for part in ("what", "matches", "url", "percentage")
                ]
        elif isinstance(value, bool):
            items += [(name, "on")] if value else []
        elif isinstance(value, list):
            items += [(name, v) for v in value]
        elif name != "has_password":
            items.append((name, str(value)))
    return FormData(items)


def test_a_link_sent_back_as_shown_changes_nothing_and_clears_only_what_it_lacks() -> None:
    record = _record()
    values = link_form.values_of(record, ZONE)
    assert values["expires_at"] == "2027-03-01T12:30"  # shown in the workspace's zone
    parsed = link_form.parse(_form(values), ZONE, editing=True)
    spec = parsed.spec
    assert parsed.errors == {}
    assert spec.url == record.url and spec.slug == "spring" and spec.redirect_type == 301
    assert spec.expires_at == record.expires_at and spec.max_clicks == 50 and spec.group_id == 9
    assert spec.tag_ids == [3, 4] and spec.rules == record.rules
    assert spec.webhook_urls == ["https://hooks.example/a"]
    assert spec.forward_params and spec.hide_referrer and not spec.block_bots
    assert spec.password is None and "password" not in parsed.clears  # kept as it was
    # Only the fields the link has no value for are cleared: clearing them changes nothing.
    assert {"title", "note", "utm_source", "ga4_id", "group_id", "tag_ids"}.isdisjoint(
        parsed.clears
    )
    assert {"description", "starts_at", "utm_medium"} <= parsed.clears


def test_emptied_fields_are_cleared_and_a_new_link_leaves_them_to_defaults() -> None:
    values = link_form.values_of(_record(), ZONE)
    values.update(title="", max_clicks="", group_id="", tag_ids=[], rules=[], expires_at="",
                  remove_password=True)  # fmt: skip
    parsed = link_form.parse(_form(values), ZONE, editing=True)
    assert {"title", "max_clicks", "group_id", "tag_ids", "rules", "expires_at",
            "password"} <= parsed.clears  # fmt: skip
    created = link_form.parse(_form({**link_form.blank_values(), "url": "https://x.example/"}),
                              ZONE, editing=False)  # fmt: skip
    assert created.errors == {} and created.clears == set()
    assert created.spec.rules is None and created.spec.tag_ids is None
    assert created.spec.link_type is LinkType.URL and created.spec.enabled is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": ""}, "url"),
        ({"max_clicks": "-3"}, "max_clicks"),
        ({"max_clicks": "many"}, "max_clicks"),
        ({"expires_at": "next tuesday"}, "expires_at"),
        ({"redirect_type": "303"}, "redirect_type"),
        ({"link_type": "FTP"}, "link_type"),
        ({"group_id": "x"}, "group_id"),
        ({"tag_ids": ["1", "two"]}, "tag_ids"),
        (
            {"rules": [{"what": "country", "matches": "", "url": "https://a/", "percentage": ""}]},
            "rules",
        ),
        (
            {
                "rules": [
                    {"what": "rotator", "matches": "", "url": "https://a/", "percentage": "half"}
                ]
            },
            "rules",
        ),
        (
            {"rules": [{"what": "moon", "matches": "x", "url": "https://a/", "percentage": ""}]},
            "rules",
        ),
        ({"rules": [{"what": "country", "matches": "DE", "url": "", "percentage": ""}]}, "rules"),
    ],
)
def test_bad_values_are_named_by_their_field(changes: dict[str, Any], field: str) -> None:
    values = {**link_form.blank_values(), "url": "https://x.example/", **changes}
    parsed = link_form.parse(_form(values), ZONE, editing=False)
    assert field in parsed.errors


def test_a_time_with_seconds_keeps_them_through_the_form() -> None:
    ends = datetime(2027, 3, 1, 22, 59, 59, tzinfo=UTC)
    values = link_form.values_of(_record(expires_at=ends), ZONE)
    assert values["expires_at"] == "2027-03-01T23:59:59"
    assert link_form.parse(_form(values), ZONE, editing=True).spec.expires_at == ends
