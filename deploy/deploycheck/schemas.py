"""Every object against the Kubernetes JSON schemas; custom resources against bundled ones."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from kubernetes_validate.utils import SchemaNotFoundError, latest_version

from deploycheck import KUBERNETES_VERSION, Manifest, Problem, describe

# kubernetes-validate ships the core API's schemas only. Custom resources kurz uses get a
# small schema of their own here: the fields the Prometheus Operator requires and kurz sets.
_CRD_SCHEMAS = {("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.schema.json"}


@cache
def _crd_validator(filename: str) -> Any:
    schema = json.loads((Path(__file__).with_name(filename)).read_text())
    return jsonschema.Draft202012Validator(schema)


def versions() -> tuple[str, ...]:
    """The oldest Kubernetes kurz supports and the newest the bundled schemas know."""
    return (KUBERNETES_VERSION, latest_version())


def _where(label: str, obj: Manifest) -> str:
    return f"{label} {describe(obj)}"


def _validate_custom(label: str, obj: Manifest, filename: str) -> list[Problem]:
    return [
        Problem(
            _where(label, obj), f"{'.'.join(map(str, error.path)) or '(root)'}: {error.message}"
        )
        for error in _crd_validator(filename).iter_errors(obj)
    ]


def validate_schemas(label: str, objects: list[Manifest]) -> list[Problem]:
    problems: list[Problem] = []
    for obj in objects:
        custom = _CRD_SCHEMAS.get((str(obj.get("apiVersion")), str(obj.get("kind"))))
        if custom is not None:
            problems += _validate_custom(label, obj, custom)
            continue
        for version in versions():
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = ".".join(str(part) for part in exc.path) or "(root)"
                problems.append(
                    Problem(_where(label, obj), f"Kubernetes {version}: {path}: {exc.message}")
                )
            except SchemaNotFoundError as exc:
                problems.append(Problem(_where(label, obj), f"no schema: {exc.message}"))
    return problems
