"""Environment variables: every name a manifest sets is one kurz reads (kurz.settings), its
value parses, and each Deployment's grace period covers the service's drain time."""

from __future__ import annotations

import base64
from typing import Any

from kurz.settings import ENVIRONMENT, load_settings

from deploycheck import Manifest, Problem, describe
from deploycheck.pods import EXIT_MARGIN, pod_specs


def known_names() -> set[str]:
    return set(ENVIRONMENT)


def _data(obj: Manifest) -> dict[str, str]:
    if obj.get("kind") == "Secret":
        decoded = {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()}
        return {**decoded, **obj.get("stringData", {})}
    return dict(obj.get("data", {}))


def _find(objects: list[Manifest], kind: str, name: str) -> Manifest | None:
    return next(
        (o for o in objects if o.get("kind") == kind and o["metadata"]["name"] == name), None
    )


def _from_ref(
    objects: list[Manifest], ref: dict[str, Any], kind: str, where: str, problems: list[Problem]
) -> dict[str, str]:
    found = _find(objects, kind, ref.get("name", ""))
    if found is None:
        if not ref.get("optional", False):
            problems.append(
                Problem(where, f"refers to {kind} {ref.get('name')!r}, which does not exist")
            )
        return {}
    return _data(found)


def resolve_env(
    objects: list[Manifest], container: dict[str, Any], where: str, problems: list[Problem]
) -> dict[str, str]:
    """The container's environment as Kubernetes would build it (envFrom first, then env)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if key in source:
                data = _from_ref(objects, source[key], kind, where, problems)
                env.update({source.get("prefix", "") + k: v for k, v in data.items()})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        value_from = item.get("valueFrom", {})
        for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            if key in value_from:
                data = _from_ref(objects, value_from[key], kind, where, problems)
                if value_from[key].get("key") in data:
                    env[item["name"]] = data[value_from[key]["key"]]
                elif not value_from[key].get("optional", False):
                    problems.append(
                        Problem(
                            where,
                            f"{item['name']}: key {value_from[key].get('key')!r} not in {kind}",
                        )
                    )
    return env


def check_names(where: str, env: dict[str, str]) -> list[Problem]:
    problems = [
        Problem(where, f"sets {name}, which kurz does not read (not in kurz.settings.ENVIRONMENT)")
        for name in sorted(set(env) - known_names())
    ]
    try:
        load_settings(env)
    except (SystemExit, ValueError) as exc:
        problems.append(Problem(where, f"invalid settings: {exc}"))
    return problems


def _grace(
    where: str, obj: Manifest, container: dict[str, Any], env: dict[str, str]
) -> list[Problem]:
    """The kubelet kills the pod after terminationGracePeriodSeconds, counted from the start
    of the preStop hook: it must cover the hook, the service's drain and its exit."""
    pod = obj["spec"]["template"]["spec"]
    period = pod.get("terminationGracePeriodSeconds", 30)
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    try:
        drain = load_settings(env).shutdown_grace
    except (SystemExit, ValueError):
        return []  # reported by check_names
    needed = pre_stop + drain + EXIT_MARGIN
    if period < needed:
        return [
            Problem(
                where,
                f"terminationGracePeriodSeconds {period} < preStop {pre_stop} s + "
                f"KURZ_SHUTDOWN_GRACE {drain:g} s + {EXIT_MARGIN} s to exit",
            )
        ]
    return []


def check_environment(label: str, objects: list[Manifest]) -> list[Problem]:
    problems: list[Problem] = []
    for obj, pod in pod_specs(objects):
        for container in pod.get("containers", []):
            where = f"{label} {describe(obj)} container {container.get('name')}"
            env = resolve_env(objects, container, where, problems)
            problems += check_names(where, env)
            if "*" in env.get("FORWARDED_ALLOW_IPS", "").split(","):
                problems.append(
                    Problem(
                        where,
                        "FORWARDED_ALLOW_IPS trusts every peer: name the ingress controller's "
                        "addresses or network instead",
                    )
                )
            if obj.get("kind") == "Deployment":
                problems += _grace(where, obj, container, env)
                if "KURZ_AGGREGATOR_CONSUMER" in env and obj["spec"].get("replicas", 1) != 1:
                    problems.append(
                        Problem(
                            where,
                            "sets KURZ_AGGREGATOR_CONSUMER: all its replicas "
                            "would be one consumer (leave it unset)",
                        )
                    )
    return problems


def check_documented(markdown: str) -> list[Problem]:
    """Operators configure kurz from docs/operations.md: every variable must be there."""
    return [
        Problem("docs/operations.md", f"does not document {name}")
        for name in sorted(known_names())
        if f"`{name}`" not in markdown
    ]
