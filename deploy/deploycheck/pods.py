"""What every kurz pod and container must have: probes, resources, a locked-down security
context, a writable /tmp on an otherwise read-only root, and a grace period that fits the
service's drain time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deploycheck import WRITABLE_DIR, Manifest, Problem, describe

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job"})
# Seconds a process needs after its drain deadline to close pools and exit.
EXIT_MARGIN = 5
PROBES = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}


def pod_specs(objects: list[Manifest]) -> Iterator[tuple[Manifest, dict[str, Any]]]:
    """(workload, pod spec) for every object that runs pods."""
    for obj in objects:
        if obj.get("kind") in WORKLOAD_KINDS:
            yield obj, obj.get("spec", {}).get("template", {}).get("spec", {})
        elif obj.get("kind") == "CronJob":
            job = obj.get("spec", {}).get("jobTemplate", {}).get("spec", {})
            yield obj, job.get("template", {}).get("spec", {})


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def _resources(where: str, container: dict[str, Any]) -> list[Problem]:
    resources = container.get("resources", {})
    return [
        Problem(where, f"no resources.{kind}.{resource}")
        for kind in ("requests", "limits")
        for resource in ("cpu", "memory")
        if resource not in resources.get(kind, {})
    ]


def _security(where: str, pod: dict[str, Any], container: dict[str, Any]) -> list[Problem]:
    pod_ctx = pod.get("securityContext", {})
    ctx = container.get("securityContext", {})
    problems = []
    if not ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot", False)):
        problems.append(Problem(where, "runAsNonRoot is not true"))
    if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
        problems.append(Problem(where, "runs as user 0 (root)"))
    if ctx.get("privileged", False):
        problems.append(Problem(where, "privileged"))
    if ctx.get("allowPrivilegeEscalation", True):
        problems.append(Problem(where, "allowPrivilegeEscalation is not false"))
    if not ctx.get("readOnlyRootFilesystem", False):
        problems.append(Problem(where, "readOnlyRootFilesystem is not true"))
    if "ALL" not in ctx.get("capabilities", {}).get("drop", []):
        problems.append(Problem(where, "capabilities.drop does not include ALL"))
    if ctx.get("capabilities", {}).get("add"):
        problems.append(Problem(where, "adds capabilities"))
    seccomp = ctx.get("seccompProfile", pod_ctx.get("seccompProfile", {}))
    if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
        problems.append(Problem(where, "seccompProfile is not RuntimeDefault"))
    return problems


def _writable_tmp(where: str, pod: dict[str, Any], container: dict[str, Any]) -> list[Problem]:
    empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for mount in container.get("volumeMounts", []):
        if mount.get("mountPath") == WRITABLE_DIR and mount.get("name") in empty_dirs:
            return []
    return [Problem(where, "no emptyDir volume mounted at /tmp (the root filesystem is read-only)")]


def _port_names(container: dict[str, Any]) -> set[object]:
    ports = container.get("ports", [])
    return {p.get("name") for p in ports} | {p.get("containerPort") for p in ports}


def _probes(where: str, container: dict[str, Any]) -> list[Problem]:
    problems = []
    for probe, path in PROBES.items():
        http = container.get(probe, {}).get("httpGet")
        if http is None:
            problems.append(Problem(where, f"no {probe} (httpGet {path})"))
            continue
        if http.get("path") != path:
            problems.append(Problem(where, f"{probe} checks {http.get('path')!r}, not {path}"))
        if http.get("port") not in _port_names(container):
            problems.append(
                Problem(where, f"{probe} port {http.get('port')!r} is not a container port")
            )
    return problems


def check_containers(label: str, objects: list[Manifest]) -> list[Problem]:
    problems: list[Problem] = []
    for obj, pod in pod_specs(objects):
        if not pod.get("containers"):
            problems.append(Problem(f"{label} {describe(obj)}", "no containers"))
        for container in containers(pod):
            where = f"{label} {describe(obj)} container {container.get('name')}"
            problems += _resources(where, container)
            problems += _security(where, pod, container)
            problems += _writable_tmp(where, pod, container)
            if obj.get("kind") == "Deployment" and container in pod.get("containers", []):
                problems += _probes(where, container)
    return problems


def check_pods(label: str, objects: list[Manifest]) -> list[Problem]:
    """Pod-level settings: no injected service-link variables (kurz reads KURZ_* names), no
    API token (kurz never calls the Kubernetes API), and scrape annotations that match a port."""
    problems: list[Problem] = []
    for obj, pod in pod_specs(objects):
        where = f"{label} {describe(obj)}"
        if pod.get("enableServiceLinks", True):
            problems.append(
                Problem(where, "enableServiceLinks is not false (injects KURZ_*_PORT variables)")
            )
        if pod.get("automountServiceAccountToken", True):
            problems.append(Problem(where, "automountServiceAccountToken is not false"))
        if obj.get("kind") == "Deployment":
            problems += _scrape_annotations(where, obj, pod)
    return problems


def _scrape_annotations(where: str, obj: Manifest, pod: dict[str, Any]) -> list[Problem]:
    annotations = obj["spec"]["template"].get("metadata", {}).get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true":
        return [Problem(where, 'no prometheus.io/scrape: "true" annotation on the pod template')]
    problems = []
    if annotations.get("prometheus.io/path") != "/metrics":
        problems.append(Problem(where, "prometheus.io/path is not /metrics"))
    ports = {
        str(p.get("containerPort")) for c in pod.get("containers", []) for p in c.get("ports", [])
    }
    port = annotations.get("prometheus.io/port")
    if port not in ports:
        problems.append(
            Problem(
                where,
                f"prometheus.io/port {port!r} is no container port",
            )
        )
    return problems
