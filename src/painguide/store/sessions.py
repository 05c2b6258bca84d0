"""Browser sessions (``uow.sessions``), personal API tokens (``uow.tokens``) and sign-in failures
(``uow.logins``). Secrets are never stored: only their SHA-256."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from painguide.store.i18n_tables import UserPreferenceRow
from painguide.store.tables import ApiTokenRow, LoginThrottleRow, SessionRow, UserRow

__all__ = ["LoginRepository", "OpenSession", "SessionRepository", "TokenRepository"]


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A session not yet ended, with what a request needs of its account (read in one statement)."""

    created_at: datetime
    last_seen_at: datetime
    username: str
    full_name: str
    roles: str
    active: bool
    demo: bool
    language: str | None
    """The page language the account chose (``None``: never chose one)."""


_SESSIONS = cast(Table, SessionRow.__table__)
_USERS = cast(Table, UserRow.__table__)
_PREFERENCES = cast(Table, UserPreferenceRow.__table__)
_OPEN_SESSION = (
    select(
        _SESSIONS.c.created_at,
        _SESSIONS.c.last_seen_at,
        _USERS.c.username,
        _USERS.c.full_name,
        _USERS.c.roles,
        _USERS.c.active,
        _USERS.c.demo,
        _PREFERENCES.c.language,
    )
    .select_from(
        _SESSIONS.join(_USERS, _USERS.c.id == _SESSIONS.c.user_id).outerjoin(
            _PREFERENCES, _PREFERENCES.c.username == _USERS.c.username
        )
    )
    .where(_SESSIONS.c.id_hash == bindparam("id_hash"), _SESSIONS.c.ended_at.is_(None))
)
"""Built once: every signed-in request sends it (plain SQL, no ORM objects)."""


class SessionRepository:
    """Rows of the ``sessions`` table, keyed by the SHA-256 of the cookie's session id."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, id_hash: str, user_id: int, *, now: datetime, address: str) -> SessionRow:
        """Start a session."""
        row = SessionRow(
            id_hash=id_hash, user_id=user_id, created_at=now, last_seen_at=now, address=address[:64]
        )
        self._session.add(row)
        return row

    def open_session(self, id_hash: str) -> OpenSession | None:
        """A session that has not been ended, with its account and the account's page language."""
        found = self._session.connection().execute(_OPEN_SESSION, {"id_hash": id_hash}).one_or_none()
        return OpenSession(*found) if found is not None else None

    def touch(self, id_hash: str, *, now: datetime) -> None:
        """Note that the session was used at ``now``."""
        stmt = update(SessionRow).where(SessionRow.id_hash == id_hash).values(last_seen_at=now)
        self._session.execute(stmt)

    def end(self, id_hash: str, *, now: datetime) -> bool:
        """End one session; True when it was open."""
        stmt = (
            update(SessionRow)
            .where(SessionRow.id_hash == id_hash, SessionRow.ended_at.is_(None))
            .values(ended_at=now)
        )
        return bool(self._session.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def end_all(self, user_id: int, *, now: datetime) -> int:
        """End every open session of an account; returns how many."""
        stmt = (
            update(SessionRow)
            .where(SessionRow.user_id == user_id, SessionRow.ended_at.is_(None))
            .values(ended_at=now)
        )
        return int(self._session.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def open_count(self, user_id: int) -> int:
        """Open sessions of an account."""
        stmt = select(SessionRow.id_hash).where(SessionRow.user_id == user_id, SessionRow.ended_at.is_(None))
        return len(list(self._session.scalars(stmt)))


class TokenRepository:
    """Rows of the ``api_tokens`` table, keyed by the SHA-256 of the token."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self, token_hash: str, user_id: int, *, label: str, now: datetime, expires_at: datetime | None
    ) -> ApiTokenRow:
        """Store a new token's digest."""
        row = ApiTokenRow(
            token_hash=token_hash, user_id=user_id, label=label[:100], created_at=now, expires_at=expires_at
        )
        self._session.add(row)
        self._session.flush()
        return row

    def with_user(self, token_hash: str) -> tuple[ApiTokenRow, UserRow] | None:
        """A token that has not been revoked, with its account."""
        stmt = (
            select(ApiTokenRow, UserRow)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(ApiTokenRow.token_hash == token_hash, ApiTokenRow.revoked_at.is_(None))
        )
        found = self._session.execute(stmt).one_or_none()
        return (found[0], found[1]) if found is not None else None

    def revoke_all(self, user_id: int, *, now: datetime) -> int:
        """Revoke every token of an account; returns how many."""
        stmt = (
            update(ApiTokenRow)
            .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(self._session.execute(stmt).rowcount)  # type: ignore[attr-defined]


class LoginRepository:
    """Failed sign-ins per key (``user:NAME``, ``addr:IP``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, key: str) -> LoginThrottleRow | None:
        """The failure record of ``key``."""
        return self._session.get(LoginThrottleRow, key[:100])

    def put(self, key: str, *, failures: int, now: datetime, blocked_until: datetime | None) -> None:
        """Store the failure count and block of ``key``."""
        row = self.get(key)
        if row is None:
            row = LoginThrottleRow(key=key[:100], failures=failures, last_failure_at=now)
            self._session.add(row)
        row.failures, row.last_failure_at, row.blocked_until = failures, now, blocked_until

    def clear(self, key: str) -> None:
        """Forget the failures of ``key`` (after a successful sign-in)."""
        self._session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == key[:100]))
