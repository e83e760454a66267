"""Reading a Linkly request: its body (form-urlencoded or JSON), its API key and the
workspace it names, then authentication and the per-key rate limit."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from starlette.requests import Request

from kurz_management.access import AccessRefused, admit, client_address
from kurz_management.body import BodyTooLarge, read_limited
from kurz_management.context import AppContext
from kurz_management.core.auth import Principal
from kurz_management.core.ratelimit import RateLimit
from kurz_management.linkly.errors import LinklyError

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Payload(msgspec.Struct):
    """A decoded body: a dict for a form or a JSON object, a list for a JSON array."""

    data: Any
    is_form: bool

    @property
    def fields(self) -> dict[str, Any]:
        return self.data if isinstance(self.data, dict) else {}


async def read_payload(request: Request, max_bytes: int) -> Payload:
    try:
        body = await read_limited(request, max_bytes)
    except BodyTooLarge as exc:
        raise LinklyError(413, str(exc)) from None
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        raise LinklyError(
            415, "send links as application/x-www-form-urlencoded or application/json"
        )
    if not body.strip():
        return Payload({}, is_form=not _is_json(content_type, body))
    if _is_json(content_type, body):
        try:
            return Payload(msgspec.json.decode(body), is_form=False)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # bad UTF-8 inside a string
            raise LinklyError(400, f"malformed JSON body: {exc}") from None
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise LinklyError(400, "malformed form body") from None
    return Payload(dict(pairs), is_form=True)


def _is_json(content_type: str, body: bytes) -> bool:
    if "json" in content_type:
        return True
    if content_type.startswith(_FORM_TYPES):
        return False
    # No usable Content-Type (wget and scripts often omit it): sniff the first byte.
    return body.lstrip()[:1] in (b"{", b"[")


def _first(*values: Any) -> str | None:
    for value in values:
        if value is not None and str(value).strip() != "":
            return str(value).strip()
    return None


async def authorize(
    request: Request, ctx: AppContext, payload: Payload, *, path_workspace: str | None = None
) -> Principal:
    """The key's workspace, after the rate limit and the workspace check.

    The key comes from the X-API-KEY header, `Authorization: Bearer <key>` or `Basic
    base64(<key>:)`, the query or the body, in that order (for a batch, its items'
    api_key when they all agree); the workspace id likewise (X-WORKSPACE-ID). Every
    workspace id the request names (path, header, query, body) must be the key's own."""
    fields = payload.fields
    key = _first(
        request.headers.get("x-api-key"),
        authorization_key(request.headers.get("authorization", "")),
        request.query_params.get("api_key"),
        fields.get("api_key"),
    )
    if key is None:
        key = _key_of_items(payload.data)
    try:
        access = await admit(ctx, key, client_address(request))
    except AccessRefused as exc:
        request.state.rate_limit = exc.limit  # the route wrapper sends its headers
        raise LinklyError(exc.status, _REFUSALS.get(exc.reason) or exc.rate_message()) from None
    request.state.rate_limit = access.limit
    principal = access.principal
    named = [
        path_workspace,
        request.headers.get("x-workspace-id"),
        request.query_params.get("workspace_id"),
        fields.get("workspace_id"),
    ]
    check_workspace(principal, named)
    return principal


def authorization_key(header: str) -> str | None:
    """The key of `Authorization: Bearer <key>`, or of `Basic base64(<key>:)` (the key as
    user name, the password empty, as HTTP clients send user:password)."""
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, _ = decoded.partition(":")
        return user or None
    return None


async def authorized(
    request: Request, ctx: AppContext, *, workspace_in_path: bool = True
) -> tuple[Principal, Payload]:
    """The body read and the caller authorized, for a route whose path names the
    workspace (`{ws}`) or, with `workspace_in_path=False`, one that does not."""
    payload = await read_payload(request, ctx.settings.api.max_body_bytes)
    workspace = request.path_params["ws"] if workspace_in_path else None
    return await authorize(request, ctx, payload, path_workspace=workspace), payload


_REFUSALS = {
    "missing_key": "missing api_key (body or query) or X-API-KEY header",
    "invalid_key": "invalid or revoked API key",
}


def _key_of_items(data: Any) -> str | None:
    """A batch whose items each carry the same api_key (Linkly's documentation: "the same schema as
    above, wrapped in an array") is authenticated by that key."""
    if not isinstance(data, list):
        return None
    found = {_first(item.get("api_key")) for item in data if isinstance(item, dict)}
    found.discard(None)
    if len(found) > 1:
        raise LinklyError(400, "the items of a batch carry different api_key values")
    return found.pop() if found else None


def check_workspace(principal: Principal, named: list[Any]) -> None:
    """A workspace the key cannot reach is not found, exactly like one that does not
    exist: the answer must not tell which ids are taken."""
    for value in named:
        given = _first(value)
        if given is not None and given != str(principal.workspace_id):
            raise LinklyError(404, f"workspace {given} not found", field="workspace_id")


def refuse_form_rules(payload: Payload) -> None:
    """Linkly takes `rules` only as a JSON array, which a form body cannot carry."""
    if payload.is_form and "rules" in payload.fields:
        raise LinklyError(
            400,
            "rules must be sent in a JSON body (Content-Type: application/json)",
            field="rules",
        )


def rate_limit_of(request: Request) -> RateLimit | None:
    limit: RateLimit | None = getattr(request.state, "rate_limit", None)
    return limit
