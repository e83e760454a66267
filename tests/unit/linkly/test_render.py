"""The Linkly link object rendered from a LinkRecord, as JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import msgspec
from kurz.models import Rule
from kurz_management.core.links.service import LinkRecord
from kurz_management.linkly.errors import LinklyError, LinklyItemError
from kurz_management.linkly.render import FIELDS, csv_header, csv_rows, encode, to_linkly

SEED_EXAMPLE_KEYS = [
    "id",
    "alias",
    "url",
    "name",
    "note",
    "head_tags",
    "body_tags",
    "linkify_words",
    "enabled",
    "cloaking",
    "replacements",
    "domain",
    "slug",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "og_title",
    "og_description",
    "og_image",
    "full_url",
    "block_bots",
    "rules",
    "workspace_id",
    "referer_mode",
    "custom_referer",
    "click_fraud_mode",
    "deleted",
]
EXTRA_KEYS = [
    "fb_pixel_id",
    "ga4_tag_id",
    "gtm_id",
    "forward_params",
    "hide_referrer",
    "expiry_datetime",
    "expiry_destination",
    "expiry_clicks",
    "tiktok_pixel_id",
    "public_analytics",
]


def record(**changes: Any) -> LinkRecord:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    base: dict[str, Any] = dict(
        id=9512,
        workspace_id=1448,
        host="kurz.test",
        slug="2TQ",
        short_url="https://kurz.test/2TQ",
        url="https://www.wikijob.co.uk",
        link_type="URL",
        redirect_type=302,
        title="Test Link",
        description=None,
        image=None,
        og_title=None,
        note=None,
        cloaked=False,
        has_password=False,
        starts_at=None,
        expires_at=None,
        expiry_url=None,
        delete_at=None,
        max_clicks=None,
        forward_params=False,
        block_bots=False,
        hide_referrer=False,
        utm_source=None,
        utm_medium=None,
        utm_campaign=None,
        utm_term=None,
        utm_content=None,
        meta_pixel_id=None,
        ga4_id=None,
        gtm_id=None,
        tiktok_pixel_id=None,
        head_tags=None,
        body_tags=None,
        webhook_urls=[],
        rules=[],
        group_id=None,
        enabled=True,
        qr_bypass=False,
        push_subscribe=False,
        public_analytics=False,
        tag_ids=[],
        tags=[],
        created_by_key=None,
        created_by_prefix=None,
        clicks=0,
        version=1,
        created_at=now,
        updated_at=now,
    )
    base.update(changes)
    return LinkRecord(**base)


def test_keys_follow_the_seed_example_then_the_extras() -> None:
    body = msgspec.json.decode(encode(to_linkly(record(), "kurz.test")))
    assert list(body) == SEED_EXAMPLE_KEYS + EXTRA_KEYS
    assert list(FIELDS) == SEED_EXAMPLE_KEYS + EXTRA_KEYS


def test_default_domain_link_matches_the_seed_example_types() -> None:
    body = msgspec.json.decode(encode(to_linkly(record(), "kurz.test")))
    assert body["id"] == 9512 and body["workspace_id"] == 1448
    assert body["domain"] is None
    assert body["slug"] == "/2TQ"
    assert body["full_url"] == "https://kurz.test/2TQ"
    assert body["name"] == "Test Link"
    assert body["rules"] == []
    assert body["enabled"] is True and body["cloaking"] is False and body["deleted"] is False
    for absent in (
        "alias",
        "linkify_words",
        "replacements",
        "referer_mode",
        "custom_referer",
        "click_fraud_mode",
    ):
        assert body[absent] is None


def test_custom_domain_and_mapped_fields() -> None:
    link = to_linkly(
        record(
            host="go.example.com",
            cloaked=True,
            description="D",
            image="https://i.example/a.png",
            og_title="OT",
            meta_pixel_id="fb",
            ga4_id="G-1",
            tiktok_pixel_id="TT1",
            public_analytics=True,
            expiry_url="https://gone.example",
            expires_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
            rules=[
                Rule("rotator", "https://a.example", percentage=50.0),
                Rule("country", "https://b.example", matches="US"),
                Rule("rotator", "https://c.example", percentage=12.5),
            ],
        ),
        "kurz.test",
    )
    body = msgspec.json.decode(encode(link))
    assert body["domain"] == "go.example.com"
    assert (body["cloaking"], body["og_description"], body["og_image"], body["og_title"]) == (
        True,
        "D",
        "https://i.example/a.png",
        "OT",
    )
    assert (body["fb_pixel_id"], body["ga4_tag_id"]) == ("fb", "G-1")
    assert (body["tiktok_pixel_id"], body["public_analytics"]) == ("TT1", True)
    assert body["expiry_datetime"] == "2030-01-02T03:04:05+00:00"
    assert body["expiry_destination"] == "https://gone.example"
    assert body["rules"] == [
        {"what": "rotator", "url": "https://a.example", "percentage": 50},
        {"what": "country", "url": "https://b.example", "matches": "US"},
        {"what": "rotator", "url": "https://c.example", "percentage": 12.5},
    ]


def test_deleted_flag() -> None:
    assert to_linkly(record(), "kurz.test", deleted=True).deleted is True
    assert to_linkly(record(deleted_at=datetime.now(UTC)), "kurz.test").deleted is True


def test_csv_rows_read_back() -> None:
    links = [
        to_linkly(
            record(
                id=i,
                title=f'a "quoted", name {i}',
                rules=[Rule("platform", "https://a.example", matches="ios")],
            ),
            "kurz.test",
        )
        for i in (1, 2)
    ]
    text = csv_header() + csv_rows(links)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[0]["name"] == 'a "quoted", name 1'
    assert rows[0]["enabled"] == "true" and rows[0]["alias"] == ""
    assert msgspec.json.decode(rows[1]["rules"]) == [
        {"what": "platform", "url": "https://a.example", "matches": "ios"}
    ]


def test_error_envelope() -> None:
    response = LinklyError(
        422, "2 links are invalid", errors=[LinklyItemError(3, "bad", "url")]
    ).response()
    assert response.status_code == 422
    assert msgspec.json.decode(response.body) == {
        "error": "2 links are invalid",
        "errors": [{"index": 3, "error": "bad", "field": "url"}],
    }
    assert msgspec.json.decode(LinklyError(401, "no key").response().body) == {"error": "no key"}
