"""`make deploy-check`: render the kustomizations and check every deployment file, offline.

Exits 0 when all is well, 1 with the list of problems otherwise, 2 when a kustomization does
not render at all.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploycheck import (
    COMPOSE,
    DASHBOARD,
    DOCKERFILE,
    KUSTOMIZATIONS,
    OPERATIONS_DOC,
    REPO,
    Manifest,
    Problem,
)
from deploycheck.compose import check_compose
from deploycheck.dashboard import (
    check_catalogue,
    check_dashboard,
    check_panels,
    parse_catalogue,
)
from deploycheck.dockerfile import Stage, check_dockerfile, parse_stages
from deploycheck.environment import check_environment
from deploycheck.exported import check_exported, defined_metrics, service_sources
from deploycheck.pods import check_containers, check_pods
from deploycheck.render import RenderError, render
from deploycheck.schemas import validate_schemas
from deploycheck.wiring import (
    check_autoscaling,
    check_disruption_budgets,
    check_images,
    check_ingress,
    check_migration_job,
    check_services,
)


def check_manifests(label: str, objects: list[Manifest], stages: list[Stage]) -> list[Problem]:
    """Every check of one rendered kustomization."""
    return [
        *validate_schemas(label, objects),
        *check_containers(label, objects),
        *check_pods(label, objects),
        *check_environment(label, objects),
        *check_images(label, objects, stages),
        *check_migration_job(label, objects),
        *check_autoscaling(label, objects),
        *check_disruption_budgets(label, objects),
        *check_services(label, objects),
        *check_ingress(label, objects),
    ]


def check_files() -> list[Problem]:
    """The checks that need no rendering: Dockerfile, compose, the dashboard and its catalogue."""
    text = DOCKERFILE.read_text()
    stages = parse_stages(text)
    markdown = OPERATIONS_DOC.read_text() if OPERATIONS_DOC.is_file() else ""
    catalogue = parse_catalogue(markdown)
    return [
        *check_dockerfile(text, REPO),
        *check_compose(yaml.safe_load(COMPOSE.read_text()), stages, COMPOSE.parent),
        *check_catalogue(catalogue),
        *check_dashboard(json.loads(DASHBOARD.read_text()), catalogue),
        *check_panels(json.loads(DASHBOARD.read_text())),
        *check_exported(defined_metrics(service_sources(REPO), REPO), catalogue),
    ]


def main() -> int:
    started = time.monotonic()
    stages = parse_stages(DOCKERFILE.read_text())
    problems = check_files()
    counted = 0
    for label, path in KUSTOMIZATIONS.items():
        try:
            objects = render(path)
        except RenderError as exc:
            print(f"deploy-check: {exc}", file=sys.stderr)
            return 2
        counted += len(objects)
        problems += check_manifests(label, objects, stages)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    verdict = f"{len(problems)} problem(s)" if problems else "no problems"
    print(
        f"deploy-check: {counted} objects in {len(KUSTOMIZATIONS)} kustomizations, Dockerfile, "
        f"compose, dashboard: {verdict} ({time.monotonic() - started:.1f} s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
