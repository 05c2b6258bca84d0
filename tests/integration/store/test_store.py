"""The store on a real SQLite file and a real PostgreSQL server: migrations, unit of work, users, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from painguide.errors import ValidationError
from painguide.store.audit import list_audit, record_audit
from painguide.store.db import current_revisions, make_engine, session_factory, upgrade
from painguide.store.tables import AuditEntry
from painguide.store.uow import UnitOfWork
from painguide.store.users import authenticate, create_user, get_user


def test_upgrade_creates_core_tables_and_is_repeatable(db_url: str) -> None:
    assert current_revisions(db_url) == set()
    upgrade(db_url)
    revisions = current_revisions(db_url)
    assert "0001_core" in revisions or any(r for r in revisions)  # later branches sit on top of 0001_core
    tables = set(inspect(make_engine(db_url)).get_table_names())
    assert {"users", "audit_log", "alembic_version"} <= tables
    upgrade(db_url)  # a second run changes nothing
    assert current_revisions(db_url) == revisions


def test_unit_of_work_rolls_back_unless_committed(db_url: str) -> None:
    upgrade(db_url)
    factory = session_factory(db_url)
    with UnitOfWork(factory) as uow:
        record_audit(uow.session, "alice", "test.uncommitted", "thing", "1")
    with UnitOfWork(factory) as uow:
        record_audit(uow.session, "alice", "test.committed", "thing", "2", {"n": 2})
        uow.commit()
    with pytest.raises(RuntimeError, match="boom"), UnitOfWork(factory) as uow:
        record_audit(uow.session, "alice", "test.failed", "thing", "3")
        raise RuntimeError("boom")
    with UnitOfWork(factory) as uow:
        actions = [e.action for e in uow.session.scalars(select(AuditEntry))]
        entries = list_audit(uow.session, actor="alice")
    assert actions == ["test.committed"]
    assert entries[0].detail == {"n": 2}
    assert entries[0].at.tzinfo is not None


def test_users_roles_passwords_and_audit(db_url: str) -> None:
    upgrade(db_url)
    factory = session_factory(db_url)
    with UnitOfWork(factory) as uow:
        create_user(
            uow.session, "dr.a", "correct horse", ["physician", "rpo"], full_name="Dr A", actor="admin"
        )
        uow.commit()
    with UnitOfWork(factory) as uow:
        assert authenticate(uow.session, "dr.a", "wrong password") is None
        user = authenticate(uow.session, "dr.a", "correct horse")
        assert user is not None
        assert user.roles == {"physician", "rpo"}
        assert user.has_any("rpo") and not user.has_any("admin")
        assert get_user(uow.session, "nobody") is None
        audit = list_audit(uow.session, actor="admin")
    assert [(e.action, e.object_id) for e in audit] == [("user.create", "dr.a")]


@pytest.mark.parametrize(
    ("username", "password", "roles", "field"),
    [
        ("", "long enough", ["viewer"], "username"),
        ("bad name!", "long enough", ["viewer"], "username"),
        ("ok", "short", ["viewer"], "password"),
        ("ok", "long enough", ["surgeon"], "roles"),
        ("ok", "long enough", [], "roles"),
    ],
)
def test_bad_user_input_names_the_field(username: str, password: str, roles: list[str], field: str) -> None:
    url = "sqlite://"
    upgrade(url)
    with UnitOfWork(session_factory(url)) as uow, pytest.raises(ValidationError, match=f"^{field}: "):
        create_user(uow.session, username, password, roles)


def test_duplicate_username_is_refused(db_url: str) -> None:
    upgrade(db_url)
    factory = session_factory(db_url)
    with UnitOfWork(factory) as uow:
        create_user(uow.session, "bob", "long enough", ["viewer"])
        uow.commit()
    with UnitOfWork(factory) as uow, pytest.raises(ValidationError, match="exists already"):
        create_user(uow.session, "bob", "other password", ["viewer"])
