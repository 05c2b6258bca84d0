"""The procedure and after: the procedure record, follow-ups, and a physician's override of a gate."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from painguide.auth import User, authorize
from painguide.errors import ValidationError
from painguide.i18n.input_errors import one_of
from painguide.i18n.marks import N_
from painguide.pathway.case import CaseFile, next_step
from painguide.pathway.case_service import (
    _context,
    _finish,
    _load,
    _now,
    _policy,
    _write_step,
)
from painguide.pathway.gates import GATE_CODES, check
from painguide.pathway.models import (
    FollowUpResult,
    Override,
    ProcedureRecord,
    build,
)
from painguide.pathway.views import CaseView
from painguide.store.uow import UnitOfWork

__all__ = ["override_gate", "record_follow_up", "record_procedure", "schedule_follow_ups"]


def record_procedure(
    uow: UnitOfWork,
    actor: User,
    case_id: int,
    record: ProcedureRecord,
    *,
    study_instance_uid: str | None = None,
    competence: Collection[tuple[str, str]] | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Record the performed procedure; refused unless every gate before it holds.

    ``competence`` is what the operator has declared competence for, as ``(procedure, modality)`` pairs;
    it is read only where the site policy requires declared competence. ``None``: the declarations recorded
    in the training module (``uow.training``) on the day performed.
    """
    authorize(actor, "case.procedure")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    if competence is None and _policy().competence_required:
        competence = uow.training.declared(record.operator, record.performed_at.date())
    if cf.plan is not None and record.modality != cf.plan.modality:
        raise ValidationError(
            "modality",
            N_("the plan is %(modality)s; plan again to change the modality"),
            modality=cf.plan.modality,
        )

    def mark_performed() -> None:
        row = uow.pathway.procedure_of(case_id)
        assert row is not None  # the gate requires a scheduled procedure
        row.status, row.performed_at = "performed", record.performed_at
        row.study_instance_uid = study_instance_uid or row.study_instance_uid

    return _write_step(
        uow,
        actor,
        case_id,
        action="case.procedure",
        step="procedure",
        kind="procedure",
        record=record,
        now=now,
        competence=competence,
        also=mark_performed,
    )


def schedule_follow_ups(
    uow: UnitOfWork, actor: User, case_id: int, days_after: Sequence[int], *, now: datetime | None = None
) -> CaseView:
    """Schedule follow-ups (NRS, PGIC) at the given days after the procedure."""
    authorize(actor, "case.followup")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    if cf.procedure is None:
        raise ValidationError(
            "case_id", N_("case %(case)s has no procedure recorded; record it first"), case=case_id
        )
    days = sorted(set(days_after))
    if not days or any(not 0 <= d <= 3650 for d in days):
        raise ValidationError("days_after", N_("give one or more days after the procedure, 0-3650"))
    start = cf.procedure.performed_at.date()
    uow.pathway.add_follow_ups(case_id, [(start + timedelta(days=d), d) for d in days])
    uow.pathway.add_entry(case_id, "follow_ups_scheduled", {"days_after": days}, actor=actor.username, at=now)
    return _finish(uow, actor, case_id, "case.followup", now, {"step": "follow_ups", "days_after": days})


def record_follow_up(
    uow: UnitOfWork,
    actor: User,
    case_id: int,
    follow_up_id: int,
    result: FollowUpResult,
    *,
    now: datetime | None = None,
) -> CaseView:
    """Record a follow-up's NRS, PGIC and relief."""
    authorize(actor, "case.followup")
    now = _now(now)
    row = uow.pathway.get_follow_up(case_id, follow_up_id)
    if row.result is not None:
        raise ValidationError("follow_up_id", N_("follow-up %(id)s is recorded already"), id=follow_up_id)
    row.result, row.recorded_at, row.recorded_by = result.model_dump(mode="json"), now, actor.username
    data = {"follow_up_id": follow_up_id, **result.model_dump(mode="json")}
    uow.pathway.add_entry(case_id, "follow_up", data, actor=actor.username, at=now)
    return _finish(
        uow, actor, case_id, "case.followup", now, {"step": "follow_up", "follow_up_id": follow_up_id}
    )


def override_gate(
    uow: UnitOfWork, actor: User, case_id: int, *, code: str, reason: str, now: datetime | None = None
) -> CaseView:
    """Override one gate code on a case with a written reason (physicians); recorded, audited and shown.

    The reasons the override lifts are kept with it: those of the latest refusal with this code, else those
    the case shows now.
    """
    authorize(actor, "case.override")
    now = _now(now)
    if code not in GATE_CODES:
        raise one_of("code", GATE_CODES, code)
    policy = _policy()
    if not policy.overridable(code):
        raise ValidationError(
            "code",
            N_("%(code)s cannot be overridden under the policy in force (%(policy)s)"),
            code=code,
            policy=policy.frame.id,
        )
    _, _, cf = _load(uow, case_id)
    unmet = _unmet_with(uow, cf, code, now)
    record = build(Override, code=code, reason=reason, by=actor.username, at=now, unmet=unmet)
    uow.pathway.add_entry(case_id, "override", record.model_dump(mode="json"), actor=actor.username, at=now)
    return _finish(uow, actor, case_id, "case.override", now, {"code": code, "reason": reason})


_CONTRACT = ("code", "message", "source")
"""The keys of an unmet reason kept with an override (the API's stable contract)."""


def _unmet_with(uow: UnitOfWork, cf: CaseFile, code: str, now: datetime) -> tuple[dict[str, str], ...]:
    for entry in reversed(uow.pathway.entries(cf.case_id)):
        if entry.kind == "refusal":
            found = [u for u in entry.data.get("unmet", []) if u.get("code") == code]
            if found:
                return tuple({k: str(u[k]) for k in _CONTRACT if u.get(k) is not None} for u in found)
    step = next_step(cf) or "procedure"
    unmet, _ = check(cf, step, _context(now))
    return tuple(
        {"code": u.code, "message": u.message, **({"source": u.source} if u.source else {})}
        for u in unmet
        if u.code == code
    )
