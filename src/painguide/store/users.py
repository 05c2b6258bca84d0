"""Users: creation, password check (scrypt from the standard library) and roles."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from painguide.auth.models import ROLES, User
from painguide.errors import ValidationError
from painguide.store.audit import record_audit
from painguide.store.tables import UserRow

__all__ = [
    "ROLES",
    "User",
    "authenticate",
    "create_user",
    "get_user",
    "hash_password",
    "list_users",
    "verify_password",
]

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """scrypt hash with a random salt, as ``scrypt$N$r$p$salt$hash`` (base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return "$".join(
        [
            "scrypt",
            str(_N),
            str(_R),
            str(_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(got, base64.b64decode(digest))


def _to_user(row: UserRow) -> User:
    return User(row.username, row.full_name, frozenset(r for r in row.roles.split(",") if r))


def create_user(
    session: Session,
    username: str,
    password: str,
    roles: list[str],
    *,
    full_name: str = "",
    actor: str = "system",
) -> User:
    """Add a user; the caller's unit of work commits."""
    username = username.strip()
    if (
        not username
        or len(username) > 64
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
    ):
        raise ValidationError("username", "use 1-64 letters, digits, '.', '-' or '_'")
    if len(password) < 8:
        raise ValidationError("password", "use at least 8 characters")
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise ValidationError(
            "roles", f"give one or more of {', '.join(ROLES)} (got {', '.join(bad) or 'none'})"
        )
    if session.scalar(select(UserRow).where(UserRow.username == username)) is not None:
        raise ValidationError("username", f"{username!r} exists already; choose another name")
    row = UserRow(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        roles=",".join(sorted(set(roles))),
        active=True,
    )
    session.add(row)
    record_audit(session, actor, "user.create", "user", username, {"roles": sorted(set(roles))})
    return _to_user(row)


def get_user(session: Session, username: str) -> User | None:
    row = session.scalar(select(UserRow).where(UserRow.username == username, UserRow.active.is_(True)))
    return _to_user(row) if row else None


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password matches an active account, else None."""
    row = session.scalar(select(UserRow).where(UserRow.username == username, UserRow.active.is_(True)))
    if row is None or not verify_password(password, row.password_hash):
        return None
    return _to_user(row)


def list_users(session: Session) -> list[User]:
    return [_to_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]
