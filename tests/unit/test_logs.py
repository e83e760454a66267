"""Log lines: JSON in production (service named, no terminal colours, uvicorn's server
logger under a name that says what it is), readable lines under `kurz run`."""

from __future__ import annotations

import json
import logging

from kurz.logs import ConsoleFormatter, JsonFormatter, service_of


def _uvicorn_record() -> logging.LogRecord:
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, "x.py", 1, "Started server process [%d]", (42,), None
    )
    record.color_message = "Started server process [\x1b[36m%d\x1b[0m]"  # as uvicorn sets it
    return record


def test_json_lines_name_the_service_and_carry_no_colours() -> None:
    line = JsonFormatter("management").format(_uvicorn_record())
    entry = json.loads(line)
    assert entry["service"] == "management"
    assert entry["logger"] == "uvicorn.server"
    assert entry["msg"] == "Started server process [42]"
    assert "color_message" not in entry and "\x1b" not in line


def test_ansi_inside_a_message_is_stripped() -> None:
    record = logging.LogRecord("kurz", logging.WARNING, "x.py", 1, "\x1b[31mred\x1b[0m", (), None)
    assert json.loads(JsonFormatter("redirector").format(record))["msg"] == "red"


def test_console_lines_start_with_the_service() -> None:
    plain = ConsoleFormatter("aggregator").format(_uvicorn_record())
    assert plain.split()[1:4] == ["aggregator", "INFO", "uvicorn.server:"]
    coloured = ConsoleFormatter("aggregator", colour=True).format(_uvicorn_record())
    assert "\x1b[" in coloured and "aggregator" in coloured


def test_service_names_come_from_the_app_path() -> None:
    assert service_of("kurz_webhooks.app:create_app") == "webhook-worker"
    assert service_of("kurz_management.app:create_app") == "management"
