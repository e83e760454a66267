"""The Grafana dashboard against the metrics catalogue in docs/operations.md: every metric it
queries is catalogued, histogram series are used only on histograms, and every label it groups
by belongs to a metric of the query (or to the scrape target)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec

from deploycheck import Problem

# The metrics the services export under these exact names (docs/operations.md describes them).
REQUIRED_METRICS = {
    "kurz_redirect_seconds": "histogram",
    "kurz_edge_cache_lookups_total": "counter",
    "kurz_click_events_total": "counter",
    "kurz_click_event_buffer": "gauge",
    "kurz_stream_lag": "gauge",
    "kurz_stream_bytes": "gauge",
    "kurz_stream_oldest_unacked_seconds": "gauge",
    "kurz_aggregator_batch_size": "histogram",
    "kurz_aggregator_commit_seconds": "histogram",
    "kurz_webhook_deliveries_total": "counter",
    "kurz_management_requests_total": "counter",
    "kurz_management_request_seconds": "histogram",
}
# Labels Prometheus attaches to every series from the scrape target, plus the histogram bucket.
TARGET_LABELS = frozenset({"le", "job", "instance", "namespace", "pod", "service", "container"})
_HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")
_ROW = re.compile(
    r"^\|\s*`(kurz_\w+)`\s*\|\s*(counter|gauge|histogram)\s*\|\s*([^|]*)\|", re.MULTILINE
)
_METRIC = re.compile(r"\bkurz_\w+")
_BY = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


class Metric(msgspec.Struct, frozen=True):
    kind: str
    labels: frozenset[str]


def parse_catalogue(markdown: str) -> dict[str, Metric]:
    """Rows `| `name` | type | `label`, `label` | ... |` of the catalogue table."""
    return {
        name: Metric(kind, frozenset(re.findall(r"`(\w+)`", labels)))
        for name, kind, labels in _ROW.findall(markdown)
    }


def check_catalogue(catalogue: dict[str, Metric]) -> list[Problem]:
    problems = [
        Problem("docs/operations.md", f"metrics catalogue lacks {name} ({kind})")
        for name, kind in REQUIRED_METRICS.items()
        if name not in catalogue or catalogue[name].kind != kind
    ]
    problems += [
        Problem("docs/operations.md", f"{name} is a counter: its name must end in _total")
        for name, metric in catalogue.items()
        if metric.kind == "counter" and not name.endswith("_total")
    ]
    return problems


def queries(dashboard: Any) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL) for every target and templating query, rows included."""
    if isinstance(dashboard, dict):
        title = str(dashboard.get("title", "?"))
        for key, value in dashboard.items():
            is_query = key == "expr" or (key == "query" and "kurz_" in str(value))
            if is_query and isinstance(value, str):
                yield title, value
            else:
                yield from ((t if t != "?" else title, q) for t, q in queries(value))
    elif isinstance(dashboard, list):
        for item in dashboard:
            yield from queries(item)


def _resolve(token: str, catalogue: dict[str, Metric]) -> Metric | None:
    if token in catalogue:
        return catalogue[token]
    for suffix in _HISTOGRAM_SERIES:
        base = token.removesuffix(suffix)
        if base != token and base in catalogue and catalogue[base].kind == "histogram":
            return catalogue[base]
    return None


def check_dashboard(dashboard: Any, catalogue: dict[str, Metric]) -> list[Problem]:
    problems = []
    found = list(queries(dashboard))
    if not found:
        return [Problem("grafana/kurz.json", "queries nothing")]
    for title, expr in found:
        where = f"grafana/kurz.json panel {title!r}"
        metrics = []
        for token in sorted(set(_METRIC.findall(expr))):
            metric = _resolve(token, catalogue)
            if metric is None:
                problems.append(
                    Problem(where, f"queries {token}, which is not in the metrics catalogue")
                )
            else:
                metrics.append(metric)
        labels = set(TARGET_LABELS).union(*(m.labels for m in metrics))
        for group in _BY.findall(expr):
            problems += [
                Problem(where, f"groups by {label!r}, a label none of its metrics has")
                for label in (part.strip() for part in group.split(","))
                if label and label not in labels
            ]
    return problems


def check_panels(dashboard: dict[str, Any]) -> list[Problem]:
    """Grafana needs unique panel ids and a grid position; each panel queries the datasource
    chosen in the dashboard's variable, so it works on any Prometheus."""
    problems = []
    panels = [p for p in dashboard.get("panels", [])] + [
        c for p in dashboard.get("panels", []) for c in p.get("panels", [])
    ]
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)):
        problems.append(Problem("grafana/kurz.json", "panel ids are not unique"))
    for panel in panels:
        where = f"grafana/kurz.json panel {panel.get('title')!r}"
        if "gridPos" not in panel:
            problems.append(Problem(where, "no gridPos"))
        if panel.get("type") != "row" and panel.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(Problem(where, "datasource is not the ${datasource} variable"))
        if panel.get("type") != "row" and not panel.get("targets"):
            problems.append(Problem(where, "no targets"))
    return problems
