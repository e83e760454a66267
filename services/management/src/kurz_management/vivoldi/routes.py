"""The Vivoldi-compatible API family: its routes, each declared with its OpenAPI entry."""

from starlette.routing import BaseRoute

from kurz_management.vivoldi import operations, statistics

DOC = operations.DOC
routes: list[BaseRoute] = [*operations.declared(), *statistics.declared()]
