"""The SSRF guard: which addresses a webhook may reach, at registration and delivery."""

from __future__ import annotations

import pytest
from kurz.webhooks.ssrf import Resolver, UnsafeTarget, check_url, parse_target, refusal_reason
from kurz_webhooks.transport import GuardedResolver


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "metadata"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("2002:c0a8:101::1", "private"),  # 6to4 of 192.168.1.1
        ("192.0.2.1", "private"),  # documentation range
    ],
)
def test_refuses_non_public_addresses(address: str, reason: str) -> None:
    assert reason in (refusal_reason(address) or "")


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_allows_public_addresses(address: str) -> None:
    assert refusal_reason(address) is None


def resolving_to(*addresses: str) -> Resolver:
    async def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(UnsafeTarget, match=r"resolves to 10\.0\.0\.7, a private address"):
        await check_url("https://hooks.example.com/x", resolver=resolving_to("10.0.0.7"))


async def test_every_address_of_a_name_must_be_public() -> None:
    with pytest.raises(UnsafeTarget, match="loopback"):
        await check_url(
            "https://hooks.example.com/x", resolver=resolving_to("93.184.215.14", "::1")
        )


async def test_a_public_name_passes_and_keeps_its_addresses() -> None:
    target = await check_url(
        "https://hooks.example.com:8443/x", resolver=resolving_to("93.184.215.14")
    )
    assert (target.host, target.port, target.addresses) == (
        "hooks.example.com",
        8443,
        ("93.184.215.14",),
    )


async def test_localhost_is_refused_through_the_system_resolver() -> None:
    with pytest.raises(UnsafeTarget, match="loopback"):
        await check_url("http://localhost:8080/hook")


async def test_allow_private_lifts_the_guard() -> None:
    target = await check_url("http://localhost:8080/hook", allow_private=True)
    assert target.addresses


async def test_an_unresolvable_name_is_refused() -> None:
    async def fails(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(UnsafeTarget, match="does not resolve"):
        await check_url("https://nowhere.invalid/x", resolver=fails)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "non-empty"),
        ("javascript:alert(1)", "http"),
        ("file:///etc/passwd", "http"),
        ("http://", "no host"),
        ("http://a:b@example.com", "credentials"),
        ("http://example.com:70000/", "malformed"),
        ("https://" + "a" * 2100 + ".com", "2048"),
    ],
)
def test_malformed_urls(url: str, message: str) -> None:
    with pytest.raises(UnsafeTarget, match=message):
        parse_target(url)


def test_default_ports() -> None:
    assert parse_target("https://example.com/x") == ("example.com", 443)
    assert parse_target("http://example.com/x") == ("example.com", 80)
    assert parse_target("http://[2606:4700::1]:81/x") == ("2606:4700::1", 81)


async def test_delivery_resolver_returns_only_approved_addresses() -> None:
    resolver = GuardedResolver(allow_private=False, resolver=resolving_to("93.184.215.14"))
    [result] = await resolver.resolve("hooks.example.com", 443)
    assert (result["host"], result["port"], result["hostname"]) == (
        "93.184.215.14",
        443,
        "hooks.example.com",
    )
    rebinding = GuardedResolver(allow_private=False, resolver=resolving_to("192.168.0.10"))
    with pytest.raises(UnsafeTarget):
        await rebinding.resolve("hooks.example.com", 443)
