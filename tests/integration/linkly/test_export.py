"""GET /api/v1/workspace/{ws}/links/export: JSON and CSV, streamed."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import msgspec
import pytest

from tests.conftest import Workspace
from tests.integration.linkly.test_link import EXTRA_KEYS, SEED_RESPONSE
from tests.support.services import Service

LINKS = 2500  # several of the exporter's 1000-link batches, and a partial one


@pytest.fixture
async def filled(api: httpx.AsyncClient, workspace: Workspace) -> list[int]:
    ids: list[int] = []
    for start in range(0, LINKS, 1000):
        items: list[dict[str, Any]] = [
            {"url": f"https://example.com/{i}", "name": f'link, "{i}"'}
            for i in range(start, min(start + 1000, LINKS))
        ]
        items[0]["rules"] = [{"what": "platform", "url": "https://m.example", "matches": "ios"}]
        response = await api.post(f"/api/v1/workspace/{workspace.id}/links", json=items)
        assert response.status_code == 200, response.text[:300]
        ids.extend(link["id"] for link in response.json())
    return ids


async def test_json_export_streams_every_link(
    linkly_server: Service, workspace: Workspace, filled: list[int]
) -> None:
    chunks = 0
    body = b""
    # Over a real connection: streaming is what is tested.
    served = httpx.AsyncClient(base_url=linkly_server.url, headers={"X-API-KEY": workspace.key})
    async with (
        served,
        served.stream(
            "GET", f"/api/v1/workspace/{workspace.id}/links/export", params={"format": "json"}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert "content-length" not in response.headers  # streamed, not buffered
        async for chunk in response.aiter_raw():
            chunks += 1
            body += chunk
    links = msgspec.json.decode(body)
    assert [link["id"] for link in links] == sorted(filled)
    assert list(links[0]) == [*SEED_RESPONSE, *EXTRA_KEYS]
    assert links[0]["rules"] == [{"what": "platform", "url": "https://m.example", "matches": "ios"}]
    assert chunks > 1


async def test_csv_export(api: httpx.AsyncClient, workspace: Workspace, filled: list[int]) -> None:
    response = await api.get(
        f"/api/v1/workspace/{workspace.id}/links/export", params={"format": "CSV"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["id"]) for r in rows] == sorted(filled)
    assert rows[1]["name"] == 'link, "1"'
    assert msgspec.json.decode(rows[0]["rules"])[0]["matches"] == "ios"
    assert rows[0]["deleted"] == "false" and rows[0]["alias"] == ""


async def test_empty_workspace_and_bad_format(api: httpx.AsyncClient, workspace: Workspace) -> None:
    path = f"/api/v1/workspace/{workspace.id}/links/export"
    assert (await api.get(path)).json() == []
    assert (await api.get(path, params={"format": "csv"})).text.startswith("id,alias,url,")
    bad = await api.get(path, params={"format": "xml"})
    assert bad.status_code == 400 and bad.json()["field"] == "format"
