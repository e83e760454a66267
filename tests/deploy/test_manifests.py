"""The Kubernetes manifests: the real ones pass every check, and each check catches the
problem it exists for when fed a deliberately broken manifest."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from deploycheck import KUSTOMIZATIONS
from deploycheck.render import RenderError, render

Objects = list[dict[str, Any]]


def find(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name))


def container(objects: Objects, deployment: str) -> dict[str, Any]:
    found: dict[str, Any] = find(objects, "Deployment", deployment)["spec"]["template"]["spec"]
    return found["containers"][0]  # type: ignore[no-any-return]


def messages(check: ModuleType, objects: Objects, stages: list[Any]) -> str:
    return "\n".join(str(p) for p in check.check_manifests("t", objects, stages))


def test_deploy_check_command_passes() -> None:
    result = subprocess.run(
        [sys.executable, "deploy/check.py"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "no problems" in result.stdout


@pytest.mark.parametrize("label", sorted(KUSTOMIZATIONS))
def test_rendered_manifests_pass_every_check(
    check: ModuleType, rendered: dict[str, Objects], stages: list[Any], label: str
) -> None:
    assert check.check_manifests(label, rendered[label], stages) == []


def test_production_overlay_sets_release_namespace_and_monitor(
    rendered: dict[str, Objects],
) -> None:
    objects = rendered["production"]
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {"kurz"}
    assert find(objects, "Job", "kurz-migrate")["metadata"]["name"] == "kurz-migrate-1.0.0"
    assert (
        container(objects, "kurz-redirector")["image"]
        == "registry.example.com/kurz-redirector:1.0.0"
    )
    assert find(objects, "ServiceMonitor", "kurz")["spec"]["endpoints"][0]["port"] == "http"


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda c: c.pop("readinessProbe"), "no readinessProbe"),
        (lambda c: c.pop("livenessProbe"), "no livenessProbe"),
        (lambda c: c["livenessProbe"]["httpGet"].update(path="/"), "livenessProbe checks '/'"),
        (lambda c: c["resources"].pop("limits"), "no resources.limits.cpu"),
        (lambda c: c["securityContext"].update(runAsNonRoot=False, runAsUser=0), "runs as user 0"),
        (lambda c: c["securityContext"].update(runAsNonRoot=False), "runAsNonRoot is not true"),
        (
            lambda c: c["securityContext"].update(readOnlyRootFilesystem=False),
            "readOnlyRootFilesystem",
        ),
        (
            lambda c: c["securityContext"].update(allowPrivilegeEscalation=True),
            "allowPrivilegeEscalation",
        ),
        (lambda c: c["securityContext"]["capabilities"].update(drop=[]), "capabilities.drop"),
        (lambda c: c.pop("volumeMounts"), "no emptyDir volume mounted at /tmp"),
        (
            lambda c: c.update(image="registry.example.com/kurz-aggregator:1.0.0"),
            "expected kurz-redirector",
        ),
        (
            lambda c: c.update(image="registry.example.com/kurz-redirector:latest"),
            "has no version tag",
        ),
        (
            lambda c: c.update(image="registry.example.com/kurz-redirector:0.9.0"),
            "one release, one tag",
        ),
        (lambda c: c.update(image="nginx:1.27"), "is not kurz-<target>"),
        (lambda c: c["ports"][0].update(containerPort=9000), "miss the port the image EXPOSEs"),
        (
            lambda c: c["env"].append({"name": "KURZ_NO_SUCH_SETTING", "value": "1"}),
            "KURZ_NO_SUCH_SETTING",
        ),
        (lambda c: c["env"].append({"name": "KURZ_WORKERS", "value": "many"}), "invalid settings"),
        (
            lambda c: c["env"].append({"name": "KURZ_SHUTDOWN_GRACE", "value": "60"}),
            "terminationGracePeriodSeconds 20 <",
        ),
        (
            lambda c: c["envFrom"][0]["configMapRef"].update(name="gone"),
            "ConfigMap 'gone', which does not exist",
        ),
        (lambda c: c.update(unknownField=1), "Kubernetes 1.30"),
    ],
)
def test_broken_redirector_container_is_reported(
    check: ModuleType, rendered: dict[str, Objects], stages: list[Any], breakage: Any, expected: str
) -> None:
    objects = rendered["production"]
    breakage(container(objects, "kurz-redirector"))
    assert expected in messages(check, objects, stages)


def _set(path: list[str | int], value: Any) -> Any:
    def apply(obj: Any) -> None:
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value

    return apply


@pytest.mark.parametrize(
    ("kind", "name", "breakage", "expected"),
    [
        (
            "Deployment",
            "kurz-aggregator",
            _set(["spec", "replicas"], "three"),
            "is not of type 'integer'",
        ),
        (
            "Deployment",
            "kurz-redirector",
            _set(["spec", "replicas"], 3),
            "sets replicas although an autoscaler",
        ),
        (
            "Deployment",
            "kurz-redirector",
            _set(["spec", "template", "spec", "terminationGracePeriodSeconds"], 12),
            "terminationGracePeriodSeconds 12 < preStop 5 s + KURZ_SHUTDOWN_GRACE 10 s",
        ),
        (
            "Deployment",
            "kurz-management",
            _set(["spec", "template", "spec", "enableServiceLinks"], True),
            "enableServiceLinks",
        ),
        (
            "Deployment",
            "kurz-management",
            _set(["spec", "template", "metadata", "annotations", "prometheus.io/port"], "9"),
            "prometheus.io/port '9' is no container port",
        ),
        (
            "HorizontalPodAutoscaler",
            "kurz-redirector",
            _set(["spec", "scaleTargetRef", "name"], "kurz-management"),
            "no HorizontalPodAutoscaler targets Deployment kurz-redirector",
        ),
        (
            "HorizontalPodAutoscaler",
            "kurz-redirector",
            _set(["spec", "scaleTargetRef", "name"], "kurz-edge"),
            "scales Deployment/kurz-edge, which does not exist",
        ),
        (
            "PodDisruptionBudget",
            "kurz-aggregator",
            _set(["spec", "selector", "matchLabels"], {"app": "aggregator"}),
            "selects no Deployment's pods",
        ),
        (
            "PodDisruptionBudget",
            "kurz-redirector",
            _set(["spec", "minAvailable"], 4),
            "allows no eviction of Deployment/kurz-redirector's pods",
        ),
        (
            "PodDisruptionBudget",
            "kurz-management",
            _set(["spec", "maxUnavailable"], 0),
            "allows no eviction of Deployment/kurz-management's pods",
        ),
        (
            "Service",
            "kurz-management",
            _set(["spec", "ports", 0, "targetPort"], "web"),
            "targetPort 'web' is no container port",
        ),
        (
            "Ingress",
            "kurz",
            _set(["spec", "defaultBackend", "service", "name"], "kurz-edge"),
            "backend Service 'kurz-edge' does not exist",
        ),
        (
            "Job",
            "kurz-migrate",
            _set(["metadata", "name"], "kurz-migrate"),
            "name is not kurz-migrate-1.0.0",
        ),
        (
            "Job",
            "kurz-migrate",
            _set(["spec", "template", "spec", "containers", 0, "command"], ["kurz", "run"]),
            "command is not ['kurz', 'migrate']",
        ),
        (
            "ConfigMap",
            "kurz-config",
            _set(["metadata", "labels", "app.kubernetes.io/component"], "settings"),
            "lacks label app.kubernetes.io/component=config:",
        ),
        ("ServiceMonitor", "kurz", _set(["spec", "endpoints"], []), "spec.endpoints"),
    ],
)
def test_broken_objects_are_reported(
    check: ModuleType,
    rendered: dict[str, Objects],
    stages: list[Any],
    kind: str,
    name: str,
    breakage: Any,
    expected: str,
) -> None:
    objects = rendered["production"]
    breakage(find(objects, kind, name))
    assert expected in messages(check, objects, stages)


def test_missing_deployment_and_consumer_name_are_reported(
    check: ModuleType, rendered: dict[str, Objects], stages: list[Any]
) -> None:
    objects = [o for o in rendered["base"] if o["metadata"]["name"] != "kurz-webhook-worker"]
    container(objects, "kurz-aggregator")["env"].append(
        {"name": "KURZ_AGGREGATOR_CONSUMER", "value": "one"}
    )
    found = messages(check, objects, stages)
    assert "no Deployment kurz-webhook-worker for Dockerfile target webhook-worker" in found
    assert "sets KURZ_AGGREGATOR_CONSUMER" in found


def test_trusting_every_peer_for_forwarded_addresses_is_reported(
    check: ModuleType, rendered: dict[str, Objects], stages: list[Any]
) -> None:
    objects = copy.deepcopy(rendered["base"])
    container(objects, "kurz-redirector")["env"].append(
        {"name": "FORWARDED_ALLOW_IPS", "value": "10.0.0.1,*"}
    )
    assert "FORWARDED_ALLOW_IPS trusts every peer" in messages(check, objects, stages)


def _overlay(tmp_path: Path, patch: str) -> Path:
    base = os.path.relpath(KUSTOMIZATIONS["base"], tmp_path)  # kustomize refuses absolute bases
    (tmp_path / "kustomization.yaml").write_text(
        f"resources: [{base}]\npatches:\n  - target: {{kind: Deployment, name: kurz-redirector}}\n"
        f"    patch: |-\n      {patch}\n"
    )
    return tmp_path


def test_command_exits_1_and_lists_problems(
    check: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    overlay = _overlay(
        tmp_path, "- {op: remove, path: /spec/template/spec/containers/0/readinessProbe}"
    )
    monkeypatch.setattr(check, "KUSTOMIZATIONS", {"broken": overlay})
    assert check.main() == 1
    out = capsys.readouterr()
    assert "broken Deployment/kurz-redirector container redirector: no readinessProbe" in out.err
    assert "1 problem(s)" in out.out


def test_command_exits_2_when_a_kustomization_does_not_render(
    check: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    monkeypatch.setattr(check, "KUSTOMIZATIONS", {"broken": tmp_path})
    assert check.main() == 2
    assert "kubectl kustomize" in capsys.readouterr().err


def test_render_reports_a_missing_kubectl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RenderError, match=r"scripts/install-tools\.sh"):
        render(KUSTOMIZATIONS["base"])


def _environment(objects: Objects, deployment: str) -> dict[str, str]:
    """What a Deployment's first container gets from the ConfigMaps and Secrets it takes
    whole (envFrom), as the kubelet would give it."""
    import base64

    env: dict[str, str] = {}
    for source in container(objects, deployment).get("envFrom", []):
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if key in source:
                found = next(
                    o for o in objects
                    if o["kind"] == kind and o["metadata"]["name"] == source[key]["name"]
                )  # fmt: skip
                if kind == "Secret":
                    data = {k: base64.b64decode(v).decode() for k, v in found["data"].items()}
                else:
                    data = dict(found["data"])
                env.update(data)
    return env


@pytest.mark.parametrize(
    ("mode", "scheme", "shards"),
    [
        ("production", "redis://", "1"),
        ("redis-sentinel", "redis+sentinel://", "1"),
        ("redis-cluster", "redis+cluster://", "6"),
    ],
)
def test_each_redis_mode_reaches_every_service_alike(
    rendered: dict[str, Objects], mode: str, scheme: str, shards: str
) -> None:
    """The three Redis modes each have their manifests: every service gets the mode's
    REDIS_URL, one a client can be made from, and the same number of stream shards (the
    redirector writes the shards the consumers read)."""
    from kurz import redis_topology

    objects = rendered[mode]
    deployments = [o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"]
    assert len(deployments) == 4
    seen = {name: _environment(objects, name) for name in deployments}
    urls = {env["REDIS_URL"] for env in seen.values()}
    assert len(urls) == 1
    (url,) = urls
    assert url.startswith(scheme)
    redis_topology.check(url)
    assert {env.get("KURZ_STREAM_SHARDS", "1") for env in seen.values()} == {shards}
