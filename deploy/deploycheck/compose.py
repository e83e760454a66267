"""deploy/compose.yaml: kurz containers built from the Dockerfile's targets, locked down as
on Kubernetes, with known settings and a stop grace period that covers the drain."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kurz.settings import load_settings

from deploycheck import WRITABLE_DIR, Problem
from deploycheck.dockerfile import Stage, final_stages, parse_image
from deploycheck.environment import check_names
from deploycheck.pods import EXIT_MARGIN

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def seconds(duration: str) -> float:
    """A compose duration ("1m30s", "20s") in seconds; compose's default is 10 s."""
    return (
        sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(str(duration))) if duration else 10.0
    )


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _locked_down(where: str, service: dict[str, Any]) -> list[Problem]:
    problems = []
    uid = str(service.get("user", "")).split(":")[0]
    if not uid.isdigit() or int(uid) == 0:
        problems.append(
            Problem(where, f"user {service.get('user')!r} is not a numeric non-root UID")
        )
    if service.get("read_only") is not True:
        problems.append(Problem(where, "read_only is not true"))
    if "ALL" not in service.get("cap_drop", []):
        problems.append(Problem(where, "cap_drop does not include ALL"))
    if WRITABLE_DIR not in service.get("tmpfs", []):
        problems.append(Problem(where, "no tmpfs at /tmp (the root filesystem is read-only)"))
    return problems


def _build(
    where: str, service: dict[str, Any], targets: set[str], compose_dir: Path
) -> list[Problem]:
    build = service["build"]
    problems = []
    dockerfile = (
        compose_dir / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
    ).resolve()
    if not dockerfile.is_file():
        problems.append(Problem(where, f"build.dockerfile {dockerfile} does not exist"))
    target = build.get("target")
    if target not in targets:
        problems.append(Problem(where, f"build.target {target!r} is not a Dockerfile target"))
    elif parse_image(service.get("image", "")).basename != f"kurz-{target}":
        problems.append(Problem(where, f"image {service.get('image')!r} is not kurz-{target}"))
    return problems


def check_compose(data: dict[str, Any], stages: list[Stage], compose_dir: Path) -> list[Problem]:
    targets = {s.name for s in final_stages(stages)}
    problems: list[Problem] = []
    for name, service in data.get("services", {}).items():
        where = f"compose service {name}"
        if "build" not in service:
            if not parse_image(service.get("image", "")).pinned:
                problems.append(Problem(where, f"image {service.get('image')!r} is not pinned"))
            continue
        problems += _build(where, service, targets, compose_dir)
        problems += _locked_down(where, service)
        env = _environment(service)
        problems += check_names(where, env)
        if service.get("command") is not None:
            continue  # a one-off command (the migration), not a service that drains
        if (
            service.get("depends_on", {}).get("migrate", {}).get("condition")
            != "service_completed_successfully"
        ):
            problems.append(
                Problem(
                    where, "does not wait for migrate (condition: service_completed_successfully)"
                )
            )
        try:
            drain = load_settings(env).shutdown_grace
        except (SystemExit, ValueError):
            continue
        if seconds(service.get("stop_grace_period", "")) < drain + EXIT_MARGIN:
            problems.append(
                Problem(
                    where,
                    f"stop_grace_period is under KURZ_SHUTDOWN_GRACE {drain:g} s + {EXIT_MARGIN} s",
                )
            )
    return problems
