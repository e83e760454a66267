"""Link groups: the list, the form to create and edit a group with every setting it
has, and deleting one (its links stay, ungrouped). A webhook secret a save generates is
shown in that answer only, as a new API key is."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kurz_management.console import group_form
from kurz_management.console.pages import ROOT, Page, console_page, problem, see_other, sentence
from kurz_management.core.groups import service as groups
from kurz_management.core.groups.model import GroupError, GroupRecord

# The use cases' statuses for a refusal the form shows next to its field.
_STATUS = {"invalid": 400, "forbidden": 403}


@console_page()
async def group_list(request: Request, page: Page) -> Response:
    found = await groups.list_groups(page.ctx, page.principal)
    return page.render("groups.html", groups=found.groups, done=request.query_params.get("done"))


async def _form_page(
    page: Page,
    values: dict[str, Any],
    *,
    group: GroupRecord | None = None,
    errors: dict[str, str] | None = None,
    secret: str | None = None,
    status: int = 200,
) -> Response:
    return page.render(
        "group_form.html",
        status,
        group=group,
        values=values,
        errors=errors or {},
        secret=secret,
        switches=group_form.SWITCHES,
        metrics=group_form.WEBHOOK_METRIC_CHOICES,
        frequencies=group_form.FREQUENCIES,
        formats=group_form.FORMATS,
        done=page.request.query_params.get("done"),
    )


def _error_fields(exc: GroupError) -> dict[str, str]:
    """A use case's refusal next to the field it names; a plan's refusal above the form."""
    if exc.kind == "forbidden" or not exc.field or exc.field == "group_id":
        return {"form": sentence(exc.message)}
    if exc.message.startswith(("is ", "must ")):  # the rules' messages name no field
        return {exc.field: sentence(f"{_LABELS.get(exc.field, 'It')} {exc.message}")}
    return {exc.field: sentence(exc.message)}


_LABELS = {"name": "The name", "memo": "The memo", "ends_at": "The end",
           "max_clicks": "The click limit", "expire_url": "The address after the end",
           "webhook_url": "The webhook URL", "webhook_metric": "The metric",
           "webhook_frequency": "The frequency", "password": "The password",
           "stats_password": "The statistics password"}  # fmt: skip


@console_page()
async def new_group(request: Request, page: Page) -> Response:
    return await _form_page(page, group_form.blank_values())


@console_page()
async def create_group(request: Request, page: Page) -> Response:
    form = await page.form()
    parsed = group_form.parse(form, page.principal.time_zone)
    errors = parsed.errors
    if not errors:
        try:
            made = await groups.create_group(page.ctx, page.principal, parsed.spec)
        except GroupError as exc:
            errors = _error_fields(exc)
            status = _STATUS.get(exc.kind, 400)
        else:
            if made.new_webhook_secret:
                return await _saved_with_secret(page, made.group, made.new_webhook_secret, 201)
            return see_other(f"{ROOT}/groups/{made.group.id}", done="created")
    else:
        status = 400
    return await _form_page(page, group_form.posted_values(form), errors=errors, status=status)


async def _saved_with_secret(page: Page, group: GroupRecord, secret: str, status: int) -> Response:
    # Rendered here, not after a redirect: the secret exists in clear only in this answer.
    values = group_form.values_of(group, page.principal.time_zone)
    return await _form_page(page, values, group=group, secret=secret, status=status)


async def _group(page: Page, group_id: int) -> GroupRecord | None:
    try:
        return await groups.get_group(page.ctx, page.principal, group_id)
    except GroupError as exc:
        if exc.kind == "not_found":
            return None
        raise


def _missing(page: Page) -> Response:
    return problem(404, "No such group", "This workspace has no such group.", page)


@console_page()
async def edit_group(request: Request, page: Page) -> Response:
    group = await _group(page, request.path_params["group_id"])
    if group is None:
        return _missing(page)
    values = group_form.values_of(group, page.principal.time_zone)
    return await _form_page(page, values, group=group)


@console_page()
async def update_group(request: Request, page: Page) -> Response:
    group_id = request.path_params["group_id"]
    group = await _group(page, group_id)
    if group is None:
        return _missing(page)
    form = await page.form()
    parsed = group_form.parse(form, page.principal.time_zone)
    errors, status = parsed.errors, 400
    group_form.keep_unchanged_gates(parsed.spec, group)
    if not errors:
        try:
            saved = await groups.update_group(page.ctx, page.principal, group_id, parsed.spec)
        except GroupError as exc:
            if exc.kind == "not_found":
                return _missing(page)
            errors, status = _error_fields(exc), _STATUS.get(exc.kind, 400)
        else:
            if saved.new_webhook_secret:
                return await _saved_with_secret(page, saved.group, saved.new_webhook_secret, 200)
            return see_other(f"{ROOT}/groups/{group_id}", done="saved")
    values = group_form.posted_values(form, group)
    return await _form_page(page, values, group=group, errors=errors, status=status)


@console_page()
async def delete_group(request: Request, page: Page) -> Response:
    try:
        await groups.delete_group(page.ctx, page.principal, request.path_params["group_id"])
    except GroupError as exc:
        if exc.kind == "not_found":
            return _missing(page)
        raise
    return see_other(f"{ROOT}/groups", done="deleted")


routes = [
    Route("/groups", group_list, methods=["GET"]),
    Route("/groups", create_group, methods=["POST"]),
    Route("/groups/new", new_group, methods=["GET"]),
    Route("/groups/{group_id:int}", edit_group, methods=["GET"]),
    Route("/groups/{group_id:int}", update_group, methods=["POST"]),
    Route("/groups/{group_id:int}/delete", delete_group, methods=["POST"]),
]
