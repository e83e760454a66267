"""Native tag and domain endpoints."""

from __future__ import annotations

from datetime import datetime

import msgspec
from starlette.responses import Response

from kurz_management import catalog
from kurz_management.native.endpoint import Call, json_response


class TagCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class TagOut(msgspec.Struct):
    id: str  # a string, as tagIds are in link bodies
    name: str


class TagEnvelope(msgspec.Struct):
    tag: TagOut


class TagList(msgspec.Struct):
    tags: list[TagOut]


class DomainCreate(msgspec.Struct, forbid_unknown_fields=True):
    host: str


class DomainOut(msgspec.Struct):
    """Publish a TXT record named `verificationRecord` holding `verificationToken`,
    then call verify."""

    id: int
    host: str
    verified: bool
    verificationRecord: str
    verificationToken: str | None
    createdAt: datetime


class DomainEnvelope(msgspec.Struct):
    domain: DomainOut


class DomainList(msgspec.Struct):
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


async def list_domains(call: Call) -> Response:
    domains = await catalog.list_domains(call.ctx, call.principal)
    return json_response(DomainList([_domain(d) for d in domains]))


async def add_domain(call: Call) -> Response:
    body = await call.body(DomainCreate)
    domain = await catalog.add_domain(call.ctx, call.principal, body.host)
    return json_response(DomainEnvelope(_domain(domain)), 201)


async def verify_domain(call: Call) -> Response:
    domain = await catalog.verify_domain(call.ctx, call.principal, call.path_id("domain_id"))
    return json_response(DomainEnvelope(_domain(domain)))
