"""Vivoldi's link reference beyond the seeds, each fact checked with its source in a
comment (en.vivoldi.com/url/api/link/...)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import DEFAULT_DOMAIN


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 0, body
    return body["result"]


async def _create(api: httpx.AsyncClient, **fields: Any) -> str:
    short_url: str = ok(await api.post("/api/link/v2/create", json=fields))
    return short_url


async def test_list_filters_and_types(api: httpx.AsyncClient) -> None:
    # link/list: filters linkId, ttl (partial), memo (partial), url (exact, full URL);
    # items carry typeIdx and typeNm (103, "URL") and domain with its scheme.
    a = await _create(api, url="https://filters.example/a", ttl="Spring SALE", memo="team red")
    b = await _create(api, url="https://filters.example/b", ttl="Autumn", memo="team blue")
    slug_a = a.rsplit("/", 1)[1]

    async def listed(**params: str) -> list[str]:
        result = ok(await api.get("/api/link/v1/list", params=params))
        return [item["shortUrl"] for item in result["list"]]

    assert await listed(linkId=slug_a) == [a]
    assert await listed(ttl="sale") == [a]
    assert await listed(memo="blue") == [b]
    assert await listed(url="https://filters.example/b") == [b]
    assert await listed(url="https://filters.example") == []  # exact, not a prefix
    [item] = ok(await api.get("/api/link/v1/list", params={"linkId": slug_a}))["list"]
    assert (item["typeIdx"], item["typeNm"]) == (103, "URL")
    assert item["domain"] == f"http://{DEFAULT_DOMAIN}"


async def test_reuse_answers_the_first_link_to_the_same_url(api: httpx.AsyncClient) -> None:
    # link/create: reuseYn=Y: "if the same long URL already exists, return its first
    # short URL instead of a new one".
    first = await _create(api, url="https://reuse.example/landing")
    second = await _create(api, url="https://reuse.example/landing")
    assert second != first  # without reuseYn, a new link every time
    again = await _create(api, url="https://reuse.example/landing", reuseYn="Y")
    assert again == first
    fresh = await _create(api, url="https://reuse.example/other", reuseYn="Y")
    assert fresh not in (first, second)


async def test_the_older_create_takes_a_form(api: httpx.AsyncClient) -> None:
    # en.vivoldi.com/url/api (the older reference): POST /api/link/v1/create with a
    # form-urlencoded body; legacy integrations still call it.
    answer = await api.post(
        "/api/link/v1/create",
        data={"url": "https://legacy.example/page", "ttl": "From a form", "reuseYn": "N"},
    )
    short_url = ok(answer)
    slug = short_url.rsplit("/", 1)[1]
    [item] = ok(await api.get("/api/link/v1/list", params={"linkId": slug}))["list"]
    assert (item["url"], item["ttl"]) == ("https://legacy.example/page", "From a form")
    bad = await api.post("/api/link/v1/create", data={"ttl": "no url"})
    assert bad.json()["code"] != 0 and "url" in bad.json()["message"]
