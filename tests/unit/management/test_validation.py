"""The shared link rules (kurz.validation), by table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kurz.models import LinkSpec, LinkType, Rule
from kurz.validation import (
    InvalidLink,
    check_rules,
    check_slug,
    check_spec,
    generate_slug,
    normalize_destination,
    normalize_host,
    normalize_web_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com", "https://example.com"),
        ("HTTP://Example.COM/Path?q=1#f", "http://example.com/Path?q=1#f"),
        ("https://bücher.de/ä", "https://xn--bcher-kva.de/ä"),
        ("https://user:pw@example.com:8443/x", "https://user:pw@example.com:8443/x"),
        ("http://[::1]:8080/", "http://[::1]:8080/"),
        ("http://127.0.0.1/", "http://127.0.0.1/"),
    ],
)
def test_web_urls_are_normalized(url: str, expected: str) -> None:
    assert normalize_web_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        "/relative",
        "example.com/x",
        "ftp://e.com/",
        "https:///nohost",
        "https://exa mple.com",
        "https://e.com/\n",
        "https://e.com/\x7f",
        "http://e.com:99999/",
        "https://-bad-.com/",
        "https://" + "a" * 5000 + ".com/",
    ],
)
def test_bad_web_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidLink) as refused:
        normalize_web_url(url)
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    ("link_type", "given", "expected"),
    [
        (LinkType.MAILTO, "a@b.example", "mailto:a@b.example"),
        (
            LinkType.MAILTO,
            "mailto:a@b.example,c@d.example?subject=hi",
            "mailto:a@b.example,c@d.example?subject=hi",
        ),
        (LinkType.TEL, "+1 (555) 010-9999", "tel:+1 (555) 010-9999"),
        (LinkType.SMS, "SMS:+15550109999?body=hello", "sms:+15550109999?body=hello"),
    ],
)
def test_other_link_types_take_their_own_forms(
    link_type: LinkType, given: str, expected: str
) -> None:
    assert normalize_destination(link_type, given) == expected


@pytest.mark.parametrize(
    ("link_type", "given"),
    [
        (LinkType.MAILTO, "not an address"),
        (LinkType.MAILTO, "mailto:"),
        (LinkType.TEL, "tel:abc"),
        (LinkType.TEL, "tel:+123?x=1"),
        (LinkType.SMS, "sms:"),
        (LinkType.URL, "mailto:a@b.example"),
    ],
)
def test_other_link_types_refuse_the_wrong_form(link_type: LinkType, given: str) -> None:
    with pytest.raises(InvalidLink):
        normalize_destination(link_type, given)


def test_hosts() -> None:
    assert normalize_host("Go.Example.COM.") == "go.example.com"
    assert normalize_host("127.0.0.1:8080") == "127.0.0.1:8080"
    assert normalize_host("münchen.example") == "xn--mnchen-3ya.example"
    for bad in ("", "a b.example", "x.example:0", "x.example:http", "under_score.example"):
        with pytest.raises(InvalidLink):
            normalize_host(bad)


def test_slugs() -> None:
    assert check_slug("Spring-Sale_2026") == "Spring-Sale_2026"
    for bad in ("", "-lead", "a/b", "a b", "ü", "x" * 129, "metrics", "HEALTHZ"):
        with pytest.raises(InvalidLink):
            check_slug(bad)
    generated = {generate_slug() for _ in range(200)}
    assert len(generated) == 200 and all(len(s) == 7 and s.isalnum() for s in generated)


def test_rules_are_checked_and_canonical() -> None:
    rules = check_rules(
        [
            Rule("country", "https://de.example", "de"),
            Rule("platform", "https://ios.example", "iOS"),
            Rule("language", "https://fr.example", "fr-CA"),
            Rule("rotator", "https://a.example", None, 60),
            Rule("rotator", "https://b.example", None, 40),
        ]
    )
    assert [r.matches for r in rules[:3]] == ["DE", "ios", "fr-CA"]
    for bad in (
        [Rule("country", "https://x.example", "ZZ")],
        [Rule("country", "https://x.example", None)],
        [Rule("platform", "https://x.example", "palm")],
        [Rule("language", "https://x.example", "!!")],
        [Rule("rotator", "https://x.example", None, None)],
        [Rule("rotator", "https://x.example", None, -1)],
        [
            Rule("rotator", "https://a.example", None, 60),
            Rule("rotator", "https://b.example", None, 41),
        ],
        [Rule("country", "javascript:x", "DE")],
        [Rule("country", "https://x.example", "DE")] * 51,
    ):
        with pytest.raises(InvalidLink) as refused:
            check_rules(bad)
        assert refused.value.field == "rules"


def test_check_spec_normalizes_and_refuses() -> None:
    spec = check_spec(
        LinkSpec(
            url="https://Example.com",
            domain="KURZ.test",
            starts_at=datetime(2030, 1, 1),
            tag_ids=[3, 1, 3],
            webhook_urls=["https://H.example/x"],
        ),
        link_type=LinkType.URL,
    )
    assert spec.url == "https://example.com" and spec.domain == "kurz.test"
    assert spec.starts_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert spec.tag_ids == [1, 3] and spec.webhook_urls == ["https://h.example/x"]
    for bad, field in (
        (LinkSpec(max_clicks=-1), "max_clicks"),
        (LinkSpec(redirect_type=303), "redirect_type"),
        (LinkSpec(title="t" * 501), "title"),
        (LinkSpec(password=""), "password"),
        (LinkSpec(gtm_id="GTM-1'><script>"), "gtm_id"),
        (LinkSpec(tiktok_pixel_id='C4"><script>'), "tiktok_pixel_id"),
        (LinkSpec(tag_ids=[0]), "tag_ids"),
        (LinkSpec(group_id=-5), "group_id"),
        (LinkSpec(webhook_urls=["https://x.example"] * 11), "webhook_urls"),
        (LinkSpec(starts_at=datetime(2030, 1, 2), expires_at=datetime(2030, 1, 1)), "expires_at"),
        (LinkSpec(expiry_url="javascript:x"), "expiry_url"),
    ):
        with pytest.raises(InvalidLink) as refused:
            check_spec(bad, link_type=LinkType.URL)
        assert refused.value.field == field
