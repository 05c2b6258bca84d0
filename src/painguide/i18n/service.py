"""Use case: choose the page language (stored for a signed-in user, audited in the same transaction)."""

from __future__ import annotations

from painguide.auth import User, authorize
from painguide.i18n.languages import check_language
from painguide.store.uow import UnitOfWork

__all__ = ["choose_language", "stored_language"]


def choose_language(uow: UnitOfWork, user: User | None, language: str) -> str:
    """Check ``language`` and, for a signed-in ``user``, store it as their choice; return the code.

    Without a user (the sign-in page) nothing is stored; the caller keeps the choice in a cookie.
    """
    authorize(user, "language.choose")
    code = check_language(language)
    if user is not None:
        uow.preferences.set_language(user.username, code, actor=user.username)
        uow.commit()
    return code


def stored_language(uow: UnitOfWork, username: str) -> str | None:
    """The language ``username`` chose, or ``None`` when they never chose one."""
    return uow.preferences.language(username)
