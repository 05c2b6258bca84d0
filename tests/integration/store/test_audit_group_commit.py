"""Group commit of audited reads (store/audit.py ``AuditWriter``) on SQLite and PostgreSQL.

A transaction that wrote nothing but its audit entries hands them to the process's writer, which commits
every entry waiting in one transaction. These tests hold the leader inside its batch (an event, never a
sleep) to see what the callers waiting behind it see: they are not answered before their entries are
committed, their entries go into the next batch together, the chain stays intact, and a failed commit fails
every read of its batch. A transaction that wrote something else keeps its audit entries in it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from painguide.audit.service import verify_chain
from painguide.auth import User
from painguide.errors import DatabaseUnavailableError
from painguide.pathway.service import search_patients
from painguide.store import audit as audit_store
from painguide.store.audit import AuditWriter, PendingEntry, audit_writer
from painguide.store.db import make_engine, session_factory, upgrade
from painguide.store.tables import AuditEntry
from painguide.store.uow import UnitOfWork
from painguide.store.users import create_user

DOCTOR = User("dr.read", "", frozenset({"physician"}))
ROOT = User("root", "", frozenset({"admin"}))
WAIT = 60  # seconds before a test gives up waiting for a thread (a hang, not a speed check)


def _uow(url: str) -> UnitOfWork:
    return UnitOfWork(session_factory(url))


def _writer(url: str) -> AuditWriter:
    return audit_writer(make_engine(url))


def _entries(url: str, actor: str | None = None) -> int:
    """Committed audit entries (of ``actor``), counted on a connection of its own."""
    with make_engine(url).connect() as connection:
        stmt = select(func.count()).select_from(AuditEntry)
        if actor is not None:
            stmt = stmt.where(AuditEntry.actor == actor)
        return int(connection.scalar(stmt) or 0)


def _read(url: str, actor: str, done: dict[str, Any]) -> None:
    """One audited read (a patient search) in a thread; its outcome lands in ``done``."""
    try:
        with _uow(url) as uow:
            page = search_patients(uow, User(actor, "", frozenset({"physician"})), "Mül")
        done[actor] = page.total
    except BaseException as exc:  # handed to the test
        done[actor] = exc


def _wait_until(condition: Callable[[], bool]) -> None:
    event = threading.Event()
    for _ in range(WAIT * 100):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError("timed out waiting for the writer")


class _HeldBatches:
    """Wraps the writer's ``append_entries``: each of the first two batches is written, then held (not yet
    committed) until the test releases it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = [threading.Event(), threading.Event()]
        self.release = [threading.Event(), threading.Event()]
        self.batches: list[list[str]] = []
        real = audit_store.append_entries

        def held(session: Session, entries: Sequence[PendingEntry]) -> None:
            number = len(self.batches)
            self.batches.append([e.actor for e in entries])
            real(session, entries)
            if number < 2:
                self.entered[number].set()
                assert self.release[number].wait(WAIT)

        monkeypatch.setattr(audit_store, "append_entries", held)


@pytest.fixture
def url(db_url: str) -> Iterator[str]:
    upgrade(db_url)
    yield db_url


def test_waiting_reads_are_answered_only_after_their_entries_are_committed_in_one_batch(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _HeldBatches(monkeypatch)
    writer = _writer(url)
    before = writer.batches
    done: dict[str, Any] = {}
    first = threading.Thread(target=_read, args=(url, "leader", done))
    first.start()
    assert held.entered[0].wait(WAIT)  # the leader has written its entry and not yet committed
    others = [threading.Thread(target=_read, args=(url, f"reader{i}", done)) for i in range(5)]
    for thread in others:
        thread.start()
    _wait_until(lambda: len(writer._queue) == 5)  # all five wait behind the held batch
    assert done == {}  # no read is answered ...
    assert _entries(url, "leader") == 0  # ... and the leader's entry is not committed yet
    held.release[0].set()
    first.join(WAIT)
    assert held.entered[1].wait(WAIT)  # one of the five leads the next batch: all five entries, not committed
    assert sorted(held.batches[1]) == [f"reader{i}" for i in range(5)]
    assert done == {"leader": 0} and _entries(url) == 1  # none of the five is answered before its commit
    held.release[1].set()
    for thread in others:
        thread.join(WAIT)
    assert done == {"leader": 0, **{f"reader{i}": 0 for i in range(5)}}  # every read answered, none failed
    assert writer.batches - before == 2 and held.batches[0] == ["leader"]
    assert _entries(url) == 6
    with _uow(url) as uow:
        report = verify_chain(uow, ROOT)
        seqs = list(uow.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert report.intact and report.checked == 6 and seqs == list(range(1, 8))


def test_concurrent_audited_reads_form_one_intact_chain(url: str) -> None:
    done: dict[str, Any] = {}
    threads = [threading.Thread(target=_read, args=(url, f"r{i}", done)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert all(done[f"r{i}"] == 0 for i in range(24))
    with _uow(url) as uow:
        report = verify_chain(uow, ROOT)
    assert report.intact and report.checked == 24


def test_a_failed_commit_fails_every_read_of_its_batch_and_writes_nothing(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: Session, entries: Sequence[PendingEntry]) -> None:
        raise OperationalError("INSERT INTO audit_log", {}, Exception("disk I/O error"))

    monkeypatch.setattr(audit_store, "append_entries", broken)
    done: dict[str, Any] = {}
    threads = [threading.Thread(target=_read, args=(url, f"r{i}", done)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(done) == 4
    for outcome in done.values():
        assert isinstance(outcome, DatabaseUnavailableError)
        assert "audit entry of this read could not be written" in str(outcome) and "disk I/O" in str(outcome)
    monkeypatch.undo()
    assert _entries(url) == 0
    with _uow(url) as uow:  # the writer works again after the failure
        assert search_patients(uow, DOCTOR, "x").total == 0
    assert _entries(url, DOCTOR.username) == 1


def test_a_transaction_that_wrote_keeps_its_audit_entries_in_it(url: str) -> None:
    writer = _writer(url)
    before = writer.batches
    with _uow(url) as uow:  # a write and its audit entry, not committed: neither stays
        create_user(uow.session, "temp", "temporary password", ["viewer"], actor="test")
        uow.audit.record("test", "test.write", "user", "temp")
    assert _entries(url) == 0
    with _uow(url) as uow:
        create_user(uow.session, "kept", "permanent password", ["viewer"], actor="test")
        uow.audit.record("test", "test.write", "user", "kept")
        uow.commit()
    assert writer.batches == before  # written in the transaction itself, not by the writer
    with _uow(url) as uow:
        actions = list(uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
        assert verify_chain(uow, ROOT).intact
    assert actions == ["user.create", "test.write"]


def test_a_page_whose_audit_entry_cannot_be_written_shows_nothing(
    demo_client: TestClient, sign_in: Callable[[TestClient, str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(demo_client, "physician")
    shown = demo_client.get("/patients", headers={"accept": "text/html"})
    assert shown.status_code == 200 and "DEMO-PW-" in shown.text

    def broken(session: Session, entries: Sequence[PendingEntry]) -> None:
        raise OperationalError("INSERT INTO audit_log", {}, Exception("database or disk is full"))

    monkeypatch.setattr(audit_store, "append_entries", broken)
    refused = demo_client.get("/patients", headers={"accept": "text/html"})
    assert refused.status_code == 503 and "DEMO-PW-" not in refused.text
    assert "could not be written" in refused.text and "disk is full" in refused.text
