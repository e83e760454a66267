"""Property-based fuzzing of every management endpoint in the OpenAPI document.

The document is read from the live server's /openapi.json, so a new endpoint is fuzzed
without touching this file. Requests go to a real management process on 127.0.0.1 with
a valid key in each family's header; both valid and invalid inputs are generated."""

from __future__ import annotations

import json
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Workspace
from tests.security.conftest import family_headers
from tests.support.services import Service

EXAMPLES_PER_OPERATION = 60
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def family_error(family: str, status: int, body: Any) -> str | None:
    """Why an error body is not in its family's format, or None when it is."""
    if family == "vivoldi":
        if not isinstance(body, dict) or set(body) != {"code", "message", "result"}:
            return "not a Vivoldi envelope {code, message, result}"
        if body["code"] != status or not body["message"]:
            return "a Vivoldi error carries its HTTP status as code, and a message"
        return None
    if not isinstance(body, dict) or not isinstance(body.get("error"), str) or not body["error"]:
        return 'not {"error": "..."}'
    return None


def fuzz_operation(
    operation: schemathesis.APIOperation[Any, Any, Any, Any], base_url: str, ws: Workspace
) -> list[str]:
    family = operation.tags[0] if operation.tags else "native"
    headers = family_headers(family, ws)
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
        | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    )
    def check(case: schemathesis.Case[Any]) -> None:
        if "ws" in (case.path_parameters or {}):
            case.path_parameters["ws"] = str(ws.id)
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        label = f"{case.method} {case.formatted_path} -> {response.status_code}"
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:
            failures.append(f"{label}: {str(exc)[:600]}")
            return
        # 414 and 431 come from the server's HTTP limits before any family sees the
        # request: plain text, as the document says.
        if response.status_code >= 400 and response.status_code not in (414, 431):
            try:
                body = json.loads(response.content)
            except ValueError:
                body = None
            reason = family_error(family, response.status_code, body)
            if reason:
                failures.append(f"{label}: {reason}: {response.content[:200]!r}")

    with requests.Session() as session:
        check()
    return failures


def test_every_operation_survives_fuzzing(management: Service, workspace: Workspace) -> None:
    schema = schemathesis.openapi.from_url(f"{management.url}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err would fail the run above
        failures += fuzz_operation(operation, management.url, workspace)
    assert not failures, "\n".join(failures[:60])
