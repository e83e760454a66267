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


async def test_refusals_answer_http_200_with_their_code(api: httpx.AsyncClient) -> None:
    # overview/getting-started: "code ... is independent of the HTTP status and is
    # returned only when the HTTP status is in the 2xx or 3xx range": a request kurz
    # understood and refuses is HTTP 200 with a non-zero code, which clients test in
    # their success handler; transport failures (a missing key) keep their status.
    refusals = [
        await api.post("/api/link/v2/create", json={"ttl": "no url"}),  # invalid
        await api.delete("/api/link-group/v1/delete", params={"grpIdx": 987654321}),  # unknown
    ]
    taken = await _create(api, url="https://codes.example/a", brandLinkId="codes-taken")
    refusals.append(
        await api.post(
            "/api/link/v2/create",
            json={"url": "https://codes.example/b", "brandLinkId": "codes-taken"},
        )
    )
    assert taken.endswith("/codes-taken")
    answers = [(r.status_code, r.json()["code"], r.json()["result"]) for r in refusals]
    assert answers == [(200, 400, None), (200, 404, None), (200, 409, None)]
    assert all(r.json()["message"] for r in refusals)
    unauthenticated = await api.post(
        "/api/link/v2/create", json={"url": "https://codes.example/c"},
        headers={"Authorization": "APIKey not-a-key"},
    )  # fmt: skip
    assert (unauthenticated.status_code, unauthenticated.json()["code"]) == (401, 401)


async def test_update_keeps_a_title_sent_empty_and_moves_the_destination(
    api: httpx.AsyncClient,
) -> None:
    # link/update: an empty `ttl` leaves the title; `url` changes the destination.
    short_url = await _create(api, url="https://update.example/old", ttl="Kept title")
    slug = short_url.rsplit("/", 1)[1]
    ok(await api.put("/api/link/v2/update", json={
        "linkId": slug, "domain": DEFAULT_DOMAIN, "ttl": "", "url": "https://update.example/new",
    }))  # fmt: skip
    [item] = ok(await api.get("/api/link/v1/list", params={"linkId": slug}))["list"]
    assert (item["ttl"], item["url"]) == ("Kept title", "https://update.example/new")


async def test_messages_follow_accept_language_where_kurz_has_them(
    api: httpx.AsyncClient,
) -> None:
    # overview/getting-started: requests carry Accept-Language (en, ko); kurz answers
    # in Korean the fixed messages it has in Korean, the code unchanged.
    wrong_key = {"Authorization": "APIKey not-a-key"}
    korean = await api.get(
        "/api/link/v1/list", headers={**wrong_key, "Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"}
    )
    english = await api.get(
        "/api/link/v1/list", headers={**wrong_key, "Accept-Language": "en-US,en;q=0.9,ko;q=0.5"}
    )
    assert korean.json()["code"] == english.json()["code"] == 401
    assert "API 키" in korean.json()["message"]
    assert english.json()["message"].startswith("missing or invalid API key")
    wrong_method = await api.delete("/api/link/v1/list", headers={"Accept-Language": "ko"})
    assert wrong_method.status_code == 405 and "메서드" in wrong_method.json()["message"]
    # A message kurz has only in English stays English, its code the same.
    refused = await api.post(
        "/api/link/v2/create", json={"ttl": "no url"}, headers={"Accept-Language": "ko"}
    )
    assert refused.json()["code"] == 400 and "url" in refused.json()["message"]
