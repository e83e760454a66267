"""The use cases' context (kurz_management.core.context) as a request handler finds it."""

from __future__ import annotations

from starlette.requests import Request

from kurz_management.core.context import AppContext

__all__ = ["AppContext", "context"]


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
