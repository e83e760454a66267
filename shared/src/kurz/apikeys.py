"""API keys: random, shown once, stored as a SHA-256 digest.

A key has 256 bits of entropy, so a fast digest is the right hash (a slow password hash
would only cost every request time); lookup is by digest, so comparing never leaks
timing about a stored key.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "kurz_"


def generate_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def display_prefix(key: str) -> str:
    return key[: len(PREFIX) + 6]
