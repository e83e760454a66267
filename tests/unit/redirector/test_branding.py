"""Branding and not-found redirects, pure parts: the settings' checks, the decision's
fall-back, and the pages' CSP."""

from __future__ import annotations

import pytest
from kurz.branding import EdgeWorkspace, check_setting, decode_workspace, encode_workspace
from kurz.decision import Answer, Decision, fall_back
from kurz.events import Outcome
from kurz.validation import InvalidLink
from kurz_redirector import look, pages

WORKSPACE = EdgeWorkspace(
    7, "Acme", "https://cdn.example:8443/l.png", "#ff6600", "https://acme.example/",
    "https://acme.example/404", "https://acme.example/ended",
)  # fmt: skip


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (Decision(Answer.EXPIRED, 410, Outcome.EXPIRED),
         Decision(Answer.REDIRECT, 302, Outcome.EXPIRED, "https://acme.example/ended")),
        (Decision(Answer.LIMITED, 410, Outcome.LIMITED),
         Decision(Answer.REDIRECT, 302, Outcome.LIMITED, "https://acme.example/ended")),
        (Decision(Answer.DISABLED, 404, Outcome.DISABLED),
         Decision(Answer.REDIRECT, 302, Outcome.DISABLED, "https://acme.example/404")),
        (Decision(Answer.NOT_STARTED, 403, Outcome.NOT_STARTED),
         Decision(Answer.NOT_STARTED, 403, Outcome.NOT_STARTED)),
        (Decision(Answer.PASSWORD, 200, Outcome.PASSWORD),
         Decision(Answer.PASSWORD, 200, Outcome.PASSWORD)),
    ],
)  # fmt: skip
def test_fall_back(decision: Decision, expected: Decision) -> None:
    assert fall_back(decision, WORKSPACE) == expected
    assert fall_back(decision, None) == decision
    assert fall_back(decision, EdgeWorkspace(7)) == decision  # nothing set: kurz's page


@pytest.mark.parametrize(
    ("name", "value", "canonical"),
    [
        ("accent_color", "#A0b1C2", "#a0b1c2"),
        ("brand_name", "  Café Ünter  ", "Café Ünter"),
        ("logo_url", "http://LOGO.example/a.svg", "http://logo.example/a.svg"),
        ("base_url_redirect", "https://bücher.example", "https://xn--bcher-kva.example"),
        ("expired_link_redirect", None, None),
    ],
)
def test_settings_in_canonical_form(name: str, value: str | None, canonical: str | None) -> None:
    assert check_setting(name, value) == canonical


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("accent_color", "#abc"), ("accent_color", "ff6600"), ("accent_color", "#ff6600;x"),
        ("accent_color", "red"), ("brand_name", "a\nb"), ("brand_name", " "),
        ("logo_url", "javascript:alert(1)"), ("logo_url", "//cdn.example/x.png"),
        ("logo_url", "https://a:b@cdn.example/x.png"), ("logo_url", "https://cdn.example/ x"),
        ("invalid_link_redirect", "mailto:a@b.example"), ("base_url_redirect", "acme.example"),
        ("password", "x"),
    ],
)  # fmt: skip
def test_bad_settings(name: str, value: str) -> None:
    with pytest.raises(InvalidLink) as refused:
        check_setting(name, value)
    assert refused.value.field == name


def test_the_edge_record_round_trips_and_older_records_decode() -> None:
    assert decode_workspace(encode_workspace(WORKSPACE)) == WORKSPACE
    assert decode_workspace(encode_workspace(EdgeWorkspace(3))) == EdgeWorkspace(3)


def test_a_branded_csp_widens_only_what_the_page_has() -> None:
    page = pages.message("Link expired", "This link has expired.", brand=WORKSPACE)
    style = look.accent_style("#ff6600")
    assert f"<style>{style}</style>" in page.body.decode()
    assert f"style-src {look.csp_hash(look.STYLE)} {look.csp_hash(style)};" in page.csp
    assert "img-src 'self' data: https://cdn.example:8443;" in page.csp
    assert "unsafe-inline" not in page.csp
    # Raw tags' policy allows inline style by having no style-src: a hash would end that.
    raw = pages.pixels("https://example.com/", meta=None, ga4=None, gtm=None, tiktok=None,
                       head_tags="<style>b{}</style>", body_tags=None, brand=WORKSPACE)  # fmt: skip
    assert "style-src" not in raw.csp and "'unsafe-inline'" in raw.csp


def test_branding_is_escaped() -> None:
    hostile = EdgeWorkspace(1, '"><script>alert(1)</script>', 'https://cdn.example/"onerror=x')
    body = pages.message("Not found", "x", brand=hostile).body.decode()
    assert "<script>alert" not in body and "&lt;script&gt;" in body
    assert '"onerror' not in body and "&quot;onerror=x" in body


def test_accent_text_reads_on_the_accent() -> None:
    assert "--on-accent:#fff" in look.accent_style("#1b2130")
    assert "--on-accent:#111" in look.accent_style("#ffd400")
