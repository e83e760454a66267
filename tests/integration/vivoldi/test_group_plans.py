"""Plan gates on groups, with a workspace on each plan: notifications need Personal or
higher, webhooks Enterprise; the self-hosted default allows everything."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from kurz.plans import EVERYTHING, clicks_by_group_denial, entitlements

from tests.conftest import plan_workspace
from tests.integration.vivoldi.conftest import client_for
from tests.support.inprocess import InProcessApp

NOTIFY = {"pushNotifyYn": "Y", "mailNotifyYn": "Y"}
HOOK = {"webhookEnableYn": "Y", "webhookCallbackUrl": "https://api.example.com/webhook"}

# plan -> (notifications allowed, webhooks allowed)
PLANS = {
    "free": (False, False),
    "personal": (True, False),
    "premium": (True, False),
    "business": (True, False),
    "enterprise": (True, True),
    "selfhosted": (True, True),
}


@pytest.mark.parametrize("plan", list(PLANS))
async def test_group_gates_by_plan(
    management: InProcessApp, pool: asyncpg.Pool[Any], plan: str
) -> None:
    notify_ok, hooks_ok = PLANS[plan]
    ws = await plan_workspace(pool, plan)
    async with client_for(management, ws) as api:
        plain = (await api.post("/api/link-group/v1/create", json={"nm": "plain"})).json()
        assert plain["code"] == 0  # every plan has groups
        grp_idx = plain["result"]["grpIdx"]
        for fields, allowed, words in (
            (NOTIFY, notify_ok, "Personal"),
            (HOOK, hooks_ok, "Enterprise"),
        ):
            created = await api.post("/api/link-group/v1/create", json={"nm": "x", **fields})
            updated = await api.put("/api/link-group/v1/update", json={"grpIdx": grp_idx, **fields})
            for response in (created, updated):
                body = response.json()
                if allowed:
                    assert body["code"] == 0, body
                else:
                    assert (response.status_code, body["code"]) == (200, 403)
                    assert words in body["message"] and body["result"] is None
    names = await pool.fetch(
        "SELECT name FROM link_groups WHERE workspace_id = $1 ORDER BY id", ws.id
    )
    expected = ["plain"] + ["x"] * (notify_ok + hooks_ok)
    assert [r["name"] for r in names] == expected
    row = await pool.fetchrow("SELECT * FROM link_groups WHERE id = $1", grp_idx)
    assert row["push_notify"] is notify_ok and row["mail_notify"] is notify_ok
    assert row["webhook_enabled"] is hooks_ok


async def test_switching_off_is_never_gated(
    management: InProcessApp, pool: asyncpg.Pool[Any]
) -> None:
    ws = await plan_workspace(pool, "free")
    async with client_for(management, ws) as api:
        body = (
            await api.post(
                "/api/link-group/v1/create",
                json={
                    "nm": "off",
                    "pushNotifyYn": "N",
                    "mailNotifyYn": "N",
                    "webhookEnableYn": "N",
                },
            )
        ).json()
        assert body["code"] == 0


async def test_plan_rows_drive_the_clicks_by_group_gate(pool: asyncpg.Pool[Any]) -> None:
    rows = await pool.fetch("SELECT code, entitlements FROM plans")
    ent = {r["code"]: entitlements(r["entitlements"]) for r in rows}
    assert clicks_by_group_denial(ent["free"], [1]) is not None
    for plan in ("personal", "premium"):
        assert clicks_by_group_denial(ent[plan], None) is not None
        assert clicks_by_group_denial(ent[plan], [1, 2, 3, 4, 5]) is None
        assert clicks_by_group_denial(ent[plan], [1, 2, 3, 4, 5, 6]) is not None
    for plan in ("business", "enterprise", "selfhosted"):
        assert clicks_by_group_denial(ent[plan], None) is None
        assert clicks_by_group_denial(ent[plan], list(range(50))) is None
    assert ent["selfhosted"] == EVERYTHING
