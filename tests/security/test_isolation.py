"""Tenant isolation, as a matrix: every operation of every family in the live OpenAPI
document, called with workspace A's key and workspace B's ids in every place an id can
go. A must never read, change, delete or count B's data, and the answer must be the one
a nonexistent id gets (not-found, never 403), so B's ids are not even confirmed."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from kurz_management.app import create_app
from starlette.routing import Mount, Route

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.security.conftest import family_headers
from tests.security.tenants import CLICK_DAY, CLICKS, Tenant, make_tenant, snapshot

NOWHERE = 1_999_999_999  # an id no table reaches in a test run
NOWHERE_SLUG = "nx0000000000"


@dataclass
class Probe:
    """One request; `refs` are the values that name another tenant's objects."""

    method: str
    path: str
    family: str
    template: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    refs: list[str] = field(default_factory=list)


def _values(t: Tenant | None, family: str = "") -> dict[str, Any]:
    """Where an id goes, by parameter or property name: B's id, or one that never exists.
    `linkId` is a link's slug in the Vivoldi family and its numeric id in kurz's own."""
    link, group = (t.link_id, t.group_id) if t else (NOWHERE, NOWHERE)
    if family == "native":
        return {**_values(t), "linkId": link}
    return {
        "link_id": link, "id": link, "domain_id": t.domain_id if t else NOWHERE,
        "group_id": group, "grpIdx": group, "groupId": group, "grpIdxList": str(group),
        "tagId": t.tag_id if t else NOWHERE, "tagIds": [t.tag_id if t else NOWHERE],
        "tag_id": t.tag_id if t else NOWHERE,
        "webhook_id": t.webhook_id if t else NOWHERE,
        "webhook": t.webhook_id if t else NOWHERE,
        "delivery_id": t.delivery_id if t else NOWHERE,
        "message_id": t.push_message_id if t else NOWHERE,
        "subscription_id": t.push_subscription_id if t else NOWHERE,
        "linkId": t.grouped_slug if t else NOWHERE_SLUG,
    }  # fmt: skip


_FIXED = {
    "counter": "country", "ymd": CLICK_DAY,
    "startYmd": CLICK_DAY, "endYmd": CLICK_DAY,
    "start": CLICK_DAY, "end": CLICK_DAY, "url": "https://93.184.215.14/probe", "nm": "probe",
    "name": "probe",
}  # fmt: skip


def _body(schema: dict[str, Any], components: dict[str, Any], values: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _body(components[schema["$ref"].rsplit("/", 1)[1]], components, values)
    if schema.get("type") == "array":
        return [_body(schema["items"], components, values)]
    for choice in schema.get("anyOf", []):
        if "$ref" in choice:
            return _body(choice, components, values)
    out: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if name in values:
            out[name] = values[name]
        elif name in _FIXED:
            out[name] = _FIXED[name]
        elif name == "links":
            out[name] = [_body(prop.get("items", {}), components, values)]
    if isinstance(out.get("linkId"), str) and "domain" in schema.get("properties", {}):
        out["domain"] = DEFAULT_DOMAIN  # Vivoldi names a link by slug and domain
    return out


def probes(document: dict[str, Any], a: Workspace, b: Tenant | None) -> list[Probe]:
    """Each operation with B's ids (b given) or nonexistent ids (b None), in workspace a.
    An optional id parameter gets a probe of its own (families refuse some together);
    a read also gets a probe with no id at all, for totals that must not count B."""
    components = document["components"]["schemas"]
    out = []
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            base = Probe(method.upper(), path, op["tags"][0], path)
            values = _values(b, base.family)
            optional = []
            for param in op.get("parameters", []):
                name, where = param["name"], param["in"]
                if name == "ws":
                    base.path = base.path.replace("{ws}", str(a.id))
                elif name in values and (where == "path" or param.get("required")):
                    _place(base, where, name, values[name])
                elif name in values:
                    optional.append((where, name))
                elif where == "path" and name not in _FIXED:
                    # A new kind of object in a path: the matrix must learn its ids.
                    raise AssertionError(f"no tenant value for {{{name}}} in {path}: add one")
                elif name in _FIXED or param.get("required"):
                    _place(base, where, name, _FIXED.get(name, "1"))
            request = op.get("requestBody", {}).get("content", {}).get("application/json")
            if request:
                base.body = _body(request["schema"], components, values)
                base.refs += [k for k in values if f'"{k}"' in json.dumps(base.body)]
            if not optional or base.method == "GET":
                out.append(base)
            for where, name in optional:
                probe = copy.deepcopy(base)
                _place(probe, where, name, values[name])
                out.append(probe)
    return out


def _place(probe: Probe, where: str, name: str, value: Any) -> None:
    if where == "path":
        probe.path = probe.path.replace("{" + name + "}", str(value))
    else:
        probe.params[name] = value
        if name == "linkId" and probe.family == "vivoldi":
            probe.params["domain"] = DEFAULT_DOMAIN  # Vivoldi names a link by slug and domain
    if name in _values(None):
        probe.refs.append(name)


async def send(http: httpx.AsyncClient, probe: Probe, a: Workspace) -> httpx.Response:
    return await http.request(
        probe.method, probe.path, params=probe.params, headers=family_headers(probe.family, a),
        json=probe.body,
    )  # fmt: skip


def leaks(text: str, b: Tenant) -> list[str]:
    found = [f"marker {b.marker}"] if b.marker in text else []
    if re.search(rf"(?<![\d.]){CLICKS}(?![\d.])", text):
        found.append(f"B's click count {CLICKS}")
    return found


def normalized(response: httpx.Response, b: Tenant) -> str:
    """The body with every id (B's or the nonexistent one) replaced by one token."""
    ids = {str(v).strip("[]'") for t in (b, None) for v in _values(t).values()}
    pattern = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    return re.sub(rf"(?<![\w-])({pattern})(?![\w-])", "<id>", response.text)


def differs(probe: Probe, answer: httpx.Response, reference: httpx.Response, b: Tenant) -> bool:
    """B's ids must be answered like ids that do not exist. Bodies are compared for errors
    and reads; a successful write (e.g. a create) legitimately carries fresh ids."""
    if answer.status_code != reference.status_code:
        return True
    compare_bodies = answer.status_code >= 400 or probe.method == "GET"
    return compare_bodies and normalized(answer, b) != normalized(reference, b)


def targets_one(probe: Probe) -> bool:
    """An operation on one object named by id: its answer for B's id is not-found."""
    placeholders = set(re.findall(r"{(\w+)}", probe.template)) - {"ws", "counter"}
    return bool(probe.refs) and (bool(placeholders) or probe.method in ("PUT", "PATCH", "DELETE"))


def not_found(probe: Probe, response: httpx.Response) -> bool:
    if probe.family == "vivoldi":
        return bool(response.json().get("code") == 404)
    return response.status_code == 404


@pytest.fixture
async def tenant_b(http: httpx.AsyncClient, pool: asyncpg.Pool[Any]) -> Tenant:
    from kurz.workspaces import create_workspace

    async with pool.acquire() as conn:
        ws_id, key = await create_workspace(conn, "tenant-b")
    return await make_tenant(http, pool, Workspace(ws_id, key))


async def test_key_a_never_reaches_workspace_b(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace, tenant_b: Tenant
) -> None:
    document = (await http.get("/openapi.json")).json()
    before = await snapshot(pool, tenant_b.ws.id)
    with_b = probes(document, workspace, tenant_b)
    with_nothing = probes(document, workspace, None)
    await reads_work_for_their_owner(http, probes(document, tenant_b.ws, tenant_b), tenant_b)
    problems: list[str] = []
    # Reads first, then writes: a write that wrongly succeeded is caught by the snapshot.
    for probe, control in sorted(zip(with_b, with_nothing, strict=True),
                                 key=lambda pair: pair[0].method != "GET"):  # fmt: skip
        answer = await send(http, probe, workspace)
        label = f"{probe.method} {probe.path} {probe.params or ''} {probe.body or ''}"
        if answer.status_code >= 500 or answer.status_code == 403:
            problems.append(f"{label}: {answer.status_code} {answer.text[:200]}")
        problems += [f"{label}: leaks {what}" for what in leaks(answer.text, tenant_b)]
        if not probe.refs:
            continue
        reference = await send(http, control, workspace)
        if differs(probe, answer, reference, tenant_b):
            problems.append(
                f"{label}: B's ids answer {answer.status_code} {answer.text[:160]}, "
                f"nonexistent ids {reference.status_code} {reference.text[:160]}"
            )
        if targets_one(probe) and not not_found(probe, answer):
            problems.append(f"{label}: expected not-found, got {answer.status_code}")
    assert not problems, "\n".join(problems)
    assert await snapshot(pool, tenant_b.ws.id) == before


async def reads_work_for_their_owner(http: httpx.AsyncClient, own: list[Probe], b: Tenant) -> None:
    """The control: B's own key gets answers to the same reads (so the probes are well
    formed and reach the lookup), and B's statistics do show B's clicks."""
    seen_counts = 0
    for probe in own:
        if probe.method == "GET" and probe.refs:
            answer = await send(http, probe, b.ws)
            assert answer.status_code < 400, (probe, answer.text)
            seen_counts += bool(leaks(answer.text, b))
    assert seen_counts >= 3


async def test_linkly_workspace_ids_are_not_confirmed(
    http: httpx.AsyncClient, workspace: Workspace, tenant_b: Tenant
) -> None:
    """Linkly names the workspace in the path: another tenant's id is refused exactly
    like an id that does not exist (docs/linkly.md: 403, before any lookup)."""
    document = (await http.get("/openapi.json")).json()
    paths = [(p, m) for p, ops in document["paths"].items() if "{ws}" in p for m in ops]
    assert paths
    for path, method in paths:
        answers = []
        for ws_id in (tenant_b.ws.id, NOWHERE):
            url = path.replace("{ws}", str(ws_id)).replace("{link_id}", str(tenant_b.link_id))
            url = url.replace("{counter}", "country")
            response = await http.request(
                method.upper(), url, headers={"X-API-KEY": workspace.key},
                json=[{"url": "https://a.example/x"}] if method == "post" else None,
            )  # fmt: skip
            assert response.status_code in (403, 404), response.text
            assert tenant_b.marker not in response.text
            answers.append((response.status_code, response.text.replace(str(ws_id), "<ws>")))
        assert answers[0] == answers[1], (path, answers)


async def test_b_still_works_for_b(http: httpx.AsyncClient, tenant_b: Tenant) -> None:
    """The matrix's not-found answers are about the key, not broken ids."""
    ok = await http.get(f"/api/v1/links/{tenant_b.link_id}", headers=tenant_b.ws.bearer)
    assert ok.status_code == 200 and tenant_b.marker in ok.text
    stats = await http.get(
        "/api/statistics/v2/clicks-by-date",
        params={"startYmd": CLICK_DAY, "endYmd": CLICK_DAY, "grpIdx": tenant_b.group_id},
        headers={"Authorization": f"APIKey {tenant_b.ws.key}"},
    )  # fmt: skip
    assert str(CLICKS) in stats.text, stats.text


def test_every_api_route_is_in_the_openapi_document() -> None:
    """So the matrix above, built from the document, covers every API route; what is not
    in it is the operator endpoints, the docs and the public (password) stats pages."""
    from kurz_management import openapi

    app = create_app()
    documented: dict[str, set[str]] = {}
    for op in openapi.operations(app.routes):
        documented.setdefault(op.path, set()).add(op.method)
    missing = []
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/console":
            continue  # the web console's pages: HTML for people, kept apart in test_console
        assert isinstance(route, Route)
        if not route.path.startswith("/api/"):
            assert route.path in {
                "/healthz",
                "/readyz",
                "/metrics",
                "/openapi.json",
                "/docs",
                "/docs/static/{name}",
                "/",
                "/_kurz/push-sw.js",  # the web push service worker: a script, no API
            } or route.path.startswith("/stats/"), route.path
            continue
        methods = (route.methods or set()) - {"HEAD"}
        known = documented.get(route.path, set())
        # A family that answers every method itself (its own 405) documents the real ones.
        wanted = methods if len(methods) < 5 else set()
        if not known or not wanted <= known:
            missing.append((sorted(methods), route.path))
    assert not missing
