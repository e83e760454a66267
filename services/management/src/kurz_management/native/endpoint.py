"""What every native endpoint does around its handler: Bearer auth, rate limit, body
decoding with a size limit, and every refusal as `{"error": "..."}` with its status."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from kurz.validation import parse_id
from starlette.requests import Request
from starlette.responses import Response

from kurz_management.access import AccessRefused, admit, client_address
from kurz_management.body import BodyTooLarge, decode_json, read_limited
from kurz_management.constraints import query_breach
from kurz_management.context import AppContext, context
from kurz_management.core.auth import Principal
from kurz_management.core.faults import (
    BAD_VALUE_ERRORS,
    BAD_VALUE_MESSAGE,
    UNAVAILABLE_ERRORS,
    UNAVAILABLE_MESSAGE,
)
from kurz_management.core.links.service import LinkError
from kurz_management.native.convert import body_field
from kurz_management.validation_errors import explained

log = logging.getLogger(__name__)
T = TypeVar("T")

STATUS_OF_KIND = {
    "invalid": 422,
    "conflict": 409,
    "not_found": 404,
    "forbidden": 403,
    "unavailable": 503,
}
_encoder = msgspec.json.Encoder()


class NativeError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(body: Any, status: int = 200) -> Response:
    return Response(_encoder.encode(body), status_code=status, media_type="application/json")


def error_response(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


def link_error_message(error: LinkError) -> str:
    field = body_field(error.field)
    return f"{field}: {error.message}" if field and field not in error.message else error.message


@dataclass
class Call:
    request: Request
    ctx: AppContext
    principal: Principal

    @property
    def site(self) -> str:
        """The server's base URL as the client reached it, without a trailing slash."""
        return str(self.request.base_url).rstrip("/")

    async def body(self, body_type: type[T]) -> T:
        raw = await read_body(self.request, self.ctx.settings.api.max_body_bytes)
        if not raw.strip():
            raise NativeError(400, "a JSON body is required")
        try:
            return decode_json(raw, body_type)
        except msgspec.ValidationError as exc:
            raise NativeError(400, f"invalid body: {explained(exc, body_type)}") from None
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # bad UTF-8 inside a string
            raise NativeError(400, f"malformed JSON: {exc}") from None

    def query(self, query_type: type[T]) -> T:
        params = dict(self.request.query_params)
        if breach := query_breach(query_type, params):
            raise NativeError(400, f"invalid query: {breach[1]}")
        try:
            return msgspec.convert(params, query_type, strict=False)
        except msgspec.ValidationError as exc:
            raise NativeError(400, f"invalid query: {explained(exc, query_type)}") from None

    def path_id(self, name: str = "link_id") -> int:
        raw = self.request.path_params[name]
        found = parse_id(raw)
        if found is None:
            raise NativeError(404, f"no such id {raw!r}")
        return found


async def read_body(request: Request, limit: int) -> bytes:
    """The body under the size limit (kurz_management.body), refused with 413."""
    try:
        return await read_limited(request, limit)
    except BodyTooLarge as exc:
        raise NativeError(413, str(exc)) from None


def bearer_key(request: Request) -> str | None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


Handler = Callable[[Call], Awaitable[Response]]


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        ctx = context(request)
        headers: dict[str, str] = {}
        try:
            access = await admit(ctx, bearer_key(request), client_address(request))
            headers = access.headers()
            response = await handler(Call(request, ctx, access.principal))
        except AccessRefused as exc:
            headers = exc.headers()
            refused = exc.rate_message() if exc.reason == "rate_limited" else _NO_KEY
            response = error_response(exc.status, refused)
        except NativeError as exc:
            response = error_response(exc.status, exc.message)
        except LinkError as exc:
            response = error_response(STATUS_OF_KIND[exc.kind], link_error_message(exc))
        except BAD_VALUE_ERRORS:
            response = error_response(400, BAD_VALUE_MESSAGE)
        except UNAVAILABLE_ERRORS as exc:
            log.warning("native %s: dependency unavailable: %r", request.url.path, exc)
            response = error_response(503, UNAVAILABLE_MESSAGE)
        except Exception:
            log.exception("native %s %s failed", request.method, request.url.path)
            response = error_response(500, "internal error")
        response.headers.update(headers)
        return response

    run.__name__ = f"native_{handler.__name__}"
    return run


_NO_KEY = "missing or invalid API key (Authorization: Bearer <key>)"
