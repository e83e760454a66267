"""How the objects fit together: images match the Dockerfile's targets and one release tag,
Services, Ingress, autoscaler and disruption budgets point at things that exist, and the
migration Job is there, named after the release."""

from __future__ import annotations

from typing import Any

from deploycheck import Manifest, Problem, describe
from deploycheck.dockerfile import ImageRef, Stage, exposed_ports, final_stages, parse_image
from deploycheck.pods import pod_specs

MIGRATION_COMMAND = ["kurz", "migrate"]


def _named(objects: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {o["metadata"]["name"]: o for o in objects if o.get("kind") == kind}


def _pod_labels(obj: Manifest) -> dict[str, str]:
    return dict(obj["spec"]["template"].get("metadata", {}).get("labels", {}))


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _image_problems(where: str, image: ImageRef, targets: dict[str, Stage]) -> list[Problem]:
    problems = []
    if not image.basename.startswith("kurz-") or image.basename[5:] not in targets:
        problems.append(
            Problem(
                where,
                f"image {image.repository} is not kurz-<target> for a target of "
                f"deploy/docker/Dockerfile ({', '.join(sorted(targets))})",
            )
        )
    if not image.pinned:
        problems.append(Problem(where, f"image {image.repository} has no version tag or digest"))
    return problems


def check_images(label: str, objects: list[Manifest], stages: list[Stage]) -> list[Problem]:
    """Every container runs a kurz image; a Deployment kurz-<target> runs target's image on the
    port it EXPOSEs; one registry and one tag across the release; every target deployed."""
    targets = {s.name: s for s in final_stages(stages)}
    releases: dict[tuple[str, str | None], str] = {}
    problems: list[Problem] = []
    for obj, pod in pod_specs(objects):
        for container in pod.get("containers", []):
            where = f"{label} {describe(obj)} container {container.get('name')}"
            image = parse_image(container.get("image", ""))
            problems += _image_problems(where, image, targets)
            releases.setdefault((image.repository.rpartition("/")[0], image.tag), where)
            if obj.get("kind") != "Deployment":
                continue
            expected = obj["metadata"]["name"].removeprefix("kurz-")
            if image.basename != f"kurz-{expected}":
                problems.append(
                    Problem(where, f"runs image {image.basename}, expected kurz-{expected}")
                )
            elif expected in targets:
                ports = {p.get("containerPort") for p in container.get("ports", [])}
                if not ports & exposed_ports(stages, targets[expected]):
                    problems.append(
                        Problem(
                            where,
                            f"container ports {sorted(ports)} miss the port the image EXPOSEs",
                        )
                    )
    if len(releases) > 1:
        found = ", ".join(f"{registry or '(no registry)'} tag {tag}" for registry, tag in releases)
        problems.append(
            Problem(label, f"images mix registries or tags ({found}): one release, one tag")
        )
    deployed = {name.removeprefix("kurz-") for name in _named(objects, "Deployment")}
    problems += [
        Problem(label, f"no Deployment kurz-{t} for Dockerfile target {t}")
        for t in sorted(set(targets) - deployed)
    ]
    return problems


def check_migration_job(label: str, objects: list[Manifest]) -> list[Problem]:
    jobs = [
        o
        for o in objects
        if o.get("kind") == "Job"
        and o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "migration"
    ]
    if len(jobs) != 1:
        return [
            Problem(
                label,
                f"expected one Job labelled component=migration, not {len(jobs)}",
            )
        ]
    job = jobs[0]
    container = job["spec"]["template"]["spec"]["containers"][0]
    problems = []
    if container.get("command") != MIGRATION_COMMAND:
        problems.append(Problem(f"{label} {describe(job)}", f"command is not {MIGRATION_COMMAND}"))
    problems += _rollout_first(label, objects, job, container)
    expected = f"kurz-migrate-{parse_image(container.get('image', '')).tag}"
    if job["metadata"]["name"] != expected:
        problems.append(
            Problem(
                f"{label} {describe(job)}", f"name is not {expected} (named after the release tag)"
            )
        )
    return problems


ROLLOUT_FIRST = frozenset({"config", "migration"})


def _rollout_first(
    label: str, objects: list[Manifest], job: Manifest, container: dict[str, Any]
) -> list[Problem]:
    """The rollout applies `app.kubernetes.io/component in (config,migration)` first and waits
    for the Job (docs/operations.md): what the Job reads must carry one of those labels."""
    problems = []
    for source in container.get("envFrom", []):
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            name = source.get(key, {}).get("name")
            found = _named(objects, kind).get(name) if name else None
            component = (
                (found or {})
                .get("metadata", {})
                .get("labels", {})
                .get("app.kubernetes.io/component")
            )
            if found is not None and component not in ROLLOUT_FIRST:
                problems.append(
                    Problem(
                        f"{label} {describe(found)}",
                        "the migration Job reads it, but it lacks label "
                        "app.kubernetes.io/component=config: the first rollout step skips it",
                    )
                )
    return problems


def check_autoscaling(label: str, objects: list[Manifest]) -> list[Problem]:
    deployments = _named(objects, "Deployment")
    problems = []
    scaled = set()
    for hpa in _named(objects, "HorizontalPodAutoscaler").values():
        ref = hpa["spec"].get("scaleTargetRef", {})
        target = deployments.get(ref.get("name")) if ref.get("kind") == "Deployment" else None
        if target is None:
            problems.append(
                Problem(
                    f"{label} {describe(hpa)}",
                    f"scales {ref.get('kind')}/{ref.get('name')}, which does not exist",
                )
            )
            continue
        scaled.add(ref["name"])
        if "replicas" in target["spec"]:
            problems.append(
                Problem(
                    f"{label} {describe(target)}", "sets replicas although an autoscaler owns them"
                )
            )
    if "kurz-redirector" not in scaled:
        problems.append(
            Problem(label, "no HorizontalPodAutoscaler targets Deployment kurz-redirector")
        )
    return problems


def _fewest_replicas(objects: list[Manifest], deployment: Manifest) -> int:
    """Replicas a Deployment may run with: its autoscaler's minimum, else its own count."""
    for hpa in _named(objects, "HorizontalPodAutoscaler").values():
        if hpa["spec"].get("scaleTargetRef", {}).get("name") == deployment["metadata"]["name"]:
            return int(hpa["spec"].get("minReplicas", 1))
    return int(deployment["spec"].get("replicas", 1))


def _budget_blocks_drains(objects: list[Manifest], pdb: Manifest, deployment: Manifest) -> bool:
    """A budget no eviction can satisfy makes every node drain hang."""
    spec = pdb["spec"]
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    if isinstance(min_available, int):
        return min_available >= _fewest_replicas(objects, deployment)
    return max_unavailable in (0, "0%") or min_available == "100%"


def check_disruption_budgets(label: str, objects: list[Manifest]) -> list[Problem]:
    deployments = _named(objects, "Deployment").values()
    problems = []
    for pdb in _named(objects, "PodDisruptionBudget").values():
        where = f"{label} {describe(pdb)}"
        selector = pdb["spec"].get("selector", {}).get("matchLabels", {})
        chosen = [d for d in deployments if _selects(selector, _pod_labels(d))]
        if not chosen:
            problems.append(Problem(where, f"selector {selector} selects no Deployment's pods"))
        problems += [
            Problem(where, f"allows no eviction of {describe(d)}'s pods: node drains would hang")
            for d in chosen
            if _budget_blocks_drains(objects, pdb, d)
        ]
    covered = {
        d["metadata"]["name"]
        for d in deployments
        for pdb in _named(objects, "PodDisruptionBudget").values()
        if _selects(pdb["spec"].get("selector", {}).get("matchLabels", {}), _pod_labels(d))
    }
    problems += [
        Problem(f"{label} {describe(d)}", "no PodDisruptionBudget selects its pods")
        for d in deployments
        if d["metadata"]["name"] not in covered
    ]
    return problems


def _service_ports(service: Manifest) -> set[Any]:
    ports = service["spec"].get("ports", [])
    return {p.get("name") for p in ports} | {p.get("port") for p in ports}


def check_services(label: str, objects: list[Manifest]) -> list[Problem]:
    deployments = _named(objects, "Deployment").values()
    problems = []
    for service in _named(objects, "Service").values():
        selector = service["spec"].get("selector", {})
        chosen = [d for d in deployments if _selects(selector, _pod_labels(d))]
        if not chosen:
            problems.append(
                Problem(
                    f"{label} {describe(service)}",
                    f"selector {selector} selects no Deployment's pods",
                )
            )
            continue
        names = {
            p.get("name")
            for c in chosen[0]["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        numbers = {
            p.get("containerPort")
            for c in chosen[0]["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        for port in service["spec"].get("ports", []):
            if port.get("targetPort", port.get("port")) not in names | numbers:
                problems.append(
                    Problem(
                        f"{label} {describe(service)}",
                        f"targetPort {port.get('targetPort')!r} is no container port",
                    )
                )
    return problems


def _backends(ingress: Manifest) -> list[dict[str, Any]]:
    spec = ingress["spec"]
    found = (
        [spec["defaultBackend"]["service"]] if "service" in spec.get("defaultBackend", {}) else []
    )
    for rule in spec.get("rules", []):
        found += [
            p["backend"]["service"]
            for p in rule.get("http", {}).get("paths", [])
            if "service" in p["backend"]
        ]
    return found


def check_ingress(label: str, objects: list[Manifest]) -> list[Problem]:
    services = _named(objects, "Service")
    problems = []
    for ingress in _named(objects, "Ingress").values():
        for backend in _backends(ingress):
            service = services.get(str(backend.get("name")))
            port = backend.get("port", {})
            if service is None:
                problems.append(
                    Problem(
                        f"{label} {describe(ingress)}",
                        f"backend Service {backend.get('name')!r} does not exist",
                    )
                )
            elif port.get("name", port.get("number")) not in _service_ports(service):
                problems.append(
                    Problem(
                        f"{label} {describe(ingress)}",
                        f"Service {backend['name']} has no port {port}",
                    )
                )
    return problems
