"""Schemathesis, with every check it has, over every operation of the live document.

The request schemas declare the server's constraints (ranges, lengths, patterns, formats)
and the response schemas what it answers, so none of its checks may fail: the server
accepts every request the document allows (positive_data_acceptance), refuses what the
document forbids (negative_data_rejection), answers only documented statuses, content
types, bodies and Allow headers, and so on.

The run is the `st` command itself over the management process on 127.0.0.1, in a
subprocess, deterministic (`--generation-deterministic`) and bounded by a number of
examples per operation. The key reaches the server through the document's own security
schemes (schemathesis's `auth.openapi` configuration), never as a fixed header, so the
cases without a key stay cases without a key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Workspace
from tests.support.services import Service

EXAMPLES_PER_OPERATION = 25
RUN_TIMEOUT = 900


def config(ws: Workspace) -> str:
    """schemathesis.toml: each security scheme of the document gets the workspace's key,
    in the form its family reads; Linkly's `{ws}` path names the key's own workspace."""
    return "\n".join(
        [
            "[auth.openapi.bearer]",
            f'bearer = "{ws.key}"',
            "[auth.openapi.vivoldi_key]",
            f'api_key = "APIKey {ws.key}"',
            "[auth.openapi.linkly_key]",
            f'api_key = "{ws.key}"',
            "[parameters]",
            f'"path.ws" = "{ws.id}"',
            "",
        ]
    )


def run_schemathesis(url: str, ws: Workspace, tmp: Path) -> tuple[dict[str, object], str]:
    settings = tmp / "schemathesis.toml"
    settings.write_text(config(ws))
    report = tmp / "report.json"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(settings),
        "run",
        f"{url}/openapi.json",
        "--checks=all",
        f"--max-examples={EXAMPLES_PER_OPERATION}",
        "--generation-deterministic",
        "--continue-on-failure",
        "--workers=2",
        "--request-timeout=30",
        "--no-color",
        "--output-truncate=false",
        "--report=json",
        f"--report-json-path={report}",
    ]
    done = subprocess.run(
        command, cwd=tmp, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )
    if not report.exists():
        raise AssertionError(f"schemathesis wrote no report:\n{done.stdout}\n{done.stderr}")
    return json.loads(report.read_text()), done.stdout


@pytest.mark.xfail(
    strict=True,
    reason="not every constraint is declared yet: cross-field rules (analytics filters and "
    "ranges, a link's url by its linkType, Linkly's url unless id), Vivoldi's date-time and "
    "link-id shapes, integral floats for integers, webhook targets that must resolve",
)
def test_schemathesis_with_every_check_finds_nothing(
    management: Service, workspace: Workspace, tmp_path: Path
) -> None:
    result, output = run_schemathesis(management.url, workspace, tmp_path)
    operations = result["operations"]
    assert isinstance(operations, dict)
    assert result["complete"] and result["stop_reason"] == "completed", output[-5000:]
    assert operations["tested"] == operations["selected"] == operations["total"] > 50
    assert not result["errors"], output[-20000:]
    assert not result["failures"], output[-30000:]
