"""Native endpoints for the key's own workspace: its branding on the edge's pages and its
not-found redirects (where unknown or ended links go instead of kurz's pages)."""

from __future__ import annotations

import msgspec
from kurz.branding import EdgeWorkspace
from kurz.validation import InvalidLink
from msgspec import UNSET, UnsetType
from starlette.responses import Response

from kurz_management import constraints as c
from kurz_management.core import workspace_settings
from kurz_management.native.endpoint import Call, NativeError, json_response

# body path → setting, for requests and error messages alike
_BRANDING = {"name": "brand_name", "logoUrl": "logo_url", "accentColor": "accent_color"}
_REDIRECTS = {
    "baseUrl": "base_url_redirect",
    "invalidLink": "invalid_link_redirect",
    "expiredLink": "expired_link_redirect",
}
_BODY_PATH = {setting: f"branding.{name}" for name, setting in _BRANDING.items()} | {
    setting: f"notFoundRedirects.{name}" for name, setting in _REDIRECTS.items()
}


class Branding(msgspec.Struct):
    """How the edge's pages look for this workspace's links and domains. `name` and
    `logoUrl` (http or https) head every page; `accentColor` (#rrggbb) colours its links
    and buttons. null: kurz's own look.

    Fields:
    name: The name the pages show above their content (1 to 100 characters).
    logoUrl: An http(s) URL of the logo the pages show beside the name.
    accentColor: The colour of links and buttons, as #rrggbb.
    """

    name: str | None
    logoUrl: str | None
    accentColor: str | None


class NotFoundRedirects(msgspec.Struct):
    """Where visitors go instead of kurz's pages (null: kurz's page). `baseUrl`: the root
    of one of the workspace's verified custom domains. `invalidLink`: an unknown or
    disabled slug (unknown ones on the workspace's own domains only). `expiredLink`: a
    link past its end or its click limit that has no expiry URL of its own.

    Fields:
    baseUrl: Where a visit to the root of one of the workspace's domains goes.
    invalidLink: Where an unknown or disabled slug goes.
    expiredLink: Where a link past its end or its click limit goes.
    """

    baseUrl: str | None
    invalidLink: str | None
    expiredLink: str | None


class WorkspaceOut(msgspec.Struct):
    """Fields:
    id: The workspace's id.
    name: The workspace's name.
    branding: How the edge's pages look for its links and domains.
    notFoundRedirects: Where its unknown or ended links go instead of kurz's pages.
    """

    id: int
    name: str
    branding: Branding
    notFoundRedirects: NotFoundRedirects


class WorkspaceEnvelope(msgspec.Struct):
    """Fields:
    workspace: The key's workspace.
    """

    workspace: WorkspaceOut


class BrandingPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Given fields change, null clears (kurz's own look), absent fields stay.

    Fields:
    name: The name the pages show above their content (1 to 100 characters).
    logoUrl: An http(s) URL of the logo the pages show beside the name.
    accentColor: The colour of links and buttons, as #rrggbb.
    """

    name: c.BrandName | UnsetType | None = UNSET
    logoUrl: c.WebUrl | UnsetType | None = UNSET
    accentColor: c.Color | UnsetType | None = UNSET


class NotFoundRedirectsPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Given fields change, null clears (kurz's page), absent fields stay.

    Fields:
    baseUrl: Where a visit to the root of one of the workspace's domains goes.
    invalidLink: Where an unknown or disabled slug goes.
    expiredLink: Where a link past its end or its click limit goes.
    """

    baseUrl: c.WebUrl | UnsetType | None = UNSET
    invalidLink: c.WebUrl | UnsetType | None = UNSET
    expiredLink: c.WebUrl | UnsetType | None = UNSET


class WorkspacePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Given fields change, null clears, absent fields stay.

    Fields:
    branding: The branding settings to change.
    notFoundRedirects: The not-found redirects to change.
    """

    branding: BrandingPatch | UnsetType = UNSET
    notFoundRedirects: NotFoundRedirectsPatch | UnsetType = UNSET


def _out(settings: workspace_settings.WorkspaceSettings) -> WorkspaceEnvelope:
    edge: EdgeWorkspace = settings.edge
    return WorkspaceEnvelope(
        WorkspaceOut(
            edge.id,
            settings.name,
            Branding(edge.brand_name, edge.logo_url, edge.accent_color),
            NotFoundRedirects(
                edge.base_url_redirect, edge.invalid_link_redirect, edge.expired_link_redirect
            ),
        )
    )


def _changes(body: WorkspacePatch) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for part, names in ((body.branding, _BRANDING), (body.notFoundRedirects, _REDIRECTS)):
        if isinstance(part, UnsetType):
            continue
        for name, setting in names.items():
            value = getattr(part, name)
            if not isinstance(value, UnsetType):
                changes[setting] = value
    return changes


async def get_workspace(call: Call) -> Response:
    settings = await workspace_settings.get_settings(call.ctx, call.principal)
    return json_response(_out(settings))


async def update_workspace(call: Call) -> Response:
    body = await call.body(WorkspacePatch)
    try:
        settings = await workspace_settings.update_settings(
            call.ctx, call.principal, _changes(body)
        )
    except InvalidLink as exc:
        field = _BODY_PATH.get(exc.field or "", exc.field)
        raise NativeError(422, f"{field}: {exc.message}") from None
    return json_response(_out(settings))
