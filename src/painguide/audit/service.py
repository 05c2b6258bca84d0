"""Audit use cases: read a page of the trail (itself audited) and verify the hash chain."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta

from painguide.audit.chain import GENESIS, ChainBreak, entry_digest
from painguide.auth import User, authorize
from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.store.audit import AuditFilter
from painguide.store.tables import AuditEntry
from painguide.store.uow import UnitOfWork

__all__ = ["AuditPage", "ChainReport", "audit_filter", "read_audit", "verify_chain"]

PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditPage:
    """One page of the trail, newest first, and the id to ask for the next (older) page."""

    entries: list[AuditEntry]
    where: AuditFilter
    older_than: int | None


@dataclass(frozen=True)
class ChainReport:
    """The result of a chain check: entries checked, the head, and the first broken link (if any)."""

    checked: int
    head_seq: int
    head_hash: str
    first_break: ChainBreak | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """True when every link holds."""
        return self.first_break is None

    def as_dict(self) -> dict[str, object]:
        """JSON shape of ``painguide audit verify --json``."""
        brk = self.first_break
        return {
            "intact": self.intact,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_break": None
            if brk is None
            else {"seq": brk.seq, "entry_id": brk.entry_id, "reason": brk.reason},
        }


def _day(name: str, raw: str | None) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationError(
            name, N_("expected a date as YYYY-MM-DD, got %(value)s"), value=repr(raw[:40])
        ) from None


def audit_filter(
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> AuditFilter:
    """The filter of the audit page from its form fields (dates inclusive, UTC); bad dates name the field."""
    start, end = _day("since", since), _day("until", until)
    if start and end and end < start:
        raise ValidationError(
            "until", N_("%(end)s is before since %(start)s; swap the dates"), end=str(end), start=str(start)
        )

    def text(value: str | None, limit: int) -> str | None:
        return value.strip()[:limit] or None if value else None

    return AuditFilter(
        actor=text(actor, 64),
        action=text(action, 64),
        object_type=text(object_type, 64),
        object_id=text(object_id, 128),
        since=datetime.combine(start, time(), tzinfo=UTC) if start else None,
        until=datetime.combine(end, time(), tzinfo=UTC) + timedelta(days=1) if end else None,
    )


def read_audit(uow: UnitOfWork, user: User, where: AuditFilter, *, before_id: int | None = None) -> AuditPage:
    """A page of the trail for ``user`` (admin or RPO); the read itself is audited with its filter."""
    authorize(user, "audit.read")
    entries = uow.audit.page(where, limit=PAGE_SIZE + 1, before_id=before_id)
    older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    detail = {k: str(v) for k, v in vars_of(where).items() if v is not None}
    if before_id is not None:
        detail["before_id"] = str(before_id)
    uow.audit.record(user.username, "audit.read", "audit_log", "*", detail or None)
    uow.commit()
    return AuditPage(entries=entries[:PAGE_SIZE], where=where, older_than=older)


def vars_of(where: AuditFilter) -> dict[str, object]:
    """The filter's fields by name."""
    return {f.name: getattr(where, f.name) for f in fields(where)}


def _check(entry: AuditEntry, expected_seq: int, prev: str) -> ChainBreak | None:
    if entry.seq is None or entry.entry_hash is None or entry.prev_hash is None:
        return ChainBreak(None, entry.id, "entry has no chain position or hash (inserted outside painguide)")
    if entry.seq != expected_seq:
        return ChainBreak(
            expected_seq, None, f"entry {expected_seq} is missing (found entry {entry.seq} next: deleted?)"
        )
    if entry.prev_hash != prev:
        return ChainBreak(
            entry.seq, entry.id, "link to the previous entry does not match (previous changed?)"
        )
    digest = entry_digest(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        detail=entry.detail,
        prev_hash=entry.prev_hash,
    )
    if digest != entry.entry_hash:
        return ChainBreak(entry.seq, entry.id, "content does not match its hash (entry changed)")
    return None


def verify_chain(uow: UnitOfWork, user: User) -> ChainReport:
    """Walk the whole chain and report the first broken link; the check is audited with its result."""
    authorize(user, "audit.verify")
    head_seq, head_hash = uow.audit.head()
    checked, prev, first_break = 0, GENESIS, None
    for entry in uow.audit.chain():
        first_break = _check(entry, checked + 1, prev)
        if first_break is not None:
            break
        checked, prev = checked + 1, str(entry.entry_hash)
    if first_break is None and (checked, prev) != (head_seq, head_hash):
        first_break = ChainBreak(
            checked + 1 if head_seq > checked else head_seq,
            None,
            f"the chain ends at entry {checked} but its head records entry {head_seq} "
            "(newest entries deleted or head changed)",
        )
    report = ChainReport(checked=checked, head_seq=head_seq, head_hash=head_hash, first_break=first_break)
    detail = {"intact": report.intact, "checked": checked, "first_break": str(first_break or "")}
    uow.audit.record(user.username, "audit.verify", "audit_log", "*", detail)
    uow.commit()
    return report
