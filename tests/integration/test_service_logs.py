"""A real service's log lines: JSON with its service name and no terminal colours, the
server's own lines under `uvicorn.server`; with KURZ_ACCESS_LOG=true, a line per
request."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support.services import Stack, service_env


@pytest.mark.parametrize("access_log", ["false", "true"])
def test_json_lines_name_the_service(
    access_log: str, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = service_env(database_url, redis_url, KURZ_ACCESS_LOG=access_log)
    stack = Stack(env, tmp_path)
    service = stack.add("management").start()
    try:
        assert httpx.get(f"{service.url}/healthz").status_code == 200
    finally:
        stack.stop()
    text = service.log.read_text()
    assert "\x1b[" not in text and "color_message" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines and all(entry["service"] == "management" for entry in lines)
    assert any(entry["logger"] == "uvicorn.server" for entry in lines)
    assert not any(entry["logger"] == "uvicorn.error" for entry in lines)
    requests = [e for e in lines if e["logger"] == "uvicorn.access" and "/healthz" in e["msg"]]
    assert len(requests) == (1 if access_log == "true" else 0)
