"""The Vivoldi family's routes for groups and links with their OpenAPI entries, error
codes included."""

from __future__ import annotations

import msgspec

from kurz_management import openapi
from kurz_management.openapi import DocumentedRoute
from kurz_management.vivoldi import groups, links
from kurz_management.vivoldi.endpoint import route
from kurz_management.vivoldi.envelope import CODE_MEANINGS, Code, Envelope
from kurz_management.vivoldi.group_schema import (
    VivoldiGroup,
    VivoldiGroupCreate,
    VivoldiGroupCreated,
    VivoldiGroupDeleteQuery,
    VivoldiGroupListQuery,
    VivoldiGroupPageQuery,
    VivoldiGroupUpdate,
)
from kurz_management.vivoldi.link_schema import (
    VivoldiBulkCreate,
    VivoldiLink,
    VivoldiLinkCreate,
    VivoldiLinkDeleteQuery,
    VivoldiLinkListQuery,
    VivoldiLinkUpdate,
)
from kurz_management.vivoldi.paging import Paged

FAMILY = "vivoldi"
KEY = "vivoldi_key"


class VivoldiError(msgspec.Struct):
    """Every refusal: a non-zero `code` (the table in the family description), a
    message saying what to fix, and `result` null.

    Fields:
        code: The HTTP status of the failure (400, 401, 403, 404, 405, 409, 413, 429, 500, 503).
        message: What went wrong and what to fix.
        result: Always null.
    """

    code: int
    message: str
    result: None


# Concrete envelopes, so the document names each answer plainly.
class VivoldiGroupCreatedAnswer(Envelope[VivoldiGroupCreated]):
    pass


class VivoldiSecretAnswer(Envelope[str | None]):
    """`result`: the webhook secret when this update generated one, else null."""


class VivoldiGroupsAnswer(Envelope[list[VivoldiGroup]]):
    pass


class VivoldiGroupPage(Paged[VivoldiGroup]):
    pass


class VivoldiGroupPageAnswer(Envelope[VivoldiGroupPage]):
    pass


class VivoldiEmptyAnswer(Envelope[None]):
    pass


class VivoldiShortUrlAnswer(Envelope[str]):
    """`result`: the short URL."""


class VivoldiLinkPage(Paged[VivoldiLink]):
    pass


class VivoldiLinkPageAnswer(Envelope[VivoldiLinkPage]):
    pass


class VivoldiShortUrlsAnswer(Envelope[list[str]]):
    """`result`: the short URLs, in request order."""


def _errors(*codes: Code) -> dict[int, type[VivoldiError]]:
    always = (Code.UNAUTHORIZED, Code.METHOD, Code.RATE_LIMITED, Code.INTERNAL, Code.UNAVAILABLE)
    return {int(c): VivoldiError for c in (*codes, *always)}


def _code_table() -> str:
    rows = "\n".join(
        f"| {int(c)} | {200 if c is Code.OK else int(c)} | {m} |" for c, m in CODE_MEANINGS.items()
    )
    return (
        "Vivoldi-compatible API. `Authorization: APIKey <key>` "
        '(Bearer accepted). Every answer is `{"code", "message", "result"}`; '
        "`code` 0 is success. Error codes (each travels with the same HTTP status):\n\n"
        "| code | HTTP | meaning |\n|---|---|---|\n" + rows
    )


DOC = openapi.FamilyDoc(
    FAMILY,
    _code_table(),
    {
        KEY: {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`APIKey <key>` (or `Bearer <key>`)",
        }
    },
)


def declared() -> list[DocumentedRoute]:
    """The group and link routes, each with its OpenAPI entry."""
    bad = _errors(Code.INVALID, Code.TOO_LARGE)
    return [
        route(
            openapi.operation(
                "POST",
                "/api/link-group/v1/create",
                FAMILY,
                VivoldiGroupCreate,
                VivoldiGroupCreatedAnswer,
                errors=bad | _errors(Code.PLAN),
                summary="Create a link group",
                security=KEY,
            ),
            groups.create,
        ),
        route(
            openapi.operation(
                "PUT",
                "/api/link-group/v1/update",
                FAMILY,
                VivoldiGroupUpdate,
                VivoldiSecretAnswer,
                errors=bad | _errors(Code.PLAN, Code.NOT_FOUND),
                summary="Update a link group",
                description="`result` is the webhook secret when this update generated "
                "one, else null. Fields left out keep their value.",
                security=KEY,
            ),
            groups.update,
        ),
        route(
            openapi.operation(
                "GET",
                "/api/link-group/v1/list",
                FAMILY,
                None,
                VivoldiGroupsAnswer,
                query_type=VivoldiGroupListQuery,
                errors=_errors(Code.INVALID),
                summary="List groups (nm: part of the name)",
                security=KEY,
            ),
            groups.list_v1,
        ),
        route(
            openapi.operation(
                "GET",
                "/api/link-group/v2/list",
                FAMILY,
                None,
                VivoldiGroupPageAnswer,
                query_type=VivoldiGroupPageQuery,
                errors=_errors(Code.INVALID),
                summary="List groups, 30 a page",
                security=KEY,
            ),
            groups.list_v2,
        ),
        route(
            openapi.operation(
                "DELETE",
                "/api/link-group/v1/delete",
                FAMILY,
                None,
                VivoldiEmptyAnswer,
                query_type=VivoldiGroupDeleteQuery,
                errors=_errors(Code.INVALID, Code.NOT_FOUND),
                summary="Delete a group; its links stay, ungrouped",
                security=KEY,
            ),
            groups.delete,
        ),
        route(
            openapi.operation(
                "POST",
                "/api/link/v2/create",
                FAMILY,
                VivoldiLinkCreate,
                VivoldiShortUrlAnswer,
                errors=bad | _errors(Code.PLAN, Code.CONFLICT),
                summary="Create a link; `result` is the short URL",
                security=KEY,
            ),
            links.create,
        ),
        route(
            openapi.operation(
                "POST",
                "/api/link/v1/create",
                FAMILY,
                VivoldiLinkCreate,
                VivoldiShortUrlAnswer,
                errors=bad | _errors(Code.PLAN, Code.CONFLICT),
                summary="Create a link (Vivoldi's older API, form or JSON body); `result` is "
                "the short URL",
                description="The same use case as /api/link/v2/create.",
                request_content_types=("application/x-www-form-urlencoded", "application/json"),
                security=KEY,
            ),
            links.create,
        ),
        route(
            openapi.operation(
                "PUT",
                "/api/link/v2/update",
                FAMILY,
                VivoldiLinkUpdate,
                VivoldiEmptyAnswer,
                errors=bad | _errors(Code.PLAN, Code.NOT_FOUND, Code.CONFLICT),
                summary="Update the link linkId on domain",
                security=KEY,
            ),
            links.update,
        ),
        route(
            openapi.operation(
                "DELETE",
                "/api/link/v1/delete",
                FAMILY,
                None,
                VivoldiEmptyAnswer,
                query_type=VivoldiLinkDeleteQuery,
                errors=_errors(Code.INVALID, Code.NOT_FOUND),
                summary="Delete the link linkId on domain",
                security=KEY,
            ),
            links.delete,
        ),
        route(
            openapi.operation(
                "GET",
                "/api/link/v1/list",
                FAMILY,
                None,
                VivoldiLinkPageAnswer,
                query_type=VivoldiLinkListQuery,
                errors=_errors(Code.INVALID),
                summary="List links, 30 a page, newest first",
                security=KEY,
            ),
            links.list_links,
        ),
        route(
            openapi.operation(
                "POST",
                "/api/link/v1/createBulk",
                FAMILY,
                VivoldiBulkCreate,
                VivoldiShortUrlsAnswer,
                errors=bad | _errors(Code.PLAN, Code.CONFLICT),
                summary="Create many links, all or nothing; `result` lists short URLs",
                security=KEY,
            ),
            links.create_bulk,
        ),
    ]
