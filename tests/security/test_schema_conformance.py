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
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Workspace
from tests.support.services import Service

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 25
RUN_TIMEOUT = 900


# Rules between parameters, or on the workspace's own state, that JSON Schema cannot
# state: the statuses that answer them are expected for schema-valid requests too, each
# only on the operations that have such a rule. Every other check stays strict.
ALLOWANCES: list[tuple[str, str, list[str]]] = [
    # One filter at a time (link_id, group_id or tag_id); start not after end; a span of
    # at most a year.
    ("path-regex", "^/api/v1/analytics/", ["400"]),
    # start not after end.
    ("path-regex", "^/api/v1/workspace/\\{ws\\}/clicks", ["400"]),
    # A link's fields against each other and the workspace: url unless an id (batches),
    # one of the workspace's domains, a start before the expiry, raw tags only on a
    # custom domain, webhook hosts that resolve to public addresses; rules only in a
    # JSON body (a form cannot carry them).
    ("path-regex", "^/api/v1/links(/bulk|/\\{link_id\\})?$", ["422"]),
    ("path-regex", "^/api/v1/link$|^/api/v1/workspace/\\{ws\\}/links$", ["400", "422"]),
    # Webhook hosts must resolve, and only to public addresses.
    ("path-regex", "webhooks$", ["422"]),
    # Exactly one of linkId and groupId.
    ("path-regex", "^/api/v1/push/messages$", ["422"]),
    # Vivoldi, as its clients read the answer: a link's domain of the workspace, its group
    # in the workspace, webhook hosts that resolve; start not after end, linkId or grpIdx.
    ("path-regex", "^/api/link(-group)?/v[12]/(create|createBulk|update)$", ["400"]),
    ("path-regex", "^/api/link/v2/clicks-by-group$|^/api/statistics/", ["400"]),
]
ACCEPTED = ["2xx", "401", "403", "404", "409", "429"]


def config(ws: Workspace) -> str:
    """schemathesis.toml: each security scheme of the document gets the workspace's key,
    in the form its family reads; Linkly's `{ws}` path names the key's own workspace.
    Vivoldi answers are judged as its clients read them (tests.support.schemathesis_checks);
    the allowances above are the only other changes."""
    lines = [
        "[auth.openapi.bearer]",
        f'bearer = "{ws.key}"',
        "[auth.openapi.vivoldi_key]",
        f'api_key = "APIKey {ws.key}"',
        "[auth.openapi.linkly_key]",
        f'api_key = "{ws.key}"',
        "[parameters]",
        f'"path.ws" = "{ws.id}"',
    ]
    for kind, value, statuses in ALLOWANCES:
        lines += [
            "[[operations]]",
            f"include-{kind} = '{value}'",
            f"checks.positive_data_acceptance.expected-statuses = {ACCEPTED + statuses}",
        ]
    return "\n".join([*lines, ""])


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
        # One worker: with two threads, Python 3.11's ast.parse (which Hypothesis calls
        # to describe its filters) failed inside schemathesis ("AST constructor
        # recursion depth mismatch"), a run that tested nothing.
        "--workers=1",
        "--request-timeout=30",
        "--no-color",
        "--output-truncate=false",
        "--report=json",
        f"--report-json-path={report}",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_checks",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
        check=False,
    )  # fmt: skip
    if not report.exists():
        raise AssertionError(f"schemathesis wrote no report:\n{done.stdout}\n{done.stderr}")
    return json.loads(report.read_text()), done.stdout


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
