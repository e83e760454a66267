"""Native tag and domain endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType
from starlette.responses import Response

from kurz_management import constraints as c
from kurz_management.core import catalog
from kurz_management.native.endpoint import Call, json_response

TagName = Annotated[
    str, c.declared(minLength=1, maxLength=catalog.TAG_NAME_MAX, pattern=c.anchored(c.NO_NUL))
]


class TagCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields:
    name: The tag's name, unique in the workspace.
    color: The colour it is shown in, as #rrggbb.
    """

    name: TagName
    color: c.Color | None = None


class TagPatch(msgspec.Struct, forbid_unknown_fields=True):
    """A change: given fields change, absent fields stay; a null color removes it.

    Fields:
        name: The tag's new name (its links keep it).
        color: Its colour, as #rrggbb.
    """

    name: TagName | UnsetType = UNSET
    color: c.Color | UnsetType | None = UNSET


class TagOut(msgspec.Struct):
    """Fields:
    id: The tag's id, a string like every id of this API (and a link's tagIds).
    name: The tag's name.
    color: The colour it is shown in, as #rrggbb, or null.
    """

    id: str
    name: str
    color: str | None


class TagEnvelope(msgspec.Struct):
    """Fields:
    tag: The tag.
    """

    tag: TagOut


class TagList(msgspec.Struct):
    """Fields:
    tags: The workspace's tags.
    """

    tags: list[TagOut]


class DomainCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields:
    host: The custom domain, e.g. go.example.com (international names as typed or in punycode).
    """

    host: c.Host


class DomainOut(msgspec.Struct):
    """Publish a TXT record named `verificationRecord` holding `verificationToken`,
    then call verify.

    Fields:
        id: The domain's id.
        host: The domain, in punycode.
        verified: Whether its TXT record was found: links can use it once true.
        verificationRecord: Name of the DNS TXT record to publish.
        verificationToken: Value of that TXT record (null once verified).
        createdAt: When the domain was added.
    """

    id: int
    host: str
    verified: bool
    verificationRecord: str
    verificationToken: str | None
    createdAt: datetime


class DomainEnvelope(msgspec.Struct):
    """Fields:
    domain: The domain.
    """

    domain: DomainOut


class DomainList(msgspec.Struct):
    """Fields:
    domains: The workspace's custom domains.
    """

    domains: list[DomainOut]


class PixelOut(msgspec.Struct):
    """A tracking pixel the workspace's links fire.

    Fields:
        id: The pixel's id in this list: its type and pixelId.
        type: META (Meta pixel), GOOGLE_ANALYTICS (GA4 measurement id),
            GOOGLE_TAG_MANAGER (container id) or TIKTOK (TikTok pixel).
        pixelId: The id the pixel's vendor gave it.
        linkCount: How many live links fire it.
    """

    id: str
    type: str
    pixelId: str
    linkCount: int


class PixelList(msgspec.Struct):
    """Fields:
    pixels: The pixels set on the workspace's live links (metaPixelId, googleTagId,
        gtmId, tiktokPixelId), by type and id.
    """

    pixels: list[PixelOut]


def _tag(tag: catalog.TagRecord) -> TagOut:
    return TagOut(str(tag.id), tag.name, tag.color)


def _domain(domain: catalog.DomainRecord) -> DomainOut:
    return DomainOut(
        domain.id,
        domain.host,
        domain.verified,
        domain.verify_record,
        domain.verify_token,
        domain.created_at,
    )


async def list_tags(call: Call) -> Response:
    tags = await catalog.list_tags(call.ctx, call.principal)
    return json_response(TagList([_tag(t) for t in tags]))


async def create_tag(call: Call) -> Response:
    body = await call.body(TagCreate)
    tag = await catalog.create_tag(call.ctx, call.principal, body.name, body.color)
    return json_response(TagEnvelope(_tag(tag)), 201)


async def change_tag(call: Call) -> Response:
    body = await call.body(TagPatch)
    name = None if isinstance(body.name, UnsetType) else body.name
    tag = await catalog.change_tag(
        call.ctx, call.principal, call.path_id("tag_id"), name=name, color=body.color
    )
    return json_response(TagEnvelope(_tag(tag)))


async def delete_tag(call: Call) -> Response:
    await catalog.delete_tag(call.ctx, call.principal, call.path_id("tag_id"))
    return Response(status_code=204)


async def list_pixels(call: Call) -> Response:
    pixels = await catalog.list_pixels(call.ctx, call.principal)
    return json_response(
        PixelList([PixelOut(f"{p.kind}:{p.pixel_id}", p.kind, p.pixel_id, p.links) for p in pixels])
    )


async def list_domains(call: Call) -> Response:
    domains = await catalog.list_domains(call.ctx, call.principal)
    return json_response(DomainList([_domain(d) for d in domains]))


async def add_domain(call: Call) -> Response:
    body = await call.body(DomainCreate)
    domain = await catalog.add_domain(call.ctx, call.principal, body.host)
    return json_response(DomainEnvelope(_domain(domain)), 201)


async def delete_domain(call: Call) -> Response:
    await catalog.delete_domain(call.ctx, call.principal, call.path_id("domain_id"))
    return Response(status_code=204)


async def verify_domain(call: Call) -> Response:
    domain = await catalog.verify_domain(call.ctx, call.principal, call.path_id("domain_id"))
    return json_response(DomainEnvelope(_domain(domain)))
