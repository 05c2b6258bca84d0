"""Read and write a user's preferences (the page language) inside the caller's unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from painguide.store.audit import record_audit
from painguide.store.base import utcnow
from painguide.store.i18n_tables import UserPreferenceRow

__all__ = ["get_language", "set_language"]


def get_language(session: Session, username: str) -> str | None:
    """The language ``username`` chose, or ``None``."""
    row = session.get(UserPreferenceRow, username)
    return row.language if row is not None else None


def set_language(session: Session, username: str, language: str, *, actor: str) -> None:
    """Store ``language`` as the choice of ``username`` and audit the change (the caller commits)."""
    row = session.get(UserPreferenceRow, username)
    previous = row.language if row is not None else None
    if row is None:
        session.add(UserPreferenceRow(username=username, language=language, updated_at=utcnow()))
    else:
        row.language, row.updated_at = language, utcnow()
    record_audit(session, actor, "user.language", "user", username, {"from": previous, "to": language})
