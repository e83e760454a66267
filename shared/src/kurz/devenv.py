"""`.local/dev/env`: where `kurz run` tells other terminals its Postgres and Redis are.

`kurz run` writes the file as shell exports; the `kurz` command reads it when
DATABASE_URL / REDIS_URL are not set, looking from the current folder upward, then in
the project the package was installed from. Variables already set always win.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

RELATIVE = Path(".local/dev/env")
# What the file may set: the addresses of the stack, and the short domain it serves.
VARIABLES = ("DATABASE_URL", "REDIS_URL", "KURZ_DEFAULT_DOMAIN")
_PROJECT_ROOT = Path(__file__).resolve().parents[3]  # shared/src/kurz → the checkout


def write_env(path: Path, values: Mapping[str, str]) -> None:
    lines = [f"export {name}={shlex.quote(values[name])}" for name in VARIABLES if name in values]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# written by `kurz run`: the running dev stack\n" + "\n".join(lines) + "\n")


def read_env(path: Path) -> dict[str, str]:
    """The exports of an env file; other lines and unknown names are ignored."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            if name in VARIABLES:
                found[name] = value
    return found


def find_env(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents, _PROJECT_ROOT):
        candidate = folder / RELATIVE
        if candidate.is_file():
            return candidate
    return None


def exports(values: Mapping[str, str]) -> str:
    return " ".join(f"{name}={shlex.quote(values[name])}" for name in VARIABLES if name in values)


def with_dev_env(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ`, with the dev stack's addresses filled in when neither is set."""
    env = dict(environ)
    if env.get("DATABASE_URL") or env.get("REDIS_URL"):
        return env
    path = find_env()
    if path is None:
        return env
    for name, value in read_env(path).items():
        if not env.get(name):
            env[name] = value
    return env


def current_environ() -> dict[str, str]:
    return with_dev_env(os.environ)
