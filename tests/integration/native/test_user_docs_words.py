"""What users read speaks of kurz alone: no document, README or OpenAPI text names how
kurz was specified or built (its seeds, issues, design notes, reference folder, or the
product its native shape came from)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = re.compile(r"\bseeds?\b|\bissues?\b|DESIGN\.md|\breference/|\bbrevr\b", re.IGNORECASE)


def user_documents() -> list[Path]:
    found = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    found += sorted(ROOT.glob("services/*/README.md"))
    return found


def offending(text: str) -> list[str]:
    return [
        f"{number}: {line.strip()[:120]}"
        for number, line in enumerate(text.splitlines(), 1)
        if FORBIDDEN.search(line)
    ]


@pytest.mark.parametrize("path", user_documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_user_documents_speak_of_kurz_alone(path: Path) -> None:
    assert offending(path.read_text()) == []


def test_the_check_catches_each_word() -> None:
    for line in ("see seed 002", "Issue 9's targets", "in DESIGN.md", "reference/seeds", "Brevr"):
        assert offending(line), line
    assert not offending("a key is issued once; the seedling reference manual")


async def test_the_openapi_document_speaks_of_kurz_alone(http: httpx.AsyncClient) -> None:
    served = await http.get("/openapi.json")
    assert served.status_code == 200
    assert offending(served.text.replace("\\n", "\n")) == []
