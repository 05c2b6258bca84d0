"""The audit trail (``uow.audit``): append entries to the hash chain.

Writers serialise on the chain head (table ``audit_head``, one row): the first statement of a write is
``UPDATE audit_head SET seq = seq + n … RETURNING``, which takes the row lock on PostgreSQL (held to commit;
a second writer waits and then reads the committed head) and the database write lock on SQLite. Two
concurrent writers therefore never link to the same previous entry.

The unit of work's repository keeps the entries of its transaction until :meth:`UnitOfWork.commit
<painguide.store.uow.UnitOfWork.commit>`, which claims their positions right before the commit (the head is
locked for the shortest time). A transaction that wrote nothing else (an audited read) hands its entries to
the process's :class:`AuditWriter` instead: one writer thread at a time commits every entry waiting (group
commit: one head update, one insert, one commit and ``fsync`` for many reads) and only then releases the
waiting requests, so a read is answered only after its audit entry is durable, and fails when it cannot be
written.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import cast
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Select, Table, TextClause, bindparam, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from painguide.audit.chain import GENESIS, clean_detail, clean_text, entry_digest
from painguide.errors import DatabaseUnavailableError
from painguide.jsontypes import JsonValue
from painguide.store.base import utcnow
from painguide.store.tables import AuditEntry, AuditHead

try:  # POSIX; elsewhere the SQLite busy handler alone orders the processes' writers
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["AuditFilter", "AuditRepository", "AuditWriter", "PendingEntry", "list_audit", "record_audit"]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the audit page asks for: exact actor, action prefix, object type and id, a time range."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An audit entry recorded but not yet written: its content, cleaned and cut to the column sizes."""

    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: JsonValue


def _pending(
    actor: str, action: str, object_type: str, object_id: object, detail: Mapping[str, object] | None
) -> PendingEntry:
    clean = json.loads(json.dumps(clean_detail(detail))) if detail is not None else None
    return PendingEntry(
        at=utcnow(),
        actor=clean_text(actor, 64),
        action=clean_text(action, 64),
        object_type=clean_text(object_type, 64),
        object_id=clean_text(object_id, 128),
        detail=clean,
    )


_LOG = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditHead.__table__)


_COLUMNS = ("at", "actor", "action", "object_type", "object_id", "detail", "seq", "prev_hash", "entry_hash")


@lru_cache(maxsize=64)
def _append_postgresql(rows: int) -> TextClause:
    """PostgreSQL: insert ``rows`` entries and set the head's hash in one statement (the insert a CTE of
    the head's update), as text with typed parameters (``at_0``, ``detail_0``, …, ``head_hash``). Text is
    made once per batch size and its compiled form is cached; the same statement built from ``insert`` and
    ``update`` has no cache key, so SQLAlchemy compiled it again for every batch."""
    listed = ", ".join(_COLUMNS)
    values = ", ".join("(" + ", ".join(f":{name}_{i}" for name in _COLUMNS) + ")" for i in range(rows))
    sql = (f"WITH appended AS (INSERT INTO {_LOG.name} ({listed}) VALUES {values}) "
           f"UPDATE {_HEAD.name} SET hash = :head_hash WHERE id = 1")  # fmt: skip
    typed = [bindparam(f"{name}_{i}", type_=_LOG.c[name].type) for i in range(rows) for name in _COLUMNS]
    return text(sql).bindparams(*typed, bindparam("head_hash", type_=_HEAD.c.hash.type))


def append_entries(session: Session, entries: Sequence[PendingEntry]) -> None:
    """Write ``entries`` in order at the end of the chain, in ``session``'s transaction: claim their positions
    (locking the head), insert them, set the head's hash. Sent through the session's connection as plain SQL
    (nothing of the ORM's work is needed); on PostgreSQL the insert and the head update are one statement."""
    if not entries:
        return
    connection = session.connection()
    claim = (
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(seq=_HEAD.c.seq + len(entries))
        .returning(_HEAD.c.seq, _HEAD.c.hash)
    )
    claimed = connection.execute(claim).one_or_none()
    if claimed is None:  # an empty database created without the migration's head row
        connection.execute(insert(_HEAD).values(id=1, seq=len(entries), hash=GENESIS))
        last, prev_hash = len(entries), GENESIS
    else:
        last, prev_hash = int(claimed[0]), str(claimed[1])
    rows = []
    for seq, entry in enumerate(entries, start=last - len(entries) + 1):
        digest = entry_digest(
            seq=seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            detail=entry.detail,
            prev_hash=prev_hash,
        )
        rows.append({"at": entry.at, "actor": entry.actor, "action": entry.action,
                     "object_type": entry.object_type, "object_id": entry.object_id, "detail": entry.detail,
                     "seq": seq, "prev_hash": prev_hash, "entry_hash": digest})  # fmt: skip
        prev_hash = digest
    if connection.dialect.name == "postgresql":  # one round trip fewer while the head row is locked
        bound = {f"{name}_{i}": row[name] for i, row in enumerate(rows) for name in _COLUMNS}
        connection.execute(_append_postgresql(len(rows)), {**bound, "head_hash": prev_hash})
    else:
        head = update(_HEAD).where(_HEAD.c.id == 1).values(hash=prev_hash)
        connection.execute(insert(_LOG), rows)
        connection.execute(head)


class AuditRepository:
    """Entries of the ``audit_log`` table and the chain head.

    ``deferred`` (the unit of work's repository): :meth:`record` keeps the entry until the unit of work
    commits (:meth:`take_pending`); otherwise it is written at once.
    """

    def __init__(self, session: Session, *, deferred: bool = False) -> None:
        self._session = session
        self._deferred = deferred
        self._pending: list[PendingEntry] = []

    def record(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: object,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """Append one entry (text cleaned and cut to the column sizes) linked to the previous one."""
        entry = _pending(actor, action, object_type, object_id, detail)
        if self._deferred:
            self._pending.append(entry)
        else:
            append_entries(self._session, [entry])

    def take_pending(self) -> list[PendingEntry]:
        """The entries recorded since the last call, in order (the unit of work writes them)."""
        taken, self._pending = self._pending, []
        return taken

    def write_pending(self) -> None:
        """Write the recorded entries now, in this transaction."""
        append_entries(self._session, self.take_pending())

    def _filtered(self, stmt: Select[tuple[AuditEntry]], where: AuditFilter) -> Select[tuple[AuditEntry]]:
        if where.actor:
            stmt = stmt.where(AuditEntry.actor == where.actor)
        if where.action:
            stmt = stmt.where(AuditEntry.action.startswith(where.action, autoescape=True))
        if where.object_type:
            stmt = stmt.where(AuditEntry.object_type == where.object_type)
        if where.object_id:
            stmt = stmt.where(AuditEntry.object_id == where.object_id)
        if where.since:
            stmt = stmt.where(AuditEntry.at >= where.since)
        if where.until:
            stmt = stmt.where(AuditEntry.at < where.until)
        return stmt

    def page(self, where: AuditFilter, *, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
        """Newest first: up to ``limit`` entries matching ``where`` with an id below ``before_id``."""
        self.write_pending()
        stmt = self._filtered(select(AuditEntry), where)
        if before_id is not None:
            stmt = stmt.where(AuditEntry.id < before_id)
        return list(self._session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)))

    def chain(self, batch: int = 2000) -> Iterator[AuditEntry]:
        """Every entry in chain order (entries without a position first), read in batches."""
        self.write_pending()
        stmt = select(AuditEntry).order_by(AuditEntry.seq.is_not(None), AuditEntry.seq, AuditEntry.id)
        yield from self._session.scalars(stmt.execution_options(yield_per=batch))

    def head(self) -> tuple[int, str]:
        """The chain head: the last position and its hash (0 and the genesis hash when empty)."""
        self.write_pending()
        row = self._session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
        return (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)


def record_audit(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: Mapping[str, object] | None = None,
) -> None:
    """Append one audit entry; it is committed (or rolled back) with the caller's unit of work."""
    AuditRepository(session).record(actor, action, object_type, object_id, detail)


def list_audit(session: Session, *, limit: int = 200, actor: str | None = None) -> list[AuditEntry]:
    """Most recent audit entries first."""
    return AuditRepository(session).page(AuditFilter(actor=actor), limit=limit)


@dataclass(slots=True)
class _Ticket:
    """One caller's entries; ``wake`` is held until a leader has written them or hands over the lead."""

    entries: list[PendingEntry]
    wake: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False
    error: BaseException | None = None


class AuditWriter:
    """Group commit of audited reads for one database in this process.

    :meth:`write` blocks until the entries are committed. A caller that finds no batch being written leads:
    it takes every entry waiting, writes them in its own (so far read-only) transaction and commits (on
    SQLite holding a file lock next to the database, so the processes of ``painguide serve --workers N``
    queue in the kernel instead of in SQLite's growing back-off sleeps), then wakes the callers whose entries
    were in the batch, and hands the lead to the first caller that queued meanwhile. The leader needs no
    second connection: the waiting callers hold theirs, and a pool they exhausted would never give it one.
    When the commit fails, every caller of that batch gets a :class:`DatabaseUnavailableError` and nothing
    of the batch is written.
    """

    def __init__(self, lock_path: Path | None = None) -> None:
        self._lock_path = lock_path
        self._mutex = threading.Lock()
        self._queue: list[_Ticket] = []
        self._leading = False
        self.batches = 0
        """Transactions committed so far (for tests and benchmarks)."""

    def write(self, entries: list[PendingEntry], session: Session) -> None:
        """Append ``entries`` (in order, together) to the chain; returns when they are committed.

        ``session`` is the caller's, in a transaction that has written nothing: a leader writes and commits
        the batch in it.
        """
        ticket = _Ticket(entries)
        ticket.wake.acquire()
        with self._mutex:
            self._queue.append(ticket)
            lead, self._leading = not self._leading, True
        if not lead:
            ticket.wake.acquire()  # released when written, or when this caller is to lead the next batch
        if not ticket.done:
            self._lead(ticket, session)
        if ticket.error is not None:
            failure = ticket.error
            if isinstance(failure, SQLAlchemyError | OSError):
                reason = (str(failure).splitlines() or [""])[0][:200]
                raise DatabaseUnavailableError(
                    f"audit: the audit entry of this read could not be written ({type(failure).__name__}: "
                    f"{reason}); nothing was shown. Try again; if it persists, check the database"
                ) from failure
            raise RuntimeError("audit: writing the audit entries failed") from failure

    def _lead(self, own: _Ticket, session: Session) -> None:
        with self._mutex:
            batch, self._queue = self._queue, []
        error: BaseException | None = None
        try:
            self._commit([entry for ticket in batch for entry in ticket.entries], session)
        except BaseException as exc:  # handed to every caller of the batch
            error = exc
        with self._mutex:
            self.batches += 1
            for ticket in batch:
                ticket.done, ticket.error = True, error
            successor = self._queue[0] if self._queue else None
            self._leading = successor is not None
        for ticket in batch:
            if ticket is not own:
                ticket.wake.release()
        if successor is not None:
            successor.wake.release()

    def _commit(self, entries: list[PendingEntry], session: Session) -> None:
        with self._file_lock():
            try:
                append_entries(session, entries)
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self._lock_path is None or fcntl is None:
            yield
            return
        with self._lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_WRITERS: WeakKeyDictionary[Engine, AuditWriter] = WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def audit_writer(engine: Engine) -> AuditWriter:
    """The process's group-commit writer for ``engine`` (made on first use)."""
    with _WRITERS_LOCK:
        writer = _WRITERS.get(engine)
        if writer is None:
            lock = None
            if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
                lock = Path(f"{engine.url.database}.audit-lock")
            writer = _WRITERS[engine] = AuditWriter(lock)
        return writer
