"""The Vivoldi family in the OpenAPI document: every operation, every error code."""

from __future__ import annotations

from kurz_management.vivoldi import routes
from kurz_management.vivoldi.envelope import CODE_MEANINGS, Code

from tests.support.inprocess import app_document

OPERATIONS = {
    ("post", "/api/link-group/v1/create"),
    ("put", "/api/link-group/v1/update"),
    ("get", "/api/link-group/v1/list"),
    ("get", "/api/link-group/v2/list"),
    ("delete", "/api/link-group/v1/delete"),
    ("post", "/api/link/v2/create"),
    ("put", "/api/link/v2/update"),
    ("delete", "/api/link/v1/delete"),
    ("get", "/api/link/v1/list"),
    ("post", "/api/link/v1/createBulk"),
}


def test_every_route_is_documented() -> None:
    doc = app_document()
    documented = {
        (m, p)
        for p, ops in doc["paths"].items()
        for m, op in ops.items()
        if op["tags"] == ["vivoldi"]
    }
    assert documented >= OPERATIONS
    assert {r.path for r in routes.routes} >= {p for _, p in OPERATIONS}  # type: ignore[attr-defined]


def test_error_codes_are_documented() -> None:
    doc = app_document()
    family = next(t for t in doc["tags"] if t["name"] == "vivoldi")
    for code in Code:
        assert f"| {int(code)} |" in family["description"]
        assert CODE_MEANINGS[code] in family["description"]
    create = doc["paths"]["/api/link-group/v1/create"]["post"]
    # Refusals (400, 403) travel inside the 200 answer; failures keep their status.
    assert {"200", "401", "413", "429"} <= set(create["responses"])
    assert not {"400", "403", "404", "409"} & set(create["responses"])
    ok = create["responses"]["200"]["content"]["application/json"]["schema"]
    refs = {alternative["$ref"].rsplit("/", 1)[1] for alternative in ok["anyOf"]}
    assert refs == {"VivoldiGroupCreatedAnswer", "VivoldiRefusal"}
    assert "| 400 | 200 |" in family["description"]
    assert "| 401 | 401 |" in family["description"]
    schemas = doc["components"]["schemas"]
    answer = schemas["VivoldiGroupCreatedAnswer"]
    assert set(answer["properties"]) == {"code", "message", "result"}
    assert set(schemas["VivoldiGroupCreated"]["properties"]) == {"grpIdx", "webhookSecretKey"}
    assert "nm" in schemas["VivoldiGroupCreate"]["required"]


def test_family_document_is_valid_openapi() -> None:
    from openapi_spec_validator import validate

    doc = app_document()
    doc["paths"] = {
        path: ops
        for path, ops in doc["paths"].items()
        if any(op["tags"] == ["vivoldi"] for op in ops.values())
    }
    validate(doc)
