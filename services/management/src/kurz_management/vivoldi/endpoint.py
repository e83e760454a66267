"""One Vivoldi endpoint: API key, rate limit, request decoding and error mapping, so
each handler only maps its request onto a use case and renders the result."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from kurz_management.access import AccessRefused, admit, client_address
from kurz_management.body import BodyTooLarge, read_limited
from kurz_management.constraints import query_breach
from kurz_management.context import AppContext, context
from kurz_management.core.auth import Principal
from kurz_management.core.faults import (
    BAD_VALUE_ERRORS,
    BAD_VALUE_MESSAGE,
    UNAVAILABLE_ERRORS,
    UNAVAILABLE_MESSAGE,
)
from kurz_management.core.groups.model import GroupError
from kurz_management.core.links.service import LinkError
from kurz_management.openapi import DocumentedRoute, Operation
from kurz_management.validation_errors import explained
from kurz_management.vivoldi.envelope import Code, VivoldiError, answer, failure
from kurz_management.vivoldi.fields import wire_name
from kurz_management.vivoldi.language import in_language

log = logging.getLogger(__name__)
T = TypeVar("T")

_KEY_SCHEMES = ("apikey", "bearer")
_KIND_CODES: dict[str, Code] = {
    "invalid": Code.INVALID,
    "conflict": Code.CONFLICT,
    "not_found": Code.NOT_FOUND,
    "forbidden": Code.PLAN,
    "unavailable": Code.UNAVAILABLE,
}
_NO_KEY = "missing or invalid API key: send 'Authorization: APIKey <key>'"


@dataclass(frozen=True)
class Call:
    request: Request
    principal: Principal
    ctx: AppContext

    async def body(self, shape: type[T]) -> T:
        """The JSON body as `shape`; numbers sent as strings are accepted. A form body
        (application/x-www-form-urlencoded, as Vivoldi's older API takes) is read too."""
        try:
            received = await read_limited(self.request, self.ctx.settings.api.max_body_bytes)
        except BodyTooLarge as exc:
            raise VivoldiError(Code.TOO_LARGE, str(exc)) from None
        content_type = self.request.headers.get("content-type", "").lower()
        if content_type.startswith("application/x-www-form-urlencoded"):
            try:
                pairs = parse_qsl(received.decode(), keep_blank_values=True, strict_parsing=True)
                return msgspec.convert(dict(pairs), shape, strict=False)
            except (UnicodeDecodeError, ValueError) as exc:  # ValidationError included
                raise VivoldiError(Code.INVALID, f"invalid request: {exc}") from None
        try:
            return msgspec.json.decode(received, type=shape, strict=False)
        except msgspec.ValidationError as exc:
            raise VivoldiError(Code.INVALID, f"invalid request: {explained(exc, shape)}") from None
        except (msgspec.DecodeError, UnicodeDecodeError):  # bad UTF-8 inside a string
            raise VivoldiError(
                Code.INVALID, "invalid request: the body is not valid JSON"
            ) from None

    def query(self, shape: type[T]) -> T:
        """The query string as `shape` (last value wins when a name repeats)."""
        params = {k: v for k, v in self.request.query_params.items() if v != ""}
        if breach := query_breach(shape, params):
            raise VivoldiError(Code.INVALID, f"invalid query parameter: {breach[1]}")
        try:
            return msgspec.convert(params, shape, strict=False)
        except msgspec.ValidationError as exc:
            message = explained(exc, shape)
            raise VivoldiError(Code.INVALID, f"invalid query parameter: {message}") from None


Handler = Callable[[Call], Awaitable[Any]]


def route(operation: Operation, handler: Handler) -> DocumentedRoute:
    """The operation's route, answering every method so that a wrong one still gets the
    envelope (code 405, with Allow)."""
    path, method = operation.path, operation.method

    async def endpoint(request: Request) -> Response:
        if request.method != method and (request.method, method) != ("HEAD", "GET"):
            return _refuse(
                request, VivoldiError(Code.METHOD, f"{path} takes {method}"), {"Allow": method}
            )
        return await _serve(request, handler)

    return DocumentedRoute(
        operation,
        endpoint,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        name=f"vivoldi {method} {path}",
    )


async def _serve(request: Request, handler: Handler) -> Response:
    ctx = context(request)
    headers: dict[str, str] = {}
    try:
        key = api_key(request.headers.get("authorization"))
        access = await admit(ctx, key, client_address(request))
        headers = access.headers()
        return answer(await handler(Call(request, access.principal, ctx)), headers=headers)
    except AccessRefused as exc:
        if exc.reason == "rate_limited":
            return _refuse(
                request, VivoldiError(Code.RATE_LIMITED, exc.rate_message()), exc.headers()
            )
        return _refuse(request, VivoldiError(Code.UNAUTHORIZED, _NO_KEY), exc.headers())
    except VivoldiError as exc:
        return _refuse(request, exc, headers)
    except (GroupError, LinkError) as exc:
        return _refuse(request, from_domain(exc), headers)
    except BAD_VALUE_ERRORS:
        return _refuse(request, VivoldiError(Code.INVALID, BAD_VALUE_MESSAGE), headers)
    except UNAVAILABLE_ERRORS as exc:
        log.warning("vivoldi %s: dependency unavailable: %r", request.url.path, exc)
        return _refuse(request, VivoldiError(Code.UNAVAILABLE, UNAVAILABLE_MESSAGE), headers)
    except Exception:
        log.exception("vivoldi %s failed", request.url.path)
        return _refuse(request, VivoldiError(Code.INTERNAL, "internal error"), headers)


def _refuse(
    request: Request, error: VivoldiError, headers: Mapping[str, str] | None = None
) -> Response:
    """The refusal, in Korean where the caller prefers it and kurz has it."""
    return failure(in_language(error, request.headers.get("accept-language")), headers)


def from_domain(exc: GroupError | LinkError) -> VivoldiError:
    """A use case's refusal in Vivoldi's words: the code of its kind, and the field at
    fault under its Vivoldi name (and the item's position in a bulk request)."""
    code = _KIND_CODES.get(exc.kind, Code.INVALID)
    if isinstance(exc, GroupError):
        if code is Code.INVALID and exc.field:
            return VivoldiError(code, f"{wire_name(exc.field)} {exc.message}")
        return VivoldiError(code, exc.message)
    where = f"links[{exc.index}]" if exc.index is not None else ""
    if exc.field and code in (Code.INVALID, Code.CONFLICT):
        where = f"{where}.{wire_name(exc.field)}" if where else wire_name(exc.field)
    return VivoldiError(code, f"{where}: {exc.message}" if where else exc.message)


def api_key(header: str | None) -> str | None:
    """`APIKey <key>` (the family's scheme) or `Bearer <key>`."""
    scheme, _, key = (header or "").strip().partition(" ")
    if scheme.lower() not in _KEY_SCHEMES:
        return None
    return key.strip() or None
