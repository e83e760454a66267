"""Linkly request parsing: field names, lenient scalar types, rules, clears."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kurz.models import Rule
from kurz_management.linkly.errors import linkly_field
from kurz_management.linkly.schema import (
    SchemaError,
    clears_of,
    parse_link,
    to_spec,
)


def test_seed_004_form_fields_become_a_spec() -> None:
    form = {
        "api_key": "k",
        "workspace_id": "1",
        "url": "http://www.wikijob.co.uk",
        "name": "Test Link",
    }
    link = parse_link(form)
    assert link.workspace_id == 1
    spec = to_spec(link)
    assert spec.url == "http://www.wikijob.co.uk"
    assert spec.title == "Test Link"
    assert spec.rules is None and spec.enabled is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("1", True),
        ("on", True),
        ("TRUE", True),
        ("false", False),
        ("0", False),
        ("no", False),
    ],
)
def test_form_booleans(raw: str, expected: bool) -> None:
    link = parse_link({"url": "https://a.example", "enabled": raw})
    assert link.enabled is expected


def test_bad_boolean_names_the_field() -> None:
    with pytest.raises(SchemaError) as err:
        parse_link({"url": "https://a.example", "cloaking": "maybe"})
    assert err.value.field == "cloaking"


def test_empty_typed_form_values_are_not_given() -> None:
    link = parse_link({"url": "https://a.example", "enabled": "", "id": ""})
    assert link.enabled is None and link.target_id is None


def test_every_linkly_field_maps_to_its_kurz_name() -> None:
    link = parse_link(
        {
            "id": "7",
            "url": " https://x.example/p ",
            "name": "N",
            "note": "memo",
            "head_tags": "<script></script>",
            "body_tags": "<noscript></noscript>",
            "forward_params": True,
            "enabled": False,
            "cloaking": True,
            "block_bots": True,
            "hide_referrer": True,
            "utm_source": "s",
            "utm_medium": "m",
            "utm_campaign": "c",
            "utm_term": "t",
            "utm_content": "ct",
            "domain": "https://Go.Example.com/",
            "slug": "/promo",
            "og_title": "OT",
            "og_description": "OD",
            "og_image": "https://i/x.png",
            "fb_pixel_id": "fb1",
            "ga4_tag_id": "G-1",
            "gtm_id": "GTM-1",
            "tiktok_pixel_id": "TT-1",
            "public_analytics": "yes",
            "expiry_datetime": "2030-01-02T03:04:05",
            "expiry_destination": "https://gone.example",
        }
    )
    assert link.target_id == 7
    spec = to_spec(link)
    assert (spec.url, spec.domain, spec.slug) == ("https://x.example/p", "go.example.com", "promo")
    assert (spec.title, spec.note, spec.og_title, spec.description, spec.image) == (
        "N",
        "memo",
        "OT",
        "OD",
        "https://i/x.png",
    )
    assert (
        spec.cloaked,
        spec.enabled,
        spec.forward_params,
        spec.block_bots,
        spec.hide_referrer,
    ) == (True, False, True, True, True)
    assert (spec.meta_pixel_id, spec.ga4_id, spec.gtm_id) == ("fb1", "G-1", "GTM-1")
    assert (spec.tiktok_pixel_id, spec.public_analytics) == ("TT-1", True)
    assert spec.expires_at == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert spec.expiry_url == "https://gone.example"
    assert (spec.head_tags, spec.body_tags) == ("<script></script>", "<noscript></noscript>")
    assert [
        spec.utm_source,
        spec.utm_medium,
        spec.utm_campaign,
        spec.utm_term,
        spec.utm_content,
    ] == ["s", "m", "c", "t", "ct"]


def test_link_id_is_an_alias_of_id() -> None:
    assert parse_link({"link_id": 12, "url": "https://a.example"}).target_id == 12
    assert parse_link({"id": 3, "link_id": 12}).target_id == 3


def test_seed_rules_parse_in_linkly_shape() -> None:
    link = parse_link(
        {
            "url": "https://a.example",
            "rules": [
                {"what": "rotator", "url": "https://www.microsoft.com", "percentage": "50"},
                {"what": "rotator", "url": "https://www.apple.com", "percentage": "50"},
                {"what": "country", "url": "https://www.microsoft.com", "matches": "UK"},
                {"what": "country", "url": "https://www.apple.com", "matches": "us"},
                {"what": "platform", "url": "https://www.google.com", "matches": "Windows"},
            ],
        }
    )
    assert link.rules == [
        Rule("rotator", "https://www.microsoft.com", percentage=50.0),
        Rule("rotator", "https://www.apple.com", percentage=50.0),
        Rule("country", "https://www.microsoft.com", matches="GB"),
        Rule("country", "https://www.apple.com", matches="US"),
        Rule("platform", "https://www.google.com", matches="windows"),
    ]


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"what": "teleport", "url": "https://a.example"}, "rules[0].what"),
        ({"what": "platform", "url": "https://a.example", "matches": "beos"}, "rules[0].matches"),
        ({"what": "country", "url": "https://a.example", "matches": "USA"}, "rules[0].matches"),
        ({"what": "country", "url": "https://a.example", "matches": "XX"}, "rules[0].matches"),
        ({"what": "country", "url": "https://a.example"}, "rules[0].matches"),
        ({"what": "rotator", "url": "https://a.example"}, "rules[0].percentage"),
        ({"what": "rotator", "url": "https://a.example", "percentage": 101}, "rules[0].percentage"),
        ({"what": "rotator", "url": "", "percentage": 10}, "rules[0].url"),
        ({"what": "country", "matches": "US"}, "rules[0]"),
    ],
)
def test_bad_rules_name_the_rule(rule: dict[str, object], field: str) -> None:
    with pytest.raises(SchemaError) as err:
        parse_link({"url": "https://a.example", "rules": [rule]})
    assert err.value.field == field


def test_rotator_total_over_100_is_refused() -> None:
    with pytest.raises(SchemaError, match="more than 100"):
        parse_link(
            {
                "rules": [
                    {"what": "rotator", "url": "https://a.example", "percentage": 60},
                    {"what": "rotator", "url": "https://b.example", "percentage": 50},
                ]
            }
        )


def test_non_object_item_is_refused() -> None:
    with pytest.raises(SchemaError, match="JSON object"):
        parse_link(["url"])


def test_bad_id_type_names_the_field() -> None:
    with pytest.raises(SchemaError) as err:
        parse_link({"id": "LINK_ID", "url": "https://a.example"})
    assert err.value.field == "id"


def test_null_or_empty_clearable_fields_are_cleared() -> None:
    raw = {
        "id": 1,
        "note": None,
        "name": "",
        "og_image": None,
        "expiry_datetime": "",
        "slug": None,
        "enabled": None,
        "tiktok_pixel_id": "",
        "public_analytics": "",
        "url": "https://a.example",
    }
    assert clears_of(raw) == {"note", "title", "image", "expires_at", "tiktok_pixel_id"}
    spec = to_spec(parse_link(raw))
    assert spec.title is None and spec.expires_at is None and spec.slug is None
    assert spec.public_analytics is None  # an empty boolean is "not given"


def test_spec_field_names_are_reported_in_linkly_terms() -> None:
    assert linkly_field("title") == "name"
    assert linkly_field("expiry_url") == "expiry_destination"
    assert linkly_field("rules[2].matches") == "rules[2].matches"
    assert linkly_field("url") == "url"
