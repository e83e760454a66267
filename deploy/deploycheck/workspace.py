"""What the repository offers an image: workspace packages, their modules, entry points and
default ports, read from pyproject files and sources."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path


def _pyprojects(repo: Path) -> list[Path]:
    return [repo / "shared" / "pyproject.toml", *sorted(repo.glob("services/*/pyproject.toml"))]


def workspace_packages(repo: Path) -> dict[str, str]:
    """Distribution name → importable module, from each workspace member's pyproject."""
    found = {}
    for pyproject in _pyprojects(repo):
        data = tomllib.loads(pyproject.read_text())
        for package in data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
            found[data["project"]["name"]] = Path(package).name
    return found


def module_exists(repo: Path, module: str) -> bool:
    return any(
        (src / module / "__main__.py").is_file()
        for src in [repo / "shared" / "src", *repo.glob("services/*/src")]
    )


def default_port(repo: Path, module: str) -> int | None:
    """The port a service's __main__ passes to kurz.serve.serve, if it says so literally."""
    for main in (src / module / "__main__.py" for src in repo.glob("services/*/src")):
        if not main.is_file():
            continue
        for node in ast.walk(ast.parse(main.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "serve"
                and len(node.args) >= 3
                and isinstance(node.args[2], ast.Constant)
                and isinstance(node.args[2].value, int)
            ):
                return int(node.args[2].value)
    return None


def console_scripts(repo: Path) -> set[str]:
    scripts: set[str] = set()
    for pyproject in _pyprojects(repo):
        scripts |= set(tomllib.loads(pyproject.read_text()).get("project", {}).get("scripts", {}))
    return scripts
