"""The OpenAPI document is built from the routes the app serves: every documented
operation is a route that answers its method, and building the app twice in one process
gives the same document (nothing accumulates in module state)."""

from __future__ import annotations

import msgspec
from kurz.settings import load_settings
from kurz_management.app import create_app
from starlette.routing import Route


def test_every_documented_operation_is_a_served_route() -> None:
    app = create_app(load_settings({}))
    document = msgspec.json.decode(app.state.openapi_json)
    served = {
        (method.lower(), route.path_format)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
    }
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert documented and documented <= served
    again = create_app(load_settings({}))
    assert again.state.openapi_json == app.state.openapi_json
