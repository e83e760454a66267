"""The language of Vivoldi answers. Vivoldi's clients send `Accept-Language` (`en` or
`ko`); kurz answers in Korean the messages it has in Korean (the refusals that are the
same for every request: no key, wrong method, body too large, rate limit, fault, outage)
and in English everything else. `code` never changes with the language."""

from __future__ import annotations

from kurz_management.vivoldi.envelope import Code, VivoldiError

KOREAN: dict[Code, str] = {
    Code.UNAUTHORIZED: "API 키가 없거나 올바르지 않습니다. "
    "'Authorization: APIKey <키>'를 보내세요.",
    Code.METHOD: "이 경로는 다른 HTTP 메서드를 사용합니다. Allow 헤더를 확인하세요.",
    Code.TOO_LARGE: "요청 본문이 허용된 크기를 넘었습니다.",
    Code.RATE_LIMITED: "요청 한도를 넘었습니다. Retry-After 초 뒤에 다시 시도하세요.",
    Code.INTERNAL: "내부 오류가 발생했습니다.",
    Code.UNAVAILABLE: "데이터베이스 또는 캐시를 사용할 수 없습니다. 잠시 뒤 다시 시도하세요.",
}


def prefers_korean(accept_language: str | None) -> bool:
    """Whether Korean ranks above English (and above everything) in the header."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag:
            ranked.append((-quality, position, tag.split("-")[0].lower()))
    return bool(ranked) and min(ranked)[2] == "ko"


def in_language(error: VivoldiError, accept_language: str | None) -> VivoldiError:
    if error.code in KOREAN and prefers_korean(accept_language):
        return VivoldiError(error.code, KOREAN[error.code])
    return error
