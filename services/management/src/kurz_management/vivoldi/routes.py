"""The Vivoldi-compatible API family."""

from starlette.routing import BaseRoute

from kurz_management.vivoldi import groups, links, operations
from kurz_management.vivoldi.endpoint import route

operations.register()

routes: list[BaseRoute] = [
    route("/api/link-group/v1/create", "POST", groups.create),
    route("/api/link-group/v1/update", "PUT", groups.update),
    route("/api/link-group/v1/list", "GET", groups.list_v1),
    route("/api/link-group/v2/list", "GET", groups.list_v2),
    route("/api/link-group/v1/delete", "DELETE", groups.delete),
    route("/api/link/v2/create", "POST", links.create),
    route("/api/link/v2/update", "PUT", links.update),
    route("/api/link/v1/delete", "DELETE", links.delete),
    route("/api/link/v1/list", "GET", links.list_links),
    route("/api/link/v1/createBulk", "POST", links.create_bulk),
]

from kurz_management.vivoldi import statistics  # noqa: E402

routes += statistics.routes
