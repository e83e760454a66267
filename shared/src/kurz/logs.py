"""Structured logs: one JSON object per line on stderr."""

from __future__ import annotations

import logging
import sys
import time

import msgspec

_encoder = msgspec.json.Encoder()
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
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


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # No access log (the click stream is the record of visits): uvicorn decides per
    # connection from `hasHandlers()`, and a logger that propagates to the root has one,
    # so every response would format its access line only for the level to drop it.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False
