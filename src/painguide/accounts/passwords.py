"""Password hashing: argon2id (argon2-cffi, RFC 9106 parameters); older scrypt hashes still verify.

A sign-in with a hash made with older parameters (or scrypt) is re-hashed with the current ones
(:func:`needs_rehash`). :func:`verify_dummy` does the same work for an unknown user name, so the answer
takes as long as for a known one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from painguide.settings import get_settings

__all__ = ["MIN_PASSWORD_LENGTH", "hash_password", "needs_rehash", "verify_dummy", "verify_password"]

MIN_PASSWORD_LENGTH = 8


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=4)


def _hasher() -> PasswordHasher:
    """argon2id with the configured cost (default t=3, m=64 MiB, p=4: RFC 9106's second recommendation)."""
    settings = get_settings()
    return _hasher_for(settings.password_time_cost, settings.password_memory_kib)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` in PHC string format (``$argon2id$v=19$m=…``)."""
    return _hasher().hash(password)


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=2**27
        )
        return hmac.compare_digest(got, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (argon2 or the older ``scrypt$N$r$p$salt$hash``)."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` is not an argon2id hash with the current parameters."""
    if not stored.startswith("$argon2id$"):
        return True
    try:
        return _hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    return _hasher_for(time_cost, memory_kib).hash(secrets.token_urlsafe(16))


def verify_dummy(password: str) -> bool:
    """Verify ``password`` against a random hash (always False): equal work for unknown user names."""
    settings = get_settings()
    verify_password(password, _dummy_hash(settings.password_time_cost, settings.password_memory_kib))
    return False
