"""Planning steps of a case: the plan from the advisor's ranking, the schedule, the anticoagulation plan."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from painguide.advisor import Recommendation, recommend
from painguide.auth import User, authorize
from painguide.errors import GateError, UnmetDict, ValidationError
from painguide.i18n.marks import N_
from painguide.pathway.anticoagulation import plan_anticoagulation
from painguide.pathway.case_service import (
    _ACCESSION,
    _context,
    _factors,
    _finish,
    _gate,
    _knowledge,
    _load,
    _now,
    _procedure,
    _write_step,
)
from painguide.pathway.gates import Unmet
from painguide.pathway.models import DrugDecision
from painguide.pathway.planning import make_plan, schedule_anticoagulation
from painguide.pathway.views import CaseView
from painguide.store.uow import UnitOfWork

__all__ = ["preview_plan", "record_anticoagulation", "record_plan", "schedule_procedure"]


def preview_plan(
    uow: UnitOfWork, actor: User, case_id: int, *, now: datetime | None = None
) -> Recommendation:
    """The advisor's ranking for the indicated procedure and this patient (what the plan step stores)."""
    authorize(actor, "case.read")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    if cf.indication is None:
        raise GateError("plan", ["indication_missing: record the indication first"], unmet=[_no_indication()])
    uow.audit.record(actor.username, "case.read", "case", str(case_id), {"view": "advisor"})
    uow.commit()
    return recommend(_knowledge(), cf.indication.procedure, _factors(cf.patient, now.date()))


def _no_indication() -> UnmetDict:
    return Unmet.of("indication_missing", N_("No indication recorded.")).to_dict()


def record_plan(
    uow: UnitOfWork,
    actor: User,
    case_id: int,
    *,
    modality: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Store the advisor's ranking as shown and the chosen modality (a reason when it is not the top one)."""
    authorize(actor, "case.write")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    _gate(uow, actor, cf, "plan", _context(now), now=now)
    assert cf.indication is not None
    ranking = recommend(_knowledge(), cf.indication.procedure, _factors(cf.patient, now.date()))
    plan = make_plan(ranking, modality, reason=reason, on=now.date())
    return _write_step(
        uow, actor, case_id, action="case.write", step="plan", kind="plan", record=plan, now=now
    )


def schedule_procedure(
    uow: UnitOfWork,
    actor: User,
    case_id: int,
    *,
    at: datetime,
    location: str | None = None,
    accession_number: str | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Schedule (or move) the procedure with a unique accession number (``PG`` + 8 digits, or the RIS's)."""
    authorize(actor, "case.write")
    now = _now(now)
    if at.tzinfo is None:
        raise ValidationError("at", N_("give a time with its time zone"))
    if accession_number is not None and not _ACCESSION.match(accession_number):
        raise ValidationError("accession_number", N_("1-16 letters, digits, '.', '-' or '_' (DICOM SH)"))
    _, patient, cf = _load(uow, case_id)
    _gate(uow, actor, cf, "schedule", _context(now), now=now)
    assert cf.plan is not None
    region = _procedure(_knowledge(), cf.plan.procedure).region
    row = uow.pathway.schedule(
        case_id,
        pseudonym=patient.pseudonym,
        plan=cf.plan,
        region=region,
        at=at,
        location=location,
        accession=accession_number,
    )
    data = {"at": at.isoformat(), "accession_number": row.accession_number, "location": location}
    uow.pathway.add_entry(case_id, "schedule", data, actor=actor.username, at=now)
    return _finish(
        uow, actor, case_id, "case.write", now, {"step": "schedule", "accession": row.accession_number}
    )


def record_anticoagulation(
    uow: UnitOfWork,
    actor: User,
    case_id: int,
    *,
    decisions: Mapping[str, DrugDecision] | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Plan the patient's antithrombotic drugs for the scheduled time (N18); shared decisions resolved."""
    authorize(actor, "case.write")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    _gate(uow, actor, cf, "anticoagulation", _context(now), now=now)
    assert cf.schedule is not None and cf.indication is not None
    kb = _knowledge()
    proc = _procedure(kb, cf.indication.procedure)
    p = cf.patient
    result = plan_anticoagulation(
        kb.drugs,
        p.drugs,
        bleeding_risk=proc.bleeding_risk.value or "high",
        high_bleeding_risk_patient=p.high_bleeding_risk,
        renal_impairment=p.renal_impairment,
        aspirin_indication=p.aspirin_indication,
    )
    record = schedule_anticoagulation(
        result, cf.schedule.at, names=p.drugs, decisions=decisions, decided_by=actor.username, on=now.date()
    )
    return _write_step(
        uow,
        actor,
        case_id,
        action="case.write",
        step="anticoagulation",
        kind="anticoagulation",
        record=record,
        now=now,
    )
