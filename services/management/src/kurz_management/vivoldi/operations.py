"""The Vivoldi family's routes for groups and links with their OpenAPI entries, error
codes included."""

from __future__ import annotations

from typing import Any, TypedDict

import msgspec

from kurz_management import openapi
from kurz_management.openapi import DocumentedRoute
from kurz_management.vivoldi import groups, links
from kurz_management.vivoldi.endpoint import route
from kurz_management.vivoldi.envelope import CODE_MEANINGS, REFUSALS, Code, Envelope, http_status
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
    """A failure below the request's meaning, with its HTTP status: no valid key (401),
    the wrong method (405), a body too large (413), the rate limit (429), a fault (500),
    an outage (503).

    Fields:
        code: The failure's code, the same number as its HTTP status.
        message: What went wrong and what to fix.
        result: Always null.
    """

    code: int
    message: str
    result: None


class VivoldiRefusal(msgspec.Struct):
    """A request understood and refused, answered with HTTP 200 as Vivoldi does: a bad
    parameter (400), a plan without the feature (403), no such group or link (404), a
    short address taken (409).

    Fields:
        code: Why (400, 403, 404 or 409); never 0.
        message: What to fix, naming the field by its Vivoldi name.
        result: Always null.
    """

    code: int
    message: str
    result: None


class Answers(TypedDict):
    errors: dict[int, Any]
    refusal_type: Any
    empty_query_is_absent: bool


def answers(codes: frozenset[Code]) -> Answers:
    """An operation's documented answers besides success for its refusal `codes`: the
    refusals inside the 200 answer, every failure with its own HTTP status."""
    always = {Code.UNAUTHORIZED, Code.METHOD, Code.RATE_LIMITED, Code.INTERNAL, Code.UNAVAILABLE}
    failures = sorted(c for c in codes | always if c not in REFUSALS)
    return Answers(
        errors={int(c): VivoldiError for c in failures},
        refusal_type=VivoldiRefusal if codes & REFUSALS else None,
        empty_query_is_absent=True,  # Call.query drops empty values
    )


def _operation(*args: Any, errors: frozenset[Code], **kwargs: Any) -> openapi.Operation:
    return openapi.operation(*args, **answers(errors), **kwargs)


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


def _errors(*codes: Code) -> frozenset[Code]:
    return frozenset(codes)


def _code_table() -> str:
    rows = "\n".join(f"| {int(c)} | {http_status(c)} | {m} |" for c, m in CODE_MEANINGS.items())
    return (
        "Vivoldi-compatible API. `Authorization: APIKey <key>` "
        '(Bearer accepted). Every answer is `{"code", "message", "result"}`; '
        "`code` 0 is success. A request understood and refused answers HTTP 200 with a "
        "non-zero `code`; only failures below the request's meaning keep their HTTP "
        "status. The codes:\n\n"
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
            _operation(
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
            _operation(
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
            _operation(
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
            _operation(
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
            _operation(
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
            _operation(
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
            _operation(
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
            _operation(
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
            _operation(
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
            _operation(
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
            _operation(
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
