"""The session lookup of every signed-in request (``session_login``) on a real database (SQLite, PostgreSQL):
the account's user and page language read together; unknown, ended, disabled and idle sessions refused, and
the refused open ones ended."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from painguide.accounts import service
from painguide.accounts.keys import digest
from painguide.auth import User
from painguide.i18n.service import choose_language
from painguide.settings import get_settings
from painguide.store.base import utcnow
from painguide.store.db import session_factory, upgrade
from painguide.store.tables import SessionRow
from painguide.store.uow import UnitOfWork
from painguide.store.users import create_user


@pytest.fixture
def uow(db_url: str) -> Iterator[UnitOfWork]:
    upgrade(db_url)
    with UnitOfWork(session_factory(db_url)) as unit:
        create_user(
            unit.session, "ada", "correct horse", ["physician", "rpo"], actor="test", full_name="Ada L"
        )
        unit.commit()
        yield unit


def _sign_in(uow: UnitOfWork) -> str:
    signed = service.sign_in(uow, "ada", "correct horse", address="127.0.0.1")
    assert signed is not None
    return signed.session_id


def _ended(uow: UnitOfWork, session_id: str) -> bool:
    row = uow.session.scalar(select(SessionRow).where(SessionRow.id_hash == digest(session_id)))
    assert row is not None
    uow.session.refresh(row)
    return row.ended_at is not None


def test_the_user_and_the_chosen_language_come_with_the_session(uow: UnitOfWork) -> None:
    session_id = _sign_in(uow)
    found = service.session_login(uow, session_id)
    assert found is not None
    assert found.user == User("ada", "Ada L", frozenset({"physician", "rpo"}))
    assert found.language is None  # never chose one: the browser's language applies
    choose_language(uow, found.user, "de")
    again = service.session_login(uow, session_id)
    assert again is not None and again.language == "de"
    assert service.session_user(uow, session_id) == found.user
    assert service.session_login(uow, "not-a-session") is None


def test_ended_disabled_and_idle_sessions_are_refused_and_ended(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    ended = _sign_in(uow)
    service.sign_out(uow, User("ada", "", frozenset({"physician"})), ended)
    assert service.session_login(uow, ended) is None

    idle = _sign_in(uow)
    later = utcnow() + timedelta(minutes=get_settings().session_idle_minutes, seconds=1)
    monkeypatch.setattr(service, "utcnow", lambda: later)
    assert not _ended(uow, idle)
    assert service.session_login(uow, idle) is None
    assert _ended(uow, idle)  # the refusal ended it
    monkeypatch.undo()

    disabled = _sign_in(uow)
    assert service.session_login(uow, disabled) is not None
    row = uow.users.require("ada")
    row.active = False  # as an administrator's disable, without its ending of sessions
    uow.commit()
    assert service.session_login(uow, disabled) is None
    assert _ended(uow, disabled)
