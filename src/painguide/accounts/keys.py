"""Random secrets and their digests: session ids, API tokens and CSRF tokens (pure)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["TOKEN_PREFIX", "csrf_token", "digest", "new_session_id", "new_token", "same"]

TOKEN_PREFIX = "pgt_"
"""Personal API tokens start with this, so a leaked one is easy to recognise in logs and code."""


def new_session_id() -> str:
    """A random session id (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def new_token() -> str:
    """A random personal API token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """SHA-256 (hex) of a high-entropy secret: what the database keeps instead of the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(key: str, binding: str) -> str:
    """The CSRF token of a session (or of a signed-out browser's seed): HMAC-SHA-256 with the secret key."""
    return hmac.new(key.encode(), f"csrf|{binding}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())
