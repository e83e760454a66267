"""deploy/docker/Dockerfile, read statically (no Docker engine needed): pinned base images,
no remote ADD, and per final stage a non-root numeric USER, a command that exists in the
repository, and a virtual environment synced from the lock for that command's package."""

from __future__ import annotations

import re
from pathlib import Path

import dockerfile
import msgspec

from deploycheck import Problem
from deploycheck.workspace import console_scripts, default_port, module_exists, workspace_packages

_ARG = re.compile(r"\$\{(\w+)\}|\$(\w+)")
RUNTIME_BASE = re.compile(r"^python:3\.11(\.\d+)?-slim")


class Stage(msgspec.Struct):
    name: str
    base: str  # an image reference, or the name of an earlier stage
    commands: list[dockerfile.Command]


class ImageRef(msgspec.Struct, frozen=True):
    repository: str  # registry and path, e.g. registry.example.com/kurz-redirector
    tag: str | None
    digest: str | None

    @property
    def basename(self) -> str:
        return self.repository.rsplit("/", 1)[-1]

    @property
    def pinned(self) -> bool:
        return self.digest is not None or (
            self.tag is not None and self.tag != "latest" and any(c.isdigit() for c in self.tag)
        )


def parse_image(reference: str) -> ImageRef:
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return ImageRef(name[:colon], name[colon + 1 :], digest or None)
    return ImageRef(name, None, digest or None)


def parse_stages(text: str) -> list[Stage]:
    """Stages in order; unnamed ones are called by their index, as `--from=0` would."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for command in dockerfile.parse_string(text):
        if command.cmd == "ARG" and not stages:
            name, _, default = command.value[0].partition("=")
            args[name] = default
        elif command.cmd == "FROM":
            base = _ARG.sub(lambda m: args.get(m.group(1) or m.group(2), ""), command.value[0])
            named = len(command.value) >= 3 and command.value[1].upper() == "AS"
            stages.append(Stage(command.value[2] if named else str(len(stages)), base, []))
        elif stages:
            stages[-1].commands.append(command)
    return stages


def _flag(command: dockerfile.Command, name: str) -> str | None:
    for flag in command.flags:
        key, _, value = flag.partition("=")
        if key == f"--{name}":
            return str(value)
    return None


def final_stages(stages: list[Stage]) -> list[Stage]:
    """The build targets: stages no other stage builds on or copies from."""
    used = {s.base for s in stages}
    used |= {
        source
        for s in stages
        for c in s.commands
        if c.cmd == "COPY" and (source := _flag(c, "from")) is not None
    }
    return [s for s in stages if s.name not in used and not s.name.isdigit()]


def chain(stages: list[Stage], stage: Stage) -> list[Stage]:
    """The stage and the earlier stages it is built on, nearest first."""
    by_name = {s.name: s for s in stages}
    found = [stage]
    while found[-1].base in by_name:
        found.append(by_name[found[-1].base])
    return found


def last(stages: list[Stage], stage: Stage, instruction: str) -> dockerfile.Command | None:
    """The instruction in effect for a stage, inherited from the stages it builds on."""
    for ancestor in chain(stages, stage):
        for command in reversed(ancestor.commands):
            if command.cmd == instruction:
                return command
    return None


def exposed_ports(stages: list[Stage], stage: Stage) -> set[int]:
    return {
        int(port.split("/")[0])
        for s in chain(stages, stage)
        for c in s.commands
        if c.cmd == "EXPOSE"
        for port in c.value
    }


_REMOTE = re.compile(r"^(https?|git|ssh)://|^git@")


def _check_sources(stages: list[Stage], repo: Path) -> list[Problem]:
    """Pinned images, no remote ADD, local COPY sources that exist, frozen syncs."""
    names = {s.name for s in stages}
    problems = []
    for stage in stages:
        where = f"Dockerfile stage {stage.name}"
        if (
            stage.base not in names
            and stage.base != "scratch"
            and not parse_image(stage.base).pinned
        ):
            problems.append(
                Problem(
                    where, f"base image {stage.base!r} is not pinned to a version tag or digest"
                )
            )
        for command in stage.commands:
            sources = command.value[:-1]
            if command.cmd == "ADD" and any(_REMOTE.match(s) for s in sources):
                problems.append(
                    Problem(
                        where,
                        f"line {command.start_line}: ADD of a URL (download in a checked RUN step)",
                    )
                )
            copy_from = _flag(command, "from") if command.cmd == "COPY" else None
            if (
                copy_from is not None
                and copy_from not in names
                and not parse_image(copy_from).pinned
            ):
                problems.append(Problem(where, f"COPY --from={copy_from} is not pinned"))
            if command.cmd in ("COPY", "ADD") and copy_from is None:
                problems += [
                    Problem(
                        where,
                        f"line {command.start_line}: {source} does not exist in the repository",
                    )
                    for source in sources
                    if not _REMOTE.match(source) and not any(repo.glob(source.rstrip("/")))
                ]
            if (
                command.cmd == "RUN"
                and "uv sync" in command.value[0]
                and "--frozen" not in command.value[0]
            ):
                problems.append(
                    Problem(where, f"line {command.start_line}: uv sync without --frozen")
                )
    return problems


def _synced_package(stages: list[Stage], stage: Stage) -> str | None:
    """The package whose environment the stage copies in as /app/.venv."""
    by_name = {s.name: s for s in stages}
    for ancestor in chain(stages, stage):
        for command in ancestor.commands:
            source = by_name.get(_flag(command, "from") or "") if command.cmd == "COPY" else None
            if source is None or "/app/.venv" not in command.value:
                continue
            for run in (c for s in chain(stages, source) for c in s.commands if c.cmd == "RUN"):
                match = re.search(r"uv sync\b.*--no-dev.*--package[ =](\S+)", run.value[0])
                if match and "--no-install-workspace" not in run.value[0]:
                    return match.group(1)
    return None


def _check_command(stages: list[Stage], stage: Stage, repo: Path, where: str) -> list[Problem]:
    command = last(stages, stage, "ENTRYPOINT") or last(stages, stage, "CMD")
    if command is None or not command.json:
        return [
            Problem(where, "no CMD or ENTRYPOINT in exec (JSON) form: SIGTERM must reach Python")
        ]
    argv = list(command.value)
    if argv[:2] != ["python", "-m"] or len(argv) < 3:
        if argv[0] in console_scripts(repo):
            return []
        return [
            Problem(
                where, f"command {argv} is neither `python -m <module>` nor a kurz console script"
            )
        ]
    module = argv[2]
    problems = []
    if not module_exists(repo, module):
        problems.append(
            Problem(
                where,
                f"runs `python -m {module}`, but no {module}/__main__.py exists in the repository",
            )
        )
    port = default_port(repo, module)
    if port is not None and port not in exposed_ports(stages, stage):
        problems.append(
            Problem(where, f"{module} listens on {port} by default, which is not EXPOSEd")
        )
    package = _synced_package(stages, stage)
    if package is None:
        problems.append(
            Problem(
                where, "copies in no /app/.venv built by `uv sync --frozen --no-dev --package ...`"
            )
        )
    elif workspace_packages(repo).get(package) != module:
        problems.append(
            Problem(where, f"runs {module}, but its environment is synced for package {package}")
        )
    return problems


def _check_target(stages: list[Stage], stage: Stage, repo: Path) -> list[Problem]:
    where = f"Dockerfile target {stage.name}"
    problems = []
    user = last(stages, stage, "USER")
    uid = user.value[0].split(":")[0] if user else None
    if uid is None:
        problems.append(Problem(where, "no USER: the image would run as root"))
    elif not uid.isdigit():
        problems.append(
            Problem(where, f"USER {uid} is not numeric: Kubernetes checks runAsNonRoot by UID")
        )
    elif int(uid) == 0:
        problems.append(Problem(where, "USER is root (0)"))
    root = chain(stages, stage)[-1].base
    if not RUNTIME_BASE.match(root):
        problems.append(Problem(where, f"runtime image {root!r} is not python:3.11-slim"))
    if not exposed_ports(stages, stage):
        problems.append(Problem(where, "EXPOSEs no port"))
    return problems + _check_command(stages, stage, repo, where)


def check_dockerfile(text: str, repo: Path) -> list[Problem]:
    try:
        stages = parse_stages(text)
    except dockerfile.GoParseError as exc:
        return [Problem("Dockerfile", f"does not parse: {exc}")]
    if not stages:
        return [Problem("Dockerfile", "has no stages")]
    problems = _check_sources(stages, repo)
    for stage in final_stages(stages):
        problems += _check_target(stages, stage, repo)
    return problems
