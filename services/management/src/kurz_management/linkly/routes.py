"""The Linkly API family's routes, each declared with its OpenAPI entry."""

from __future__ import annotations

from starlette.routing import BaseRoute

from kurz_management.linkly import analytics, domains, listing, operations, webhooks

DOC = operations.DOC
routes: list[BaseRoute] = [
    *operations.declared(),
    *listing.declared(),
    *domains.declared(),
    *analytics.declared(),
    *webhooks.declared(),
]
