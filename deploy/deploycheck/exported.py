"""What the services really export, read from their source: each prometheus_client metric
they define, against the catalogue. Reported as warnings while the services converge on the
catalogue's names; a dashboard panel on a metric nobody exports stays empty."""

from __future__ import annotations

import ast
from pathlib import Path

import msgspec

from deploycheck import Problem
from deploycheck.dashboard import REQUIRED_METRICS, Metric

_KINDS = {"Counter": "counter", "Gauge": "gauge", "Histogram": "histogram", "Summary": "summary"}
# Custom collectors (the redirector's) build metric families at scrape time instead.
_KINDS |= {f"{name}MetricFamily": kind for name, kind in _KINDS.items()}


class Defined(msgspec.Struct, frozen=True):
    name: str  # as exposed: counters carry _total
    kind: str
    labels: frozenset[str]
    where: str


def _labels(call: ast.Call) -> frozenset[str]:
    node = call.args[2] if len(call.args) >= 3 else None
    node = next((k.value for k in call.keywords if k.arg in ("labelnames", "labels")), node)
    if isinstance(node, ast.List | ast.Tuple):
        return frozenset(
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        )
    return frozenset()


def defined_metrics(sources: list[Path], root: Path) -> list[Defined]:
    found = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            first = node.args[0]
            if (
                func not in _KINDS
                or not isinstance(first, ast.Constant)
                or not isinstance(first.value, str)
            ):
                continue
            name = first.value
            if _KINDS[func] == "counter":
                name = name.removesuffix("_total") + "_total"
            where = f"{path.relative_to(root)}:{node.lineno}"
            found.append(Defined(name, _KINDS[func], _labels(node), where))
    return found


def service_sources(repo: Path) -> list[Path]:
    return sorted([*repo.glob("shared/src/kurz/**/*.py"), *repo.glob("services/*/src/**/*.py")])


def check_exported(defined: list[Defined], catalogue: dict[str, Metric]) -> list[Problem]:
    problems = []
    for metric in defined:
        entry = catalogue.get(metric.name)
        if entry is None:
            problems.append(
                Problem(metric.where, f"exports {metric.name}, which the catalogue lacks")
            )
        elif entry.kind != metric.kind or entry.labels != metric.labels:
            problems.append(
                Problem(
                    metric.where,
                    f"{metric.name} is a {metric.kind} labelled {sorted(metric.labels)}; "
                    f"the catalogue says {entry.kind} {sorted(entry.labels)}",
                )
            )
    names = {m.name for m in defined}
    problems += [
        Problem("docs/operations.md", f"{name} is exported by no service")
        for name in REQUIRED_METRICS
        if name not in names
    ]
    return problems
