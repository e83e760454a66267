"""Render a kustomization with `kubectl kustomize` (offline) into a list of objects."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from deploycheck import Manifest


class RenderError(Exception):
    """The kustomization does not build; the message says why."""


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise RenderError("kubectl is not installed: run scripts/install-tools.sh")
    return found


def render(kustomization: Path) -> list[Manifest]:
    try:
        result = subprocess.run(
            [kubectl(), "kustomize", str(kustomization)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"kubectl kustomize {kustomization} took over 60 s") from exc
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {kustomization} failed: {result.stderr.strip()}")
    return load_objects(result.stdout)


def load_objects(text: str) -> list[Manifest]:
    """Objects of a multi-document YAML stream, empty documents skipped."""
    return [doc for doc in yaml.safe_load_all(text) if doc]
