"""The Grafana dashboard queries only catalogued metrics with their own labels, and the
operations guide documents every setting."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from deploycheck import DASHBOARD, OPERATIONS_DOC
from deploycheck.dashboard import (
    REQUIRED_METRICS,
    check_catalogue,
    check_dashboard,
    check_panels,
    parse_catalogue,
    queries,
)
from deploycheck.environment import check_documented
from deploycheck.exported import Defined, check_exported, defined_metrics

MARKDOWN = OPERATIONS_DOC.read_text()
CATALOGUE = parse_catalogue(MARKDOWN)


@pytest.fixture
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def test_catalogue_lists_the_agreed_metrics() -> None:
    assert check_catalogue(CATALOGUE) == []
    assert CATALOGUE["kurz_stream_lag"].labels >= {"group"}
    assert CATALOGUE["kurz_redirect_seconds"].labels == {"outcome"}


def test_dashboard_queries_only_catalogued_metrics(dashboard: dict[str, Any]) -> None:
    assert check_dashboard(dashboard, CATALOGUE) == []
    assert check_panels(dashboard) == []


def test_dashboard_covers_every_agreed_metric(dashboard: dict[str, Any]) -> None:
    text = " ".join(expr for _, expr in queries(dashboard))
    assert [name for name in REQUIRED_METRICS if name not in text] == []


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            "sum(rate(kurz_redirects_total[5m]))",
            "queries kurz_redirects_total, which is not in the metrics catalogue",
        ),
        ("sum(kurz_click_event_buffer_bucket)", "queries kurz_click_event_buffer_bucket"),
        ("sum by (region) (rate(kurz_redirect_seconds_count[5m]))", "groups by 'region'"),
        ("sum by (group) (rate(kurz_management_requests_total[5m]))", "groups by 'group'"),
    ],
)
def test_broken_dashboard_query_is_reported(
    dashboard: dict[str, Any], expr: str, expected: str
) -> None:
    panel = next(p for p in dashboard["panels"] if p["type"] != "row")
    panel["targets"][0]["expr"] = expr
    found = "\n".join(str(p) for p in check_dashboard(dashboard, CATALOGUE))
    assert expected in found
    assert repr(panel["title"]) in found


def test_broken_panels_are_reported(dashboard: dict[str, Any]) -> None:
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    panels[1]["id"] = panels[0]["id"]
    panels[2]["datasource"] = {"type": "prometheus", "uid": "my-prometheus"}
    panels[3]["targets"] = []
    found = "\n".join(str(p) for p in check_panels(dashboard))
    assert "panel ids are not unique" in found
    assert f"{panels[2]['title']!r}: datasource is not the ${{datasource}} variable" in found
    assert f"{panels[3]['title']!r}: no targets" in found


def test_empty_dashboard_is_reported() -> None:
    assert "queries nothing" in str(check_dashboard({"panels": []}, CATALOGUE)[0])


def test_incomplete_catalogue_is_reported() -> None:
    broken = copy.copy(CATALOGUE)
    del broken["kurz_stream_lag"]
    broken["kurz_redirects"] = broken["kurz_edge_cache_lookups_total"]
    found = "\n".join(str(p) for p in check_catalogue(broken))
    assert "lacks kurz_stream_lag (gauge)" in found
    assert "kurz_redirects is a counter: its name must end in _total" in found


def test_catalogue_parses_the_table_rows() -> None:
    row = "| `kurz_x_total` | counter | `route`, `status` | management | requests |\n"
    assert parse_catalogue(row)["kurz_x_total"].labels == {"route", "status"}
    assert parse_catalogue("| kurz_x_total | counter | | | |\n") == {}


def test_every_setting_is_documented() -> None:
    """A new variable in kurz.settings needs a row in docs/operations.md's configuration table."""
    assert [str(p) for p in check_documented(MARKDOWN)] == []


def test_undocumented_setting_is_reported() -> None:
    unquoted = MARKDOWN.replace("`KURZ_EDGE_SPOOL_BYTES`", "KURZ_EDGE_SPOOL_BYTES")
    found = [str(p) for p in check_documented(unquoted)]
    assert "docs/operations.md: does not document KURZ_EDGE_SPOOL_BYTES" in found


def _write(tmp_path: Path, source: str) -> list[Defined]:
    path = tmp_path / "metrics.py"
    path.write_text(source)
    found: list[Defined] = defined_metrics([path], tmp_path)
    return found


def test_exported_metrics_are_read_from_source(tmp_path: Path) -> None:
    defined = _write(
        tmp_path,
        (
            "from prometheus_client import Counter, Histogram\n"
            "from prometheus_client.core import GaugeMetricFamily\n"
            "A = Counter('kurz_webhook_deliveries', 'x', ['result'])\n"
            "B = Histogram('kurz_api_request_seconds', 'x', labelnames=('route', 'method'))\n"
            "def collect():\n"
            "    yield GaugeMetricFamily('kurz_events_buffered', 'x', 3)\n"
        ),
    )
    assert [(d.name, d.kind, d.labels, d.where) for d in defined] == [
        ("kurz_webhook_deliveries_total", "counter", {"result"}, "metrics.py:3"),
        ("kurz_api_request_seconds", "histogram", {"route", "method"}, "metrics.py:4"),
        ("kurz_events_buffered", "gauge", frozenset(), "metrics.py:6"),
    ]
    found = [str(p) for p in check_exported(defined, CATALOGUE)]
    assert "metrics.py:3" not in " ".join(found)
    assert "docs/operations.md: kurz_stream_lag is exported by no service" in found


def test_exported_metric_mismatches_are_reported(tmp_path: Path) -> None:
    defined = _write(
        tmp_path,
        (
            "from prometheus_client import Counter, Gauge\n"
            "A = Counter('kurz_edge_cache_sizes_total', 'x', ['result'])\n"
            "B = Gauge('kurz_stream_lag', 'x', ['consumer'])\n"
        ),
    )
    found = [str(p) for p in check_exported(defined, CATALOGUE)]
    assert "metrics.py:2: exports kurz_edge_cache_sizes_total, which the catalogue lacks" in found
    assert any(
        p.startswith("metrics.py:3: kurz_stream_lag is a gauge labelled ['consumer']")
        for p in found
    )
