"""The Vivoldi envelope `{"code", "message", "result"}` on every answer, and its error
codes, each numbered like the HTTP status of the same meaning; 0 is success.

Vivoldi's clients test `code` inside their success handler: a request kurz understood
and refuses (a bad parameter, an unknown group or link, a plan gate, a taken address)
answers HTTP 200 with its non-zero code. Only failures below the request's meaning keep
their HTTP status: no valid key, the wrong method, a body too large, the rate limit, a
fault or an outage."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import msgspec
from starlette.responses import Response

T = TypeVar("T")


class Code(enum.IntEnum):
    OK = 0
    INVALID = 400  # body not JSON, wrong shape, missing or invalid parameter
    UNAUTHORIZED = 401  # API key missing, unknown or revoked
    PLAN = 403  # the workspace's plan does not include the feature
    NOT_FOUND = 404  # no such group/link in the key's workspace, or unknown path
    METHOD = 405  # the path exists with another HTTP method
    CONFLICT = 409  # brandLinkId already taken on that domain
    TOO_LARGE = 413  # body over the configured size limit
    RATE_LIMITED = 429  # too many requests for this key; see Retry-After
    INTERNAL = 500  # a fault in kurz; logged
    UNAVAILABLE = 503  # Postgres or Redis did not answer; retry later


CODE_MEANINGS: dict[Code, str] = {
    Code.OK: "success",
    Code.INVALID: "invalid request: body not JSON, wrong shape, missing or invalid parameter",
    Code.UNAUTHORIZED: "API key missing, unknown or revoked",
    Code.PLAN: "the workspace's plan does not include this feature",
    Code.NOT_FOUND: "no such group or link in the key's workspace",
    Code.METHOD: "the path exists with another HTTP method",
    Code.CONFLICT: "the short link address (domain + brandLinkId) is taken",
    Code.TOO_LARGE: "request body over the size limit",
    Code.RATE_LIMITED: "rate limit exceeded for this API key; retry after Retry-After seconds",
    Code.INTERNAL: "internal error",
    Code.UNAVAILABLE: "a dependency (database or cache) is unavailable; retry later",
}


# Understood and refused: these travel with HTTP 200.
REFUSALS = frozenset({Code.INVALID, Code.PLAN, Code.NOT_FOUND, Code.CONFLICT})


def http_status(code: Code) -> int:
    """The HTTP status an answer with `code` travels with."""
    return 200 if code is Code.OK or code in REFUSALS else int(code)


class Envelope(msgspec.Struct, Generic[T]):
    """Fields:
    code: 0 on success, else the failure's code (400, 401, 403, 404, 405, 409, 413, 429,
        500, 503).
    message: Empty on success, else what went wrong.
    result: The answer; null on failure.
    """

    code: int
    message: str
    result: T


class VivoldiError(Exception):
    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def answer(
    result: Any, code: Code = Code.OK, message: str = "", headers: Mapping[str, str] | None = None
) -> Response:
    status = http_status(code)
    body = msgspec.json.encode(Envelope(int(code), message, result))
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def failure(error: VivoldiError, headers: Mapping[str, str] | None = None) -> Response:
    return answer(None, error.code, error.message, headers)
