"""The checks behind `make deploy-check`: kurz's deployment files, rendered and verified offline.

Every check takes parsed data and returns a list of Problems (empty when all is well), so the
command and the tests run the same code, and tests can feed deliberately broken input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

DEPLOY = Path(__file__).resolve().parent.parent
REPO = DEPLOY.parent
KUSTOMIZATIONS = {
    "base": DEPLOY / "k8s" / "base",
    "production": DEPLOY / "k8s" / "overlays" / "production",
    # The same install with Redis behind Sentinel, and on a Redis Cluster.
    "redis-sentinel": DEPLOY / "k8s" / "overlays" / "redis-sentinel",
    "redis-cluster": DEPLOY / "k8s" / "overlays" / "redis-cluster",
}
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
DASHBOARD = DEPLOY / "grafana" / "kurz.json"
OPERATIONS_DOC = REPO / "docs" / "operations.md"
# The one writable path in kurz containers (their root filesystem is read-only).
WRITABLE_DIR = "/tmp"  # noqa: S108

# The Kubernetes release whose schemas the manifests must satisfy: the oldest one operators
# are expected to run (preStop `sleep` handlers need 1.30 or later).
KUBERNETES_VERSION = "1.30"

Manifest = dict[str, Any]


class Problem(msgspec.Struct, frozen=True):
    where: str  # e.g. "production Deployment/kurz-redirector container redirector"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def describe(obj: Manifest) -> str:
    """`Kind/name` of a Kubernetes object, for problem reports."""
    metadata = obj.get("metadata")
    name = metadata.get("name", "?") if isinstance(metadata, dict) else "?"
    return f"{obj.get('kind', '?')}/{name}"
