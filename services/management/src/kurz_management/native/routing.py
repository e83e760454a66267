"""One native route and its OpenAPI entry, declared together: every native operation
(links, tags, domains, analytics, webhooks) is Bearer-secured and answers
`{"error": "..."}` on the statuses it lists plus the ones every operation can give."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

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


def shared_with_linkly(
    route: openapi.DocumentedRoute, linkly: Callable[[Request], Awaitable[Response]]
) -> openapi.DocumentedRoute:
    """`route`, whose path Linkly's clients call too: a request carrying a Linkly key
    (`api_key` in the query or `X-API-KEY`) and no Authorization header gets `linkly`'s
    answer; every other request the native one."""
    native = route.endpoint

    async def either(request: Request) -> Response:
        headers = request.headers
        by_linkly = "authorization" not in headers and (
            "api_key" in request.query_params or "x-api-key" in headers
        )
        return await (linkly if by_linkly else native)(request)

    return openapi.DocumentedRoute(route.operation, either)
