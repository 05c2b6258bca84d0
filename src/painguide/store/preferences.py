"""Read and write a user's preferences (the page language) inside the caller's unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from painguide.store.audit import AuditRepository
from painguide.store.base import utcnow
from painguide.store.i18n_tables import UserPreferenceRow

__all__ = ["PreferenceRepository", "get_language", "set_language"]


class PreferenceRepository:
    """Each user's stored preferences (``user_preferences``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def language(self, username: str) -> str | None:
        """The language ``username`` chose, or ``None``."""
        row = self._session.get(UserPreferenceRow, username)
        return row.language if row is not None else None

    def set_language(self, username: str, language: str, *, actor: str) -> None:
        """Store ``language`` as the choice of ``username`` and audit the change (the caller commits)."""
        row = self._session.get(UserPreferenceRow, username)
        previous = row.language if row is not None else None
        if row is None:
            self._session.add(UserPreferenceRow(username=username, language=language, updated_at=utcnow()))
        else:
            row.language, row.updated_at = language, utcnow()
        detail = {"from": previous, "to": language}
        AuditRepository(self._session).record(actor, "user.language", "user", username, detail)


def get_language(session: Session, username: str) -> str | None:
    """The language ``username`` chose, or ``None``."""
    return PreferenceRepository(session).language(username)


def set_language(session: Session, username: str, language: str, *, actor: str) -> None:
    """Store ``language`` as the choice of ``username`` and audit the change (the caller commits)."""
    PreferenceRepository(session).set_language(username, language, actor=actor)
