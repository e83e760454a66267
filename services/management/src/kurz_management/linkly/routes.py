"""The Linkly API family's routes, mounted by the management app."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kurz_management.context import AppContext, context
from kurz_management.faults import (
    BAD_VALUE_ERRORS,
    BAD_VALUE_MESSAGE,
    UNAVAILABLE_ERRORS,
    UNAVAILABLE_MESSAGE,
)
from kurz_management.linkly import analytics, handlers, operations
from kurz_management.linkly.errors import LinklyError, from_link_error
from kurz_management.linkly.export import export_links
from kurz_management.linkly.request import rate_limit_of
from kurz_management.links.service import LinkError

log = logging.getLogger(__name__)

Handler = Callable[[Request, AppContext], Awaitable[Response]]


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
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


operations.register()

routes: list[BaseRoute] = [
    Route("/api/v1/link", _endpoint(handlers.save_link), methods=["POST"]),
    Route("/api/v1/get_link/{link_id}", _endpoint(handlers.get_link), methods=["GET"]),
    Route("/api/v1/workspace/{ws}/links", _endpoint(handlers.save_links), methods=["POST"]),
    Route("/api/v1/workspace/{ws}/links/export", _endpoint(export_links), methods=["GET"]),
    Route(
        "/api/v1/workspace/{ws}/links/{link_id}",
        _endpoint(handlers.delete_link),
        methods=["DELETE"],
    ),
]
# Linkly's click analytics (linkly/analytics.py) share the envelope and rate limit.
routes += [
    Route(path, _endpoint(handler), methods=["GET"]) for path, handler in analytics.ENDPOINTS
]
# Linkly's workspace- and link-level webhooks (linkly/webhooks.py).
from kurz_management.linkly import webhooks  # noqa: E402

webhooks.register_operations()
routes += [
    Route(path, _endpoint(handler), methods=[method])
    for method, path, handler, _ in webhooks.ENDPOINTS
]
