"""Tags: the list with how many links carry each, creating one (name and colour),
renaming or recolouring one in its own row, and deleting one (its links keep the rest)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kurz_management.console.pages import ROOT, Page, console_page, problem, see_other, sentence
from kurz_management.core import catalog
from kurz_management.core.links.model import LinkError


def _fields(form: Any) -> tuple[str, str | None]:
    """The posted name and colour; an empty colour (or the unticked box) means none."""
    name = str(form.get("name") or "")
    color = str(form.get("color") or "").strip()
    return name, (color if color and form.get("has_color") == "on" else None)


async def _list_page(
    page: Page,
    *,
    new: dict[str, str] | None = None,
    editing: int | None = None,
    edited: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The list, with the new-tag form and (after a refused change) one row's form as it
    was sent, its error next to the field."""
    tags = await catalog.list_tags(page.ctx, page.principal)
    counts = await catalog.tag_link_counts(page.ctx, page.principal)
    return page.render(
        "tags.html",
        status,
        tags=tags,
        counts=counts,
        new=new or {"name": "", "color": "#3b82f6", "has_color": ""},
        editing=editing,
        edited=edited or {},
        errors=errors or {},
        done=page.request.query_params.get("done"),
    )


def _posted(form: Any) -> dict[str, str]:
    return {"name": str(form.get("name") or ""), "color": str(form.get("color") or ""),
            "has_color": "on" if form.get("has_color") == "on" else ""}  # fmt: skip


@console_page()
async def tag_list(request: Request, page: Page) -> Response:
    return await _list_page(page)


@console_page()
async def create_tag(request: Request, page: Page) -> Response:
    form = await page.form()
    name, color = _fields(form)
    try:
        await catalog.create_tag(page.ctx, page.principal, name, color)
    except LinkError as exc:
        status = 409 if exc.kind == "conflict" else 400
        errors = {exc.field or "name": sentence(exc.message)}
        return await _list_page(page, new=_posted(form), errors=errors, status=status)
    return see_other(f"{ROOT}/tags", done="created")


def _missing(page: Page) -> Response:
    return problem(404, "No such tag", "This workspace has no such tag.", page)


@console_page()
async def change_tag(request: Request, page: Page) -> Response:
    tag_id = request.path_params["tag_id"]
    # Another workspace's id is unknown whatever was posted: looked up before the form
    # is judged, so a bad name cannot tell that the id exists elsewhere.
    if tag_id not in {t.id for t in await catalog.list_tags(page.ctx, page.principal)}:
        return _missing(page)
    form = await page.form()
    name, color = _fields(form)
    try:
        await catalog.change_tag(page.ctx, page.principal, tag_id, name=name, color=color)
    except LinkError as exc:
        if exc.kind == "not_found":
            return _missing(page)
        status = 409 if exc.kind == "conflict" else 400
        errors = {exc.field or "name": sentence(exc.message)}
        return await _list_page(page, editing=tag_id, edited=_posted(form), errors=errors,
                                status=status)  # fmt: skip
    return see_other(f"{ROOT}/tags", done="saved")


@console_page()
async def delete_tag(request: Request, page: Page) -> Response:
    try:
        await catalog.delete_tag(page.ctx, page.principal, request.path_params["tag_id"])
    except LinkError as exc:
        if exc.kind == "not_found":
            return _missing(page)
        raise
    return see_other(f"{ROOT}/tags", done="deleted")


routes = [
    Route("/tags", tag_list, methods=["GET"]),
    Route("/tags", create_tag, methods=["POST"]),
    Route("/tags/{tag_id:int}", change_tag, methods=["POST"]),
    Route("/tags/{tag_id:int}/delete", delete_tag, methods=["POST"]),
]
