"""One Linkly route: its handler wrapped so that every refusal is rendered in Linkly's
envelope with the rate-limit headers, declared with its OpenAPI entry."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from kurz_management import openapi
from kurz_management.context import AppContext, context
from kurz_management.core.faults import (
    BAD_VALUE_ERRORS,
    BAD_VALUE_MESSAGE,
    UNAVAILABLE_ERRORS,
    UNAVAILABLE_MESSAGE,
)
from kurz_management.core.links.service import LinkError
from kurz_management.linkly.errors import LinklyError, LinklyErrorBody, from_link_error
from kurz_management.linkly.operations import FAMILY, LinklyAuthQuery
from kurz_management.linkly.request import rate_limit_of
from kurz_management.openapi import DocumentedRoute, Operation

log = logging.getLogger(__name__)

Handler = Callable[[Request, AppContext], Awaitable[Response]]


def linkly_route(operation: Operation, handler: Handler) -> DocumentedRoute:
    return DocumentedRoute(operation, linkly_endpoint(handler))


def linkly_operation(
    method: str,
    path: str,
    request: object,
    response: object,
    summary: str,
    *,
    errors: tuple[int, ...],
    description: str = "",
    query: object = LinklyAuthQuery,
) -> Operation:
    """A Linkly route's OpenAPI entry: its key scheme, Linkly's error body for each of
    `errors` (401 and 429 always), the key and workspace as query parameters."""
    return openapi.operation(
        method, path, FAMILY, request, response, summary=summary, description=description,
        errors={s: LinklyErrorBody for s in sorted({401, 429, *errors})},
        security="linkly_key", query_type=query,
    )  # fmt: skip


def linkly_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Renders every refusal in Linkly's envelope and adds the rate-limit headers."""

    async def endpoint(request: Request) -> Response:
        try:
            response = await handler(request, context(request))
        except LinklyError as exc:
            response = exc.response()
        except LinkError as exc:
            response = from_link_error(exc).response()
        except BAD_VALUE_ERRORS:
            response = LinklyError(400, BAD_VALUE_MESSAGE).response()
        except UNAVAILABLE_ERRORS as exc:
            # Postgres or Redis away: "try again", not a fault.
            log.warning("linkly %s: dependency unavailable: %r", request.url.path, exc)
            response = LinklyError(503, UNAVAILABLE_MESSAGE).response()
        except Exception:
            # Still Linkly's envelope; the traceback goes to the log, not the client.
            log.exception("linkly %s %s failed", request.method, request.url.path)
            response = LinklyError(500, "internal error").response()
        limit = rate_limit_of(request)
        if limit is not None:
            response.headers.update(limit.headers())
        return response

    endpoint.__name__ = f"linkly_{handler.__name__}"
    return endpoint
