"""Load deploy/check.py (not an installed package) and render the kustomizations once."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
if str(DEPLOY) not in sys.path:
    sys.path.insert(0, str(DEPLOY))


def _load_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kurz_deploy_check", DEPLOY / "check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def check() -> ModuleType:
    return _load_check()


@pytest.fixture(scope="session")
def _rendered() -> dict[str, list[dict[str, Any]]]:
    from deploycheck import KUSTOMIZATIONS
    from deploycheck.render import render

    return {label: render(path) for label, path in KUSTOMIZATIONS.items()}


@pytest.fixture
def rendered(_rendered: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """A fresh copy per test, so a test may break it freely."""
    return copy.deepcopy(_rendered)


@pytest.fixture(scope="session")
def stages() -> list[Any]:
    from deploycheck import DOCKERFILE
    from deploycheck.dockerfile import parse_stages

    found: list[Any] = parse_stages(DOCKERFILE.read_text())
    return found
