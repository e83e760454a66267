"""One native route and its OpenAPI entry, declared together: every native operation
(links, tags, domains, analytics, webhooks) is Bearer-secured and answers
`{"error": "..."}` on the statuses it lists plus the ones every operation can give."""

from __future__ import annotations

from typing import Any

from kurz_management import openapi
from kurz_management.native.endpoint import Handler, endpoint
from kurz_management.native.schema import Error

FAMILY = "native"
SECURITY = "bearer"
COMMON_ERRORS = (401, 429, 503)


def native_route(
    method: str,
    path: str,
    handler: Handler,
    summary: str,
    *,
    request: Any = None,
    response: Any = None,
    query: Any = None,
    errors: tuple[int, ...] = (),
    status: int = 200,
    description: str = "",
    failure: Any = Error,
    also: dict[int, Any] | None = None,
    media: str = "application/json",
) -> openapi.DocumentedRoute:
    """`failure` is the 422 body (a bulk call names its items); `also` adds or replaces
    statuses whose body is not `Error`; `media` is the success answer's content type."""
    codes = sorted({*COMMON_ERRORS, *errors})
    operation = openapi.operation(
        method,
        path,
        FAMILY,
        request,
        response,
        summary=summary,
        description=description,
        query_type=query,
        errors={c: (failure if c == 422 else Error) for c in codes} | (also or {}),
        status=status,
        security=SECURITY,
        response_content_type=media,
    )
    return openapi.DocumentedRoute(operation, endpoint(handler))
