"""The one password gate (links at the edge, statistics pages): every attempt is counted
before it is verified, so concurrent guesses cannot pass the limit; a right answer clears
the count; a Redis that cannot count closes the gate."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
from kurz.dev.servers import free_port
from kurz.password_gate import GateUnavailable, PasswordGate, Throttled
from kurz.passwords import hash_password
from kurz.signed import Signer
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

HASH = hash_password("open sesame")


async def test_concurrent_guesses_get_exactly_the_allowed_attempts(redis: aioredis.Redis) -> None:
    gate = PasswordGate(redis, attempts=5, window=60)
    counter = f"test:gate:{uuid.uuid4().hex}"
    results = await asyncio.gather(
        *(gate.check(counter, HASH, f"guess {n}") for n in range(20)), return_exceptions=True
    )
    assert results.count(False) == 5
    throttled = [r for r in results if isinstance(r, Throttled)]
    assert len(throttled) == 15 and all(1 <= t.retry_after <= 60 for t in throttled)
    with pytest.raises(Throttled):  # the right answer too, until the window ends
        await gate.check(counter, HASH, "open sesame")


async def test_a_right_answer_clears_the_count(redis: aioredis.Redis) -> None:
    gate = PasswordGate(redis, attempts=2, window=60)
    counter = f"test:gate:{uuid.uuid4().hex}"
    assert await gate.check(counter, HASH, "wrong") is False
    assert await gate.check(counter, HASH, "open sesame") is True
    assert await redis.exists(counter) == 0
    assert await gate.check(counter, HASH, "wrong") is False  # a fresh budget


async def test_no_counter_no_attempt() -> None:
    dead = aioredis.Redis(port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(GateUnavailable):
            await PasswordGate(dead, attempts=5, window=60).check("k", HASH, "open sesame")
    finally:
        await dead.aclose()


def test_signed_values_hold_for_their_subject_purpose_and_time() -> None:
    signer = Signer("secret", "a purpose")
    value = signer.issue("link 1\nhash", ttl=60, now=1000)
    assert signer.valid("link 1\nhash", value, now=1059)
    assert not signer.valid("link 1\nhash", value, now=1061)  # expired
    assert not signer.valid("link 1\nnew hash", value, now=1000)  # password changed
    assert not Signer("secret", "another purpose").valid("link 1\nhash", value, now=1000)
    assert not Signer("other secret", "a purpose").valid("link 1\nhash", value, now=1000)
    expires, _, mac = value.partition(".")
    assert not signer.valid("link 1\nhash", f"{int(expires) + 1000}.{mac}", now=1000)
    for junk in (None, "", "x", "١٢٣.abc", f"{expires}."):
        assert not signer.valid("link 1\nhash", junk, now=1000)
