"""Work-up steps of a case: diagnostics, conservative therapies, the indication."""

from __future__ import annotations

from datetime import datetime

from painguide.auth import User
from painguide.pathway.case_service import (
    _knowledge,
    _now,
    _procedure,
    _write_step,
)
from painguide.pathway.models import (
    ConservativeTherapy,
    Diagnostic,
    Indication,
)
from painguide.pathway.views import CaseView
from painguide.store.uow import UnitOfWork

__all__ = ["record_diagnostic", "record_indication", "record_therapy"]


def record_diagnostic(
    uow: UnitOfWork, actor: User, case_id: int, diagnostic: Diagnostic, *, now: datetime | None = None
) -> CaseView:
    """Record a clinical examination, an imaging study or a laboratory value."""
    return _write_step(
        uow,
        actor,
        case_id,
        action="case.write",
        step="diagnostics",
        kind="diagnostic",
        record=diagnostic,
        now=_now(now),
    )


def record_therapy(
    uow: UnitOfWork, actor: User, case_id: int, therapy: ConservativeTherapy, *, now: datetime | None = None
) -> CaseView:
    """Record a conservative therapy tried (type, start, duration, outcome)."""
    return _write_step(
        uow,
        actor,
        case_id,
        action="case.write",
        step="conservative_therapies",
        kind="therapy",
        record=therapy,
        now=_now(now),
    )


def record_indication(
    uow: UnitOfWork, actor: User, case_id: int, indication: Indication, *, now: datetime | None = None
) -> CaseView:
    """Record the indication; refused unless work-up, conservative care and the policy set's rules hold."""
    _procedure(_knowledge(), indication.procedure)
    return _write_step(
        uow,
        actor,
        case_id,
        action="case.write",
        step="indication",
        kind="indication",
        record=indication,
        now=_now(now),
    )
