"""The audit trail: append who did what and when, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from painguide.store.tables import AuditEntry

__all__ = ["list_audit", "record_audit"]


def record_audit(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry; it is committed (or rolled back) with the caller's unit of work."""
    entry = AuditEntry(
        actor=actor, action=action, object_type=object_type, object_id=str(object_id), detail=detail
    )
    session.add(entry)
    return entry


def list_audit(session: Session, *, limit: int = 200, actor: str | None = None) -> list[AuditEntry]:
    """Most recent audit entries first."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    return list(session.scalars(stmt))
