"""The three API families seen from a client: how each sends a key, creates a link and
lists links, and what its error envelope looks like. Tests parametrized over FAMILIES
prove a policy holds for every family alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

# Vivoldi's convention: a request understood and refused answers HTTP 200 with the
# refusal's code (clients test `code` in their success handler); only failures below the
# request's meaning (401, 405, 413, 429, 500, 503) travel with their own HTTP status.
VIVOLDI_REFUSALS = frozenset({400, 403, 404, 409})


def vivoldi_status(code: int) -> int:
    """The HTTP status a Vivoldi answer with `code` travels with."""
    return 200 if code in VIVOLDI_REFUSALS else code


@dataclass(frozen=True)
class Family:
    name: str
    scheme: str  # how the key travels: "Bearer", "APIKey" or a header name

    def headers(self, key: str | None) -> dict[str, str]:
        if key is None:
            return {}
        if self.scheme in ("Bearer", "APIKey"):
            return {"Authorization": f"{self.scheme} {key}"}
        return {self.scheme: key}

    async def create(
        self, http: httpx.AsyncClient, key: str | None, workspace_id: int, url: str
    ) -> httpx.Response:
        headers = self.headers(key)
        if self.name == "native":
            return await http.post("/api/v1/links", headers=headers, json={"url": url})
        if self.name == "vivoldi":
            return await http.post("/api/link/v2/create", headers=headers, json={"url": url})
        body = {"url": url, "workspace_id": workspace_id}
        return await http.post("/api/v1/link", headers=headers, json=body)

    async def group_clicks(
        self, http: httpx.AsyncClient, key: str, workspace_id: int, group_id: int
    ) -> httpx.Response:
        """Statistics narrowed to one group, each family's way."""
        headers = self.headers(key)
        if self.name == "native":
            query = {"group_id": str(group_id), "start": "2026-01-01", "end": "2026-01-07"}
            return await http.get("/api/v1/analytics/summary", headers=headers, params=query)
        query = {"startYmd": "2026-01-01", "endYmd": "2026-01-07", "grpIdx": str(group_id)}
        return await http.get("/api/statistics/v2/clicks-by-date", headers=headers, params=query)

    def created(self, response: httpx.Response) -> bool:
        if self.name == "vivoldi":
            return response.status_code == 200 and response.json()["code"] == 0
        return response.status_code in (200, 201)

    def assert_refused(self, response: httpx.Response, status: int) -> None:
        """The refusal is `status`, in the family's own envelope (Vivoldi: as `code`)."""
        expected = vivoldi_status(status) if self.name == "vivoldi" else status
        assert response.status_code == expected, (self.name, response.status_code, response.text)
        body: Any = response.json()
        if self.name == "vivoldi":
            assert body["code"] == status and body["message"] and body["result"] is None
        else:
            assert isinstance(body["error"], str) and body["error"], body


NATIVE = Family("native", "Bearer")
VIVOLDI = Family("vivoldi", "APIKey")
LINKLY = Family("linkly", "X-API-KEY")
FAMILIES = [NATIVE, VIVOLDI, LINKLY]
