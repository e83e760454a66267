"""The Dockerfile and compose file, read statically: the real ones pass, and each kind of
mistake (unpinned base, remote ADD, root user, missing module, wrong environment) is caught."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from deploycheck import COMPOSE, DOCKERFILE, REPO
from deploycheck.compose import check_compose, seconds
from deploycheck.dockerfile import check_dockerfile, final_stages, parse_image, parse_stages

DOCKERFILE_TEXT = DOCKERFILE.read_text()


def dockerfile_problems(text: str) -> str:
    return "\n".join(str(p) for p in check_dockerfile(text, REPO))


def test_dockerfile_passes() -> None:
    assert check_dockerfile(DOCKERFILE_TEXT, REPO) == []


def test_dockerfile_has_one_target_per_service() -> None:
    stages = parse_stages(DOCKERFILE_TEXT)
    assert [s.name for s in final_stages(stages)] == [
        "redirector",
        "management",
        "aggregator",
        "webhook-worker",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "ARG PYTHON_IMAGE=python:3.11-slim-bookworm",
            "ARG PYTHON_IMAGE=python:latest",
            "'python:latest' is not pinned",
        ),
        (
            "ARG PYTHON_IMAGE=python:3.11-slim-bookworm",
            "ARG PYTHON_IMAGE=python",
            "'python' is not pinned",
        ),
        (
            "FROM ghcr.io/astral-sh/uv:0.13.9 AS uv",
            "FROM ghcr.io/astral-sh/uv:latest AS uv",
            "uv:latest' is not pinned",
        ),
        (
            "COPY --from=uv /uv",
            "COPY --from=ghcr.io/astral-sh/uv /uv",
            "COPY --from=ghcr.io/astral-sh/uv is not pinned",
        ),
        (
            "WORKDIR /src\n",
            "WORKDIR /src\nADD https://example.com/tool.tgz /tmp/\n",
            "ADD of a URL",
        ),
        (
            "COPY services/redirector services/redirector",
            "COPY services/edge services/edge",
            "services/edge does not exist",
        ),
        (
            "uv sync --frozen --no-dev --no-editable --package kurz-redirector",
            "uv sync --no-dev --no-editable --package kurz-redirector",
            "uv sync without --frozen",
        ),
        ("USER 10001:10001\nEXPOSE 8080", "EXPOSE 8080", "Dockerfile target redirector: no USER"),
        ("USER 10001:10001\nEXPOSE 8080", "USER kurz\nEXPOSE 8080", "USER kurz is not numeric"),
        ("USER 10001:10001\nEXPOSE 8080", "USER 0\nEXPOSE 8080", "USER is root"),
        (
            'CMD ["python", "-m", "kurz_redirector"]',
            'CMD ["python", "-m", "kurz_edge"]',
            "no kurz_edge/__main__.py",
        ),
        (
            'CMD ["python", "-m", "kurz_redirector"]',
            "CMD python -m kurz_redirector",
            "no CMD or ENTRYPOINT in exec (JSON) form",
        ),
        (
            'CMD ["python", "-m", "kurz_redirector"]',
            'CMD ["gunicorn", "app"]',
            "neither `python -m <module>`",
        ),
        (
            "COPY --from=build-redirector /app/.venv",
            "COPY --from=build-aggregator /app/.venv",
            "runs kurz_redirector, but its environment is synced for package kurz-aggregator",
        ),
        (
            "EXPOSE 8080",
            "EXPOSE 9090",
            "kurz_redirector listens on 8080 by default, which is not EXPOSEd",
        ),
        (
            "FROM ${PYTHON_IMAGE} AS runtime",
            "FROM debian:12.7-slim AS runtime",
            "is not python:3.11-slim",
        ),
    ],
)
def test_broken_dockerfile_is_reported(old: str, new: str, expected: str) -> None:
    assert old in DOCKERFILE_TEXT
    assert expected in dockerfile_problems(DOCKERFILE_TEXT.replace(old, new, 1))


def test_unparsable_dockerfile_is_reported() -> None:
    assert "Dockerfile: does not parse" in dockerfile_problems("# nothing here\n")
    assert "Dockerfile: has no stages" in dockerfile_problems("ARG ONLY=1\n")


@pytest.mark.parametrize(
    ("reference", "repository", "tag", "pinned"),
    [
        (
            "registry.example.com:5000/kurz-redirector:1.0.0",
            "registry.example.com:5000/kurz-redirector",
            "1.0.0",
            True,
        ),
        ("kurz-redirector", "kurz-redirector", None, False),
        ("kurz-redirector:latest", "kurz-redirector", "latest", False),
        ("python:3.11-slim@sha256:abc", "python", "3.11-slim", True),
        ("python@sha256:abc", "python", None, True),
    ],
)
def test_image_references(reference: str, repository: str, tag: str | None, pinned: bool) -> None:
    image = parse_image(reference)
    assert (image.repository, image.tag, image.pinned) == (repository, tag, pinned)


def compose_problems(data: dict[str, Any]) -> str:
    stages = parse_stages(DOCKERFILE_TEXT)
    return "\n".join(str(p) for p in check_compose(data, stages, COMPOSE.parent))


@pytest.fixture
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_passes(compose: dict[str, Any]) -> None:
    assert compose_problems(compose) == ""
    assert {
        "postgres",
        "redis",
        "migrate",
        "redirector",
        "management",
        "aggregator",
        "webhook-worker",
    } <= set(compose["services"])
    assert compose["services"]["migrate"]["command"] == ["kurz", "migrate"]


@pytest.mark.parametrize(
    ("service", "change", "expected"),
    [
        ("redirector", {"read_only": False}, "read_only is not true"),
        ("redirector", {"user": "root"}, "is not a numeric non-root UID"),
        ("redirector", {"cap_drop": []}, "cap_drop does not include ALL"),
        ("redirector", {"tmpfs": []}, "no tmpfs at /tmp"),
        ("redirector", {"image": "kurz-edge:local"}, "is not kurz-redirector"),
        (
            "redirector",
            {
                "build": {
                    "context": "..",
                    "dockerfile": "deploy/docker/Dockerfile",
                    "target": "edge",
                }
            },
            "build.target 'edge' is not a Dockerfile target",
        ),
        (
            "redirector",
            {"build": {"context": "..", "dockerfile": "Dockerfile", "target": "redirector"}},
            "build.dockerfile",
        ),
        (
            "redirector",
            {"stop_grace_period": "5s"},
            "stop_grace_period is under KURZ_SHUTDOWN_GRACE 10 s",
        ),
        (
            "aggregator",
            {"environment": {"KURZ_NOPE": "1"}},
            "sets KURZ_NOPE, which kurz does not read",
        ),
        ("aggregator", {"environment": ["KURZ_SHUTDOWN_GRACE=soon"]}, "invalid settings"),
        ("postgres", {"image": "postgres"}, "image 'postgres' is not pinned"),
        (
            "webhook-worker",
            {"depends_on": {"redis": {"condition": "service_healthy"}}},
            "does not wait for migrate",
        ),
    ],
)
def test_broken_compose_is_reported(
    compose: dict[str, Any], service: str, change: dict[str, Any], expected: str
) -> None:
    compose["services"][service].update(change)
    assert expected in compose_problems(compose)


def test_compose_durations() -> None:
    assert [seconds("20s"), seconds("1m30s"), seconds("500ms"), seconds("")] == [20, 90, 0.5, 10]


def test_compose_builds_from_the_repository_root(compose: dict[str, Any]) -> None:
    build = compose["services"]["redirector"]["build"]
    assert (COMPOSE.parent / build["context"]).resolve() == REPO
    assert Path(REPO, build["dockerfile"]) == DOCKERFILE
