"""The audit trail (``uow.audit``): append entries to the hash chain inside the caller's transaction.

Writers serialise on the chain head (table ``audit_head``, one row): the first statement of
:meth:`AuditRepository.record` is ``UPDATE audit_head SET seq = seq + 1 … RETURNING``, which takes the row
lock on PostgreSQL (held to commit; a second writer waits and then reads the committed head) and the
database write lock on SQLite. Two concurrent writers therefore never link to the same previous entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from painguide.audit.chain import GENESIS, clean_detail, clean_text, entry_digest
from painguide.store.base import utcnow
from painguide.store.tables import AuditEntry, AuditHead

__all__ = ["AuditFilter", "AuditRepository", "list_audit", "record_audit"]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the audit page asks for: exact actor, action prefix, object type and id, a time range."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditRepository:
    """Entries of the ``audit_log`` table and the chain head."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _claim(self) -> tuple[int, str]:
        """Lock the chain head and take the next position; returns (seq, previous hash)."""
        stmt = (
            update(AuditHead)
            .where(AuditHead.id == 1)
            .values(seq=AuditHead.seq + 1)
            .returning(AuditHead.seq, AuditHead.hash)
        )
        claimed = self._session.execute(stmt).one_or_none()
        if claimed is None:  # an empty database created without the migration's head row
            self._session.add(AuditHead(id=1, seq=1, hash=GENESIS))
            self._session.flush()
            return 1, GENESIS
        return int(claimed[0]), str(claimed[1])

    def record(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: object,
        detail: Mapping[str, object] | None = None,
    ) -> AuditEntry:
        """Append one entry (text cleaned and cut to the column sizes) linked to the previous one."""
        seq, prev_hash = self._claim()
        clean = json.loads(json.dumps(clean_detail(detail))) if detail is not None else None
        entry = AuditEntry(
            at=utcnow(),
            actor=clean_text(actor, 64),
            action=clean_text(action, 64),
            object_type=clean_text(object_type, 64),
            object_id=clean_text(object_id, 128),
            detail=clean,
            seq=seq,
            prev_hash=prev_hash,
        )
        entry.entry_hash = entry_digest(
            seq=seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            detail=clean,
            prev_hash=prev_hash,
        )
        self._session.add(entry)
        self._session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=entry.entry_hash))
        return entry

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
        stmt = self._filtered(select(AuditEntry), where)
        if before_id is not None:
            stmt = stmt.where(AuditEntry.id < before_id)
        return list(self._session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)))

    def chain(self, batch: int = 2000) -> Iterator[AuditEntry]:
        """Every entry in chain order (entries without a position first), read in batches."""
        stmt = select(AuditEntry).order_by(AuditEntry.seq.is_not(None), AuditEntry.seq, AuditEntry.id)
        yield from self._session.scalars(stmt.execution_options(yield_per=batch))

    def head(self) -> tuple[int, str]:
        """The chain head: the last position and its hash (0 and the genesis hash when empty)."""
        row = self._session.get(AuditHead, 1)
        return (row.seq, row.hash) if row is not None else (0, GENESIS)


def record_audit(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, object] | None = None,
) -> AuditEntry:
    """Append one audit entry; it is committed (or rolled back) with the caller's unit of work."""
    return AuditRepository(session).record(actor, action, object_type, object_id, detail)


def list_audit(session: Session, *, limit: int = 200, actor: str | None = None) -> list[AuditEntry]:
    """Most recent audit entries first."""
    return AuditRepository(session).page(AuditFilter(actor=actor), limit=limit)
