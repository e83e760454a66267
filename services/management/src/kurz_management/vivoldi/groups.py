"""Vivoldi link-group endpoints: a thin adapter over kurz_management.core.groups."""

from __future__ import annotations

from typing import TypeVar

from kurz.validation import is_id
from msgspec import UNSET, UnsetType

from kurz_management.core.groups import service
from kurz_management.core.groups.model import GroupRecord, GroupSpec
from kurz_management.vivoldi.endpoint import Call
from kurz_management.vivoldi.envelope import Code, VivoldiError
from kurz_management.vivoldi.fields import flag, format_time, parse_time, yn
from kurz_management.vivoldi.group_schema import (
    GroupSettings,
    VivoldiGroup,
    VivoldiGroupCreate,
    VivoldiGroupCreated,
    VivoldiGroupDeleteQuery,
    VivoldiGroupListQuery,
    VivoldiGroupPageQuery,
    VivoldiGroupUpdate,
)
from kurz_management.vivoldi.paging import PAGE_SIZE, Paged, offset_of, paged

V = TypeVar("V")


async def create(call: Call) -> VivoldiGroupCreated:
    body = await call.body(VivoldiGroupCreate)
    spec = _spec(body, call.principal.time_zone, name=body.nm)
    written = await service.create_group(call.ctx, call.principal, spec)
    return VivoldiGroupCreated(written.group.id, written.new_webhook_secret)


async def update(call: Call) -> str | None:
    """The result is the webhook secret when this update generated one, else null."""
    body = await call.body(VivoldiGroupUpdate)
    spec = _spec(body, call.principal.time_zone, name=body.nm)
    written = await service.update_group(call.ctx, call.principal, _group_id(body.grpIdx), spec)
    return written.new_webhook_secret


async def list_v1(call: Call) -> list[VivoldiGroup]:
    query = call.query(VivoldiGroupListQuery)
    if query.grpIdx is not None and not is_id(query.grpIdx):
        return []  # a filter that no group can match
    page = await service.list_groups(
        call.ctx, call.principal, group_id=query.grpIdx, name_contains=query.nm
    )
    return [_item(g, call.principal.time_zone) for g in page.groups]


async def list_v2(call: Call) -> Paged[VivoldiGroup]:
    query = call.query(VivoldiGroupPageQuery)
    page = await service.list_groups(
        call.ctx,
        call.principal,
        name_contains=query.nm,
        offset=offset_of(query.pages),
        limit=PAGE_SIZE,
    )
    items = [_item(g, call.principal.time_zone) for g in page.groups]
    return paged(items, query.pages, page.total)


async def delete(call: Call) -> None:
    query = call.query(VivoldiGroupDeleteQuery)
    await service.delete_group(call.ctx, call.principal, _group_id(query.grpIdx))


def _group_id(value: int) -> int:
    if not is_id(value):
        raise VivoldiError(Code.NOT_FOUND, f"group {value} not found")
    return value


def _spec(body: GroupSettings, tz: str, *, name: str | UnsetType) -> GroupSpec:
    return GroupSpec(
        name=name,
        # A group of this family delivers its webhooks as Vivoldi signs them.
        webhook_format="vivoldi",
        memo=body.memo,
        push_subscribe=flag(body.notfSubscYn),
        qr_bypass=flag(body.qrBypassYn),
        block_overseas_stats=flag(body.blockOverseasSticsYn),
        push_notify=flag(body.pushNotifyYn),
        mail_notify=flag(body.mailNotifyYn),
        stats_password=body.nonmemberSticsPwd,
        starts_at=parse_time(body.strtYmdt, "strtYmdt", tz),
        ends_at=parse_time(body.endYmdt, "endYmdt", tz),
        expire_url=body.expireUrl,
        password=body.pwd,
        max_clicks=body.acesMaxCnt,
        webhook_enabled=flag(body.webhookEnableYn),
        webhook_url=body.webhookCallbackUrl,
        webhook_metric=_given(body.webhookMetric),
        webhook_frequency=_given(body.webhookFrequency),
    )


def _given(value: V | UnsetType | None) -> V | UnsetType:
    """Settings that cannot be cleared: null reads as "not given"."""
    return UNSET if value is None else value


def _item(group: GroupRecord, tz: str) -> VivoldiGroup:
    return VivoldiGroup(
        idx=group.id,
        nm=group.name,
        memo=group.memo,
        linkCnt=group.link_count,
        notfSubscYn=yn(group.push_subscribe),
        qrBypassYn=yn(group.qr_bypass),
        blockOverseasSticsYn=yn(group.block_overseas_stats),
        pushNotifyYn=yn(group.push_notify),
        mailNotifyYn=yn(group.mail_notify),
        webhookEnableYn=yn(group.webhook_enabled),
        webhookCallbackUrl=group.webhook_url,
        webhookMetric=group.webhook_metric,
        webhookFrequency=group.webhook_frequency,
        regYmdt=format_time(group.created_at, tz) or "",
        modYmdt=format_time(group.updated_at, tz) or "",
    )
