"""The audit trail: hash chain, `painguide audit verify` on direct UPDATE/DELETE, concurrent writers, the
page's paging and filters, sign-out and the page itself audited, and the migration of older databases."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update

from painguide.cli import main
from painguide.store.db import session_factory, upgrade
from painguide.store.tables import AuditEntry, UserRow
from painguide.store.uow import UnitOfWork

SignIn = Callable[[TestClient, str], None]


def _uow(url: str) -> UnitOfWork:
    return UnitOfWork(session_factory(url))


def _fill(url: str, n: int) -> None:
    with _uow(url) as uow:
        for i in range(n):
            uow.audit.record(f"user{i % 3}", "test.write", "thing", str(i), {"i": i})
        uow.commit()


def _verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(["audit", "verify"])
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out + captured.err


def _configured(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from painguide.settings import get_settings

    monkeypatch.setenv("PAINGUIDE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    upgrade(db_url)
    return db_url


def test_verify_passes_then_names_an_updated_entry(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _configured(db_url, monkeypatch)
    _fill(url, 10)
    code, out = _verify(capsys)
    assert code == 0 and "audit chain intact: 10 entries" in out
    with _uow(url) as uow:  # an attacker with database access rewrites who did something
        uow.session.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(actor="someone-else"))
        uow.commit()
    code, out = _verify(capsys)
    assert code == 7 and "entry 4 (row id" in out and "content does not match its hash" in out
    assert "3 entries before it are intact" in out


def test_verify_names_a_deleted_entry_and_deleted_newest_entries(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _configured(db_url, monkeypatch)
    _fill(url, 10)
    with _uow(url) as uow:
        uow.session.execute(delete(AuditEntry).where(AuditEntry.seq == 6))
        uow.commit()
    code, out = _verify(capsys)
    assert code == 7 and "entry 6 is missing" in out
    with _uow(url) as uow:  # remove the evidence: everything from 6 on (the verify entry too)
        uow.session.execute(delete(AuditEntry).where(AuditEntry.seq >= 6))
        uow.commit()
    code, out = _verify(capsys)
    assert code == 7 and "the chain ends at entry 5 but its head records entry" in out


def test_concurrent_writers_do_not_fork_the_chain(db_url: str) -> None:
    upgrade(db_url)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(10):
                with _uow(db_url) as uow:
                    uow.audit.record(f"w{k}", "test.concurrent", "thing", str(i))
                    uow.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    from painguide.audit.service import verify_chain
    from painguide.auth import User

    with _uow(db_url) as uow:
        report = verify_chain(uow, User("root", "", frozenset({"admin"})))
        seqs = list(uow.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert report.intact and report.checked == 60
    assert seqs == list(range(1, 62))


def test_audit_page_pages_filters_and_is_audited(
    demo_client: TestClient, sign_in: SignIn, isolated_settings: object
) -> None:
    from painguide.services import open_uow

    with open_uow() as uow:
        for i in range(130):
            uow.audit.record("dr.b" if i % 2 else "dr.a", "dose.report.read", "dose_report", str(i))
        uow.commit()
    sign_in(demo_client, "rpo")
    first = demo_client.get("/audit")
    assert first.status_code == 200 and first.text.count("<tr><td>") == 100
    found = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert found is not None
    older = found.group(1).replace("&amp;", "&")
    assert older.startswith("/audit?before=")
    second = demo_client.get(older)
    assert second.status_code == 200 and second.text.count("<tr><td>") >= 30
    only_b = demo_client.get("/audit", params={"actor": "dr.b", "action": "dose."})
    assert only_b.text.count("<tr><td>") == 65
    bad = demo_client.get("/audit", params={"since": "yesterday"})
    assert bad.status_code == 422 and "From: expected a date as YYYY-MM-DD" in bad.text
    today = demo_client.get("/audit", params={"since": "2000-01-01", "until": "2000-01-02"})
    assert "No entries match." in today.text
    demo_client.post("/logout")
    with open_uow() as uow:
        actions = list(uow.session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "rpo")))
    assert actions.count("audit.read") >= 4 and "logout" in actions and "login" in actions


def test_audit_page_escapes_user_text(demo_client: TestClient, sign_in: SignIn) -> None:
    from painguide.services import open_uow

    with open_uow() as uow:
        uow.audit.record("<img src=x onerror=alert(1)>", "test", "thing", "<b>1</b>", {"note": "<script>x"})
        uow.commit()
    sign_in(demo_client, "admin")
    page = demo_client.get("/audit").text
    assert "<img src=x" not in page and "&lt;img src=x" in page and "<script>x" not in page


def test_migration_chains_old_entries_and_marks_demo_accounts(isolated_settings: object) -> None:
    from alembic import command

    from painguide.store.db import _alembic_config, make_engine

    url = f"sqlite:///{isolated_settings}/old.sqlite3"  # type: ignore[str-format]
    cfg = _alembic_config(url)
    with make_engine(url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001_core")
    with make_engine(url).begin() as connection:
        for name, actor in (("admin", "demo"), ("dr.real", "cli")):
            connection.execute(
                text(
                    "INSERT INTO users (username, full_name, password_hash, roles, active, created_at) "
                    "VALUES (:u, '', 'x', 'admin', 1, '2024-01-01 00:00:00.000000')"
                ),
                {"u": name},
            )
            connection.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, object_type, object_id, detail) "
                    "VALUES ('2024-01-01 00:00:00.000000', :a, 'user.create', 'user', :u, NULL)"
                ),
                {"a": actor, "u": name},
            )
    upgrade(url)
    from painguide.audit.service import verify_chain
    from painguide.auth import User

    with _uow(url) as uow:
        demo = {r.username: r.demo for r in uow.session.scalars(select(UserRow))}
        report = verify_chain(uow, User("root", "", frozenset({"admin"})))
    assert demo == {"admin": True, "dr.real": False}
    assert report.intact and report.checked == 2
