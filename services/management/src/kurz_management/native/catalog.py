"""Native tag and domain endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
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
    """

    name: TagName


class TagOut(msgspec.Struct):
    """Fields:
    id: The tag's id (a string, as in a link's tagIds).
    name: The tag's name.
    """

    id: str  # a string, as tagIds are in link bodies
    name: str


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


def _tag(tag: catalog.TagRecord) -> TagOut:
    return TagOut(str(tag.id), tag.name)


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
    tag = await catalog.create_tag(call.ctx, call.principal, body.name)
    return json_response(TagEnvelope(_tag(tag)), 201)


async def rename_tag(call: Call) -> Response:
    body = await call.body(TagCreate)
    tag = await catalog.rename_tag(call.ctx, call.principal, call.path_id("tag_id"), body.name)
    return json_response(TagEnvelope(_tag(tag)))


async def delete_tag(call: Call) -> Response:
    await catalog.delete_tag(call.ctx, call.principal, call.path_id("tag_id"))
    return Response(status_code=204)


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
