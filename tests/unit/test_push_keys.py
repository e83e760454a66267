"""VAPID keys as kurz takes them: a pair made by `kurz push keys`, the public key derived
from the private one (raw or PEM), a mismatched or unreadable pair stopping a service with
one line, and `make run`'s pair made once and kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from kurz import push
from kurz.dev import stack
from kurz.settings import PushSettings


def test_the_public_key_is_derived_from_the_private_one() -> None:
    private, public = push.new_vapid_keys()
    assert push.public_key(PushSettings(vapid_private_key=private)) == public
    assert len(push.b64url_decode(public)) == 65
    assert push.private_key_b64url(PushSettings(vapid_private_key=private)) == private


def test_a_pem_private_key_is_read_too() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert push.public_key(PushSettings(vapid_private_key=pem)) == push.b64url(point)


def test_a_mismatched_pair_stops_the_service_with_one_line() -> None:
    private, _ = push.new_vapid_keys()
    _, other = push.new_vapid_keys()
    with pytest.raises(SystemExit, match="not the public key of KURZ_VAPID_PRIVATE_KEY"):
        push.check_keys(PushSettings(vapid_private_key=private, vapid_public_key=other))
    with pytest.raises(SystemExit, match="invalid VAPID key"):
        push.check_keys(PushSettings(vapid_public_key="c2hvcnQ"))
    push.check_keys(PushSettings())  # no keys: push off, nothing to check


def test_subscriptions_are_checked() -> None:
    _, public = push.new_vapid_keys()
    auth = push.b64url(b"0123456789abcdef")
    keys = f'{{"p256dh": "{public}", "auth": "{auth}"}}'
    good = f'{{"endpoint": "https://push.example/a", "keys": {keys}}}'
    assert push.parse_subscription(good.encode()) == ("https://push.example/a", public, auth)
    with pytest.raises(push.InvalidSubscription, match="16 bytes"):
        push.parse_subscription(good.replace(auth, push.b64url(b"short")).encode())


def test_make_run_makes_a_pair_once_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack, "STATE", tmp_path)
    monkeypatch.delenv("KURZ_VAPID_PRIVATE_KEY", raising=False)
    first = stack._vapid_keys()
    assert first == stack._vapid_keys()
    assert (tmp_path / "vapid.json").stat().st_mode & 0o777 == 0o600
    settings = PushSettings(vapid_private_key=first["KURZ_VAPID_PRIVATE_KEY"])
    assert push.public_key(settings) == first["KURZ_VAPID_PUBLIC_KEY"]
    monkeypatch.setenv("KURZ_VAPID_PRIVATE_KEY", "from-the-environment")
    assert stack._vapid_keys() == {}  # the environment's own keys win
