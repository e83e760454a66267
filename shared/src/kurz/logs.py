"""Logs: one JSON object per line on stderr in production, one readable coloured line per
event under `kurz run` (KURZ_LOG_FORMAT=console). Every line names its service."""

from __future__ import annotations

import logging
import os
import re
import sys
import time

import msgspec

from kurz.settings import Settings

_encoder = msgspec.json.Encoder()
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}
# uvicorn attaches a copy of its message with terminal colours; a log store wants neither.
_DROPPED = {"color_message"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# uvicorn logs its server's life as "uvicorn.error": that name says what it is not.
_LOGGER_NAMES = {"uvicorn.error": "uvicorn.server", "uvicorn": "uvicorn.server"}
SERVICES = {
    "kurz_management": "management",
    "kurz_redirector": "redirector",
    "kurz_aggregator": "aggregator",
    "kurz_webhooks": "webhook-worker",
}


def service_of(app_path: str) -> str:
    """The service name of an app path such as "kurz_management.app:create_app"."""
    package = app_path.split(".", 1)[0].split(":", 1)[0]
    return SERVICES.get(package, package)


def _timestamp(record: logging.LogRecord) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        + f".{int(record.msecs):03d}Z"
    )


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD and key not in _DROPPED and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str = "kurz") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": _LOGGER_NAMES.get(record.name, record.name),
            "msg": _ANSI.sub("", record.getMessage()),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


class Sparse:
    """For a line that an outage would repeat on every request: at most one per
    `interval` seconds, each telling how many were left out since the last.

        if (skipped := sparse.due()) is not None:
            log.warning("click limit unavailable", extra={"skipped": skipped})
    """

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._next = 0.0
        self._skipped = 0

    def due(self) -> int | None:
        now = time.monotonic()
        if now < self._next:
            self._skipped += 1
            return None
        self._next = now + self.interval
        skipped, self._skipped = self._skipped, 0
        return skipped


_LEVEL_COLOURS = {"DEBUG": "2", "INFO": "32", "WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}
_SERVICE_COLOURS = ("36", "35", "34", "33", "32")


class ConsoleFormatter(logging.Formatter):
    """`12:00:01 management  INFO  uvicorn.server: message key=value`, for people."""

    def __init__(self, service: str = "kurz", colour: bool = False) -> None:
        super().__init__()
        self.service, self.colour = service, colour
        self.service_colour = _SERVICE_COLOURS[sum(service.encode()) % len(_SERVICE_COLOURS)]

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def format(self, record: logging.LogRecord) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(record.created))
        level = record.levelname
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = (
            f"{clock} {self._paint(f'{self.service:<14}', self.service_colour)} "
            f"{self._paint(f'{level:<7}', _LEVEL_COLOURS.get(level, '0'))} "
            f"{_LOGGER_NAMES.get(record.name, record.name)}: {_ANSI.sub('', record.getMessage())}"
            + (f"  {extras}" if extras else "")
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(
    level: str = "INFO", service: str = "kurz", *, fmt: str = "json", access_log: bool = False
) -> None:
    """Send every logger's records, uvicorn's included, to one stderr handler.
    `fmt` is "json" or "console"; `access_log` turns on uvicorn's line per request."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "console":
        colour = sys.stderr.isatty() and "NO_COLOR" not in os.environ
        handler.setFormatter(ConsoleFormatter(service, colour))
    else:
        handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Off by default (the click stream is the record of visits): uvicorn decides per
    # connection from `hasHandlers()`, and a logger that propagates to the root has one,
    # so every response would format its access line only for the level to drop it.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = access_log


def log_as(service: str, settings: Settings) -> None:
    """A service's logging, as its settings ask."""
    configure_logging(
        settings.log_level, service, fmt=settings.log_format, access_log=settings.access_log
    )
