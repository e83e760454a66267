"""Native bodies to the domain and back, and the OpenAPI registry."""

from __future__ import annotations

import msgspec
import pytest
from kurz.models import LinkType
from kurz_management import openapi
from kurz_management.core.links.service import LinkError
from kurz_management.native.convert import body_field, spec_of
from kurz_management.native.schema import LinkCreate, LinkPatch


def test_create_body_maps_to_the_spec() -> None:
    body = msgspec.json.decode(
        b'{"url": "https://e.example", "customSlug": "s", "redirectType": "PERMANENT_301",'
        b' "linkType": "SMS", "tagIds": ["4", 2], "webhookUrls": "https://a.example, ,https://b.example",'
        b' "googleTagId": "G-1", "forwardParameters": true, "title": null}',
        type=LinkCreate,
    )
    spec, clears = spec_of(body)
    assert spec.slug == "s" and spec.redirect_type == 301 and spec.link_type is LinkType.SMS
    assert spec.tag_ids == [4, 2] and spec.ga4_id == "G-1" and spec.forward_params is True
    assert spec.webhook_urls == ["https://a.example", "https://b.example"]
    assert spec.title is None and clears == set()


def test_patch_nulls_clear_and_absent_fields_stay() -> None:
    body = msgspec.json.decode(b'{"title": null, "maxClicks": null, "note": "n"}', type=LinkPatch)
    spec, clears = spec_of(body, nulls_clear=True)
    assert clears == {"title", "max_clicks"} and spec.note == "n" and spec.url is None


def test_conflicting_or_bad_values_are_refused() -> None:
    with pytest.raises(LinkError):
        spec_of(
            msgspec.json.decode(b'{"url": "u", "slug": "a", "customSlug": "b"}', type=LinkCreate)
        )
    with pytest.raises(LinkError):
        spec_of(msgspec.json.decode(b'{"url": "u", "tagIds": ["x1"]}', type=LinkCreate))
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"url": "u", "unknown": 1}', type=LinkCreate)


def test_error_fields_use_the_body_names() -> None:
    assert body_field("ga4_id") == "googleTagId" and body_field("slug") == "customSlug"
    assert body_field("forward_params") == "forwardParameters" and body_field(None) is None


def test_registered_operations_render_from_msgspec_types() -> None:
    class Thing(msgspec.Struct):
        name: str

    operation = openapi.operation(
        "PUT",
        "/test/things/{thing_id}",
        "test-family",
        Thing,
        Thing,
        errors={404: Thing},
        summary="Put a thing",
    )
    route = openapi.DocumentedRoute(operation, lambda request: None)
    document = openapi.document([route], [openapi.FamilyDoc("test-family", "Things")])
    op = document["paths"]["/test/things/{thing_id}"]["put"]
    assert op["tags"] == ["test-family"] and op["summary"] == "Put a thing"
    assert op["parameters"][0]["name"] == "thing_id"
    assert document["components"]["schemas"]["Thing"]["required"] == ["name"]
    # Its own statuses, and the server's HTTP limits every operation can meet.
    assert set(op["responses"]) == {"200", "404", "414", "431"}
    assert list(op["responses"]["414"]["content"]) == ["text/plain"]
    assert document["tags"] == [{"name": "test-family", "description": "Things"}]
