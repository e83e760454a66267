"""The Linkly family's operations appear in kurz's OpenAPI document."""

from __future__ import annotations

from kurz_management.linkly import routes

from tests.support.inprocess import app_document


def test_every_linkly_route_is_documented() -> None:
    document = app_document()
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = {(m, r.path_format) for r in routes.routes for m in r.methods or () if m != "HEAD"}  # type: ignore[attr-defined]
    assert served <= documented
    link = document["components"]["schemas"]["LinklyLink"]
    assert list(link["properties"])[:3] == ["id", "alias", "url"]
    post = document["paths"]["/api/v1/link"]["post"]
    assert set(post["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    assert post["security"] == [{"linkly_key": []}]
