"""Hand-written bad input for each family's create endpoint and the edge: every case is
refused with a clear error in the family's own format, never a 500, and nothing is
written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.security.conftest import MAX_BODY, family_headers
from tests.security.edge_links import stored_link
from tests.support.families import vivoldi_status
from tests.support.services import Service

CREATE = {"native": "/api/v1/links", "vivoldi": "/api/link/v2/create", "linkly": "/api/v1/link"}
SLUG = {"native": "customSlug", "vivoldi": "brandLinkId", "linkly": "slug"}
TITLE = {"native": "title", "vivoldi": "ttl", "linkly": "name"}
EXPIRY = {"native": "expiresAt", "vivoldi": "expireYmdt", "linkly": "expiry_datetime"}
FAMILIES = sorted(CREATE)


def refused_in_family_format(family: str, response: httpx.Response) -> None:
    body = response.json()
    if family == "vivoldi":
        assert 400 <= body["code"] < 500 and body["message"], body
        assert response.status_code == vivoldi_status(body["code"]), response.status_code
        assert body["result"] is None
        return
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert isinstance(body["error"], str) and body["error"], body


async def live_links(pool: asyncpg.Pool[Any], workspace_id: int) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM links WHERE workspace_id = $1 AND deleted_at IS NULL", workspace_id
    )
    return count


async def refused_and_nothing_written(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any], ws: Workspace, family: str, **kwargs: Any
) -> httpx.Response:
    headers = {**family_headers(family, ws), **kwargs.pop("headers", {})}
    response = await http.post(CREATE[family], headers=headers, **kwargs)
    refused_in_family_format(family, response)
    assert await live_links(pool, ws.id) == 0
    return response


async def _chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"url": "https://example.com/", "note": "'
    for _ in range(total // 65536 + 1):
        yield b"a" * 65536
    yield b'"}'


BODIES: dict[str, dict[str, Any]] = {
    "oversized": {"content": b'{"url": "https://example.com/", "note": "' + b"a" * MAX_BODY
                  + b'"}', "headers": {"Content-Type": "application/json"}},
    "oversized, no length": {"content": _chunks, "headers": {"Content-Type": "application/json"}},
    "invalid JSON": {"content": b'{"url": ', "headers": {"Content-Type": "application/json"}},
    "not UTF-8": {"content": b'{"url": "https://example.com/\xff"}',
                  "headers": {"Content-Type": "application/json"}},
    "a number": {"content": b"42", "headers": {"Content-Type": "application/json"}},
    "XML": {"content": b"<link><url>https://example.com/</url></link>",
            "headers": {"Content-Type": "application/xml"}},
    "empty": {"content": b"", "headers": {"Content-Type": "application/json"}},
}  # fmt: skip


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("case", sorted(BODIES))
async def test_malformed_bodies(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace, family: str,
    case: str,
) -> None:  # fmt: skip
    kwargs = dict(BODIES[case])
    if callable(kwargs["content"]):
        kwargs["content"] = kwargs["content"](MAX_BODY)
    response = await refused_and_nothing_written(http, pool, workspace, family, **kwargs)
    if case.startswith("oversized"):
        assert response.status_code == 413


DESTINATIONS = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
    "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
    "file:///etc/passwd", "/relative/path", "relative/path", "//evil.example/x", "http://",
    "https://exa mple.com/", "https://example.com/\x00", "https://example.com/\r\nX: y",
    "https://" + "a" * 5000 + ".example/",
]  # fmt: skip
SLUGS = ["a\x00b", "a\nb", "a b", "a/b", "../etc", "\\evil", "\u202eevil", "ab\u200bc",
         "x" * 300, "<script>", "a?b", "a#b", "qr/x"]  # fmt: skip
TITLES = ["t\x00t"]
EXPIRIES = {
    "native": ["10000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "2024-02-30T00:00:00Z",
               "2024-01-01T25:00:00Z", "soon"],
    "vivoldi": ["10000-01-01 00:00:00", "0000-01-01 00:00:00", "2024-02-30 00:00:00",
                "2024-01-01 25:00:00", "soon"],
    "linkly": ["10000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "2024-02-30T00:00:00Z",
               "2024-01-01T25:00:00Z", "soon"],
}  # fmt: skip


def field_cases(family: str) -> list[tuple[str, dict[str, Any]]]:
    cases = [(f"url {u!r}"[:60], {"url": u}) for u in DESTINATIONS]
    cases += [(f"slug {s!r}"[:60], {SLUG[family]: s}) for s in SLUGS]
    cases += [(f"title {t!r}", {TITLE[family]: t}) for t in TITLES]
    cases += [(f"expiry {e!r}", {EXPIRY[family]: e}) for e in EXPIRIES[family]]
    return cases


@pytest.mark.parametrize("family", FAMILIES)
async def test_bad_fields_are_refused(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace, family: str
) -> None:
    failures = []
    for label, fields in field_cases(family):
        body = {"url": "https://example.com/ok", **fields}
        if family == "linkly" and SLUG[family] in fields and fields["slug"]:
            body["slug"] = "/" + fields["slug"]
        response = await http.post(CREATE[family], headers=family_headers(family, workspace),
                                   json=body)  # fmt: skip
        try:
            refused_in_family_format(family, response)
        except (AssertionError, ValueError, KeyError):
            failures.append(f"{label}: {response.status_code} {response.text[:150]}")
    assert not failures, "\n".join(failures)
    assert await live_links(pool, workspace.id) == 0


RULE = {"what": "country", "url": "https://example.com/nz", "matches": "NZ"}
RULES_FIELD = {"native": "rules", "linkly": "rules"}


@pytest.mark.parametrize("family", sorted(RULES_FIELD))
@pytest.mark.parametrize("count", [51, 10_000])
async def test_too_many_rules(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace, family: str,
    count: int,
) -> None:  # fmt: skip
    response = await refused_and_nothing_written(
        http, pool, workspace, family,
        json={"url": "https://example.com/", RULES_FIELD[family]: [RULE] * count},
    )  # fmt: skip
    assert response.status_code in (413, 422)


async def test_idn_destinations_redirect_with_an_ascii_location(
    http: httpx.AsyncClient, edge: httpx.AsyncClient, workspace: Workspace
) -> None:
    created = await http.post("/api/v1/links", headers=workspace.bearer,
                              json={"url": "https://bücher.example/straße?q=ü"})  # fmt: skip
    assert created.status_code == 201, created.text
    response = await edge.get("/" + created.json()["link"]["slug"])
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.isascii() and location.startswith("https://xn--bcher-kva.example/"), location
    domain = await http.post("/api/v1/domains", headers=workspace.bearer,
                             json={"host": "bücher-idn.example"})  # fmt: skip
    assert domain.status_code in (201, 422), domain.text
    if domain.status_code == 201:
        assert domain.json()["domain"]["host"].isascii()


async def raw_get(port: int, target: str) -> int | None:
    """The status of a GET sent over a bare socket (clients refuse such long URLs), or
    None when the server closed the connection instead: a refusal too."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {DEFAULT_DOMAIN}\r\n"
                     "Connection: close\r\n\r\n".encode())  # fmt: skip
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 30)
    except ConnectionError:
        return None
    finally:
        writer.close()
    return int(status_line.split()[1]) if status_line else None


async def test_enormous_query_strings_on_the_short_url(
    edge: httpx.AsyncClient, redirector: Service, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    plain = await stored_link(pool, redis, workspace.id)
    forwarding = await stored_link(pool, redis, workspace.id, forward_params=True)
    for size in (8_000, 60_000, 1_000_000):
        for link in (plain, forwarding):
            query = f"q={'a' * size}&{'b=1&' * (size // 40)}"
            status = await raw_get(redirector.port, f"/{link.slug}?{query}")
            assert status is None or status < 500, (size, status)
    still = await edge.get(f"/{plain.slug}")
    assert still.status_code == 302


STATS_DATES = [
    ("vivoldi", "/api/statistics/v2/clicks-by-date",
     {"startYmd": "0001-01-01", "endYmd": "9999-12-31"}),
    ("vivoldi", "/api/statistics/v2/clicks-by-date",
     {"startYmd": "2024-02-30", "endYmd": "2024-03-01"}),
    ("vivoldi", "/api/statistics/v2/clicks-by-hour", {"ymd": "99999-01-01"}),
    ("vivoldi", "/api/link/v2/clicks-by-group", {"startYmd": "2024-03-01", "endYmd": "2024-01-01"}),
    ("native", "/api/v1/analytics/summary", {"start": "99999-01-01", "end": "2024-01-01"}),
    ("native", "/api/v1/analytics/timeseries", {"start": "0000-00-00"}),
    ("linkly", "/api/v1/workspace/{ws}/clicks", {"start": "2024-13-01", "end": "2024-14-01"}),
    ("linkly", "/api/v1/workspace/{ws}/clicks", {"start": "0001-01-01", "end": "9999-12-31",
                                                 "frequency": "hour"}),
]  # fmt: skip


async def test_statistics_dates_out_of_range(http: httpx.AsyncClient, workspace: Workspace) -> None:
    answers = await asyncio.gather(*(
        http.get(path.format(ws=workspace.id), params=params,
                 headers=family_headers(family, workspace))
        for family, path, params in STATS_DATES
    ))  # fmt: skip
    for (family, _, _), response in zip(STATS_DATES, answers, strict=True):
        refused_in_family_format(family, response)


FUZZ_FINDINGS = [
    # Each answered 500 before: an id past bigint, a NUL character Postgres cannot store.
    ("native", "GET", "/api/v1/links", {"tagId": "36893488147419103231"}),
    ("native", "GET", "/api/v1/links", {"search": "a\x00b"}),
    ("linkly", "DELETE", "/api/v1/workspace/{ws}/links/999999999999999999999999999999", {}),
    ("vivoldi", "DELETE", "/api/link/v1/delete", {"linkId": "?\x00{", "domain": DEFAULT_DOMAIN}),
    ("vivoldi", "GET", "/api/link-group/v1/list", {"nm": "a\x00b"}),
]


@pytest.mark.parametrize(("family", "method", "path", "params"), FUZZ_FINDINGS)
async def test_values_only_the_database_would_refuse(
    http: httpx.AsyncClient, workspace: Workspace, family: str, method: str, path: str,
    params: dict[str, str],
) -> None:  # fmt: skip
    response = await http.request(method, path.format(ws=workspace.id), params=params,
                                  headers=family_headers(family, workspace))  # fmt: skip
    refused_in_family_format(family, response)


SUPERSCRIPT_TWO = "\u00b2"  # str.isdigit() says yes, int() says no: it once gave 500s


async def test_unicode_digits_in_ids_and_numbers(
    http: httpx.AsyncClient, edge: httpx.AsyncClient, pool: asyncpg.Pool[Any],
    redis: aioredis.Redis, workspace: Workspace,
) -> None:  # fmt: skip
    two = SUPERSCRIPT_TWO
    for family, path, params in [
        ("native", f"/api/v1/links/{two}", {}),
        ("linkly", f"/api/v1/get_link/{two}", {}),
        ("vivoldi", "/api/link/v2/clicks-by-group",
         {"startYmd": "2025-01-01", "endYmd": "2025-01-02", "grpIdxList": two}),
    ]:  # fmt: skip
        response = await http.get(path, params=params, headers=family_headers(family, workspace))
        refused_in_family_format(family, response)
    stats = await http.get(f"/stats/g/{two}")  # no such group: the password form, as for any
    assert stats.status_code == 200 and 'type="password"' in stats.text
    link = await stored_link(pool, redis, workspace.id, password_hash="$argon2id$v=19$x")
    qr = await edge.get(f"/{link.slug}/qr", params={"size": two * 3})
    assert qr.status_code == 400
    # Header bytes are read as Latin-1 at the edge: 0xB2 arrives as the superscript two.
    cookie = {b"Cookie": f"kurz_pw_{link.id}={two * 10}.c2lnbmF0dXJl".encode("latin-1")}
    form = await edge.get(f"/{link.slug}", headers=cookie)
    assert form.status_code == 200 and 'type="password"' in form.text
