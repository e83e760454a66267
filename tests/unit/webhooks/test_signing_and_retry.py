"""Signatures that the reference `standardwebhooks` package accepts; retry timing."""

from __future__ import annotations

import base64
import random
import time
from email.utils import formatdate

import pytest
import standardwebhooks
from kurz.webhooks import signing
from kurz.webhooks.retry import parse_retry_after, retry_delay


def test_generated_secrets_are_standard_webhooks_secrets() -> None:
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 24
    assert signing.generate_secret() != secret


def test_signatures_verify_with_the_reference_package() -> None:
    secret = signing.generate_secret()
    body = b'{"type":"link.clicked"}'
    headers = signing.headers(secret, "evt_1", int(time.time()), body)
    assert standardwebhooks.Webhook(secret).verify(body, headers) == {"type": "link.clicked"}
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(signing.generate_secret()).verify(body, headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(body + b" ", headers)


def test_a_secret_not_in_whsec_form_signs_with_its_bytes() -> None:
    plain = "a-group-secret"
    expected = signing.sign("whsec_" + base64.b64encode(plain.encode()).decode(), "m", 1, b"x")
    assert signing.sign(plain, "m", 1, b"x") == expected


def as_float(delay: float | None) -> float:
    assert delay is not None
    return delay


def test_retry_delay_follows_the_schedule_with_jitter() -> None:
    schedule = (1.0, 10.0, 100.0)
    rng = random.Random(7)
    for attempts, base in ((1, 1.0), (2, 10.0), (3, 100.0)):
        delays = [as_float(retry_delay(schedule, attempts, rng=rng)) for _ in range(200)]
        assert all(base * 0.8 <= d <= base * 1.2 for d in delays)
        assert len(set(delays)) > 100  # jittered, not constant
    assert retry_delay(schedule, 4) is None  # schedule used up: dead letter
    assert retry_delay(schedule, 0) is None


def test_retry_after_wins_when_longer() -> None:
    assert retry_delay((1.0,), 1, retry_after=30.0) == 30.0
    assert as_float(retry_delay((100.0,), 1, retry_after=1.0, rng=random.Random(1))) >= 80.0


def test_parse_retry_after() -> None:
    now = time.time()
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 5 ", now) == 5.0
    assert parse_retry_after("99999999", now) == 86_400.0
    assert 55 <= (parse_retry_after(formatdate(now + 60, usegmt=True), now) or 0) <= 61
    assert parse_retry_after(formatdate(now - 60, usegmt=True), now) == 0.0
    for bad in (None, "", "soon", "-5", "1.5e3"):
        assert parse_retry_after(bad, now) is None
