"""Care-pathway use cases: one function per use case, for pages, the API and the command line alike.

Every function takes the unit of work and the acting :class:`~painguide.auth.User`, authorises the action
with :func:`~painguide.auth.authorize`, checks the gates of its step (raising
:class:`~painguide.errors.GateError` with every unmet reason), writes through ``uow.pathway``, audits in the
same transaction and commits. A refused step writes nothing but a ``refusal`` entry on the case timeline
and its audit entry (after the rollback), so the case shows what was refused and why. Reads of patient
data are audited too. ``now`` (UTC, timezone-aware) defaults to the current time; tests and the demo pass it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from painguide.advisor import PatientFactors, Recommendation, find_procedure, recommend
from painguide.auth import User, authorize
from painguide.catalogue.loader import KnowledgeBase, load_knowledge
from painguide.catalogue.models import Procedure
from painguide.errors import CatalogueError, GateError, NotFoundError, ValidationError
from painguide.pathway.anticoagulation import plan_anticoagulation
from painguide.pathway.case import STAGES, CaseFile, Step, next_step, stage_of
from painguide.pathway.gates import GATE_CODES, Assessment, GateContext, assess, check, require
from painguide.pathway.models import (
    IONIZING,
    CaseInfo,
    Checklist,
    Consent,
    ConsentRevocation,
    ConservativeTherapy,
    Diagnostic,
    DrugDecision,
    FollowUpResult,
    Indication,
    Override,
    Patient,
    ProcedureRecord,
    Qualification,
    RadiationJustification,
    build,
)
from painguide.pathway.planning import make_plan, schedule_anticoagulation
from painguide.pathway.policy import PathwayPolicy, load_pathway_policy
from painguide.store.audit import record_audit
from painguide.store.pathway_repository import LoadedCase
from painguide.store.pathway_tables import CaseRow, PatientRow, ProcedureRow
from painguide.store.uow import UnitOfWork

__all__ = [
    "CaseSummary",
    "CaseView",
    "PageOf",
    "PatientSummary",
    "PatientView",
    "ProcedureInfo",
    "TimelineItem",
    "get_case",
    "get_patient",
    "list_cases",
    "list_qualifications",
    "open_case",
    "override_gate",
    "preview_plan",
    "record_anticoagulation",
    "record_checklist",
    "record_consent",
    "record_diagnostic",
    "record_follow_up",
    "record_indication",
    "record_justification",
    "record_plan",
    "record_procedure",
    "record_qualification",
    "record_therapy",
    "register_patient",
    "revoke_consent",
    "schedule_follow_ups",
    "schedule_procedure",
    "search_patients",
    "update_patient",
]

T = TypeVar("T")
MAX_PAGE = 200
_ACCESSION = re.compile(r"^[A-Za-z0-9._-]{1,16}$")


# ------------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class PatientSummary:
    """A patient in a list."""

    id: int
    pseudonym: str
    name: str | None
    birth_year: int
    sex: str

    @classmethod
    def of(cls, row: PatientRow) -> PatientSummary:
        record = row.record
        return cls(row.id, row.pseudonym, row.name, int(record["birth_year"]), str(record["sex"]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pseudonym": self.pseudonym,
            "name": self.name,
            "birth_year": self.birth_year,
            "sex": self.sex,
        }


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """A case in a list."""

    id: int
    patient_id: int
    pseudonym: str
    complaint: str
    region: str
    procedure: str | None
    stage: str
    next_step: str | None
    opened_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "patient_id": self.patient_id,
            "pseudonym": self.pseudonym,
            "complaint": self.complaint,
            "region": self.region,
            "procedure": self.procedure,
            "stage": self.stage,
            "next_step": self.next_step,
            "opened_at": self.opened_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class PatientView:
    """A patient's record and cases."""

    summary: PatientSummary
    patient: Patient
    cases: list[CaseSummary]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary.to_dict(),
            "record": self.patient.model_dump(mode="json"),
            "cases": [c.to_dict() for c in self.cases],
        }


@dataclass(frozen=True, slots=True)
class PageOf(Generic[T]):
    """One page of a listing; ``total_exact`` is false when counting stopped at a cap (more match)."""

    items: list[T]
    total: int
    limit: int
    offset: int
    total_exact: bool = True


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One entry of a case's timeline: what was recorded (or refused, or overridden), by whom, when."""

    id: int
    at: datetime
    by: str
    kind: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "by": self.by, "kind": self.kind, "data": self.data}


@dataclass(frozen=True, slots=True)
class ProcedureInfo:
    """The scheduled procedure: accession number, time, status and the links filled in later."""

    id: int
    accession_number: str
    procedure: str
    modality: str
    scheduled_at: datetime
    status: str
    performed_at: datetime | None
    study_instance_uid: str | None
    dose_report_ids: tuple[int, ...]
    sono_analysis_ids: tuple[int, ...]

    @classmethod
    def of(cls, row: ProcedureRow) -> ProcedureInfo:
        return cls(
            row.id,
            row.accession_number,
            row.procedure,
            row.modality,
            row.scheduled_at,
            row.status,
            row.performed_at,
            row.study_instance_uid,
            tuple(row.dose_report_ids),
            tuple(row.sono_analysis_ids),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "accession_number": self.accession_number,
            "procedure": self.procedure,
            "modality": self.modality,
            "scheduled_at": self.scheduled_at.isoformat(),
            "status": self.status,
            "performed_at": self.performed_at.isoformat() if self.performed_at else None,
            "study_instance_uid": self.study_instance_uid,
            "dose_report_ids": list(self.dose_report_ids),
            "sono_analysis_ids": list(self.sono_analysis_ids),
        }


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything a case page, the API and ``painguide case show`` render."""

    id: int
    patient: PatientSummary
    file: CaseFile
    assessment: Assessment
    timeline: list[TimelineItem]
    procedure: ProcedureInfo | None
    policy: dict[str, Any] = field(default_factory=dict)

    @property
    def stage(self) -> str:
        return self.assessment.stage

    @property
    def next_step(self) -> str | None:
        return self.assessment.next_step

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``painguide case show --json``; the API's case resource)."""
        f = self.file

        def dump(record: Any) -> Any:
            return record.model_dump(mode="json") if record is not None else None

        return {
            "id": self.id,
            "patient": self.patient.to_dict(),
            **self.assessment.to_dict(),
            "overrides": [dump(o) for o in f.overrides],
            "case": dump(f.info),
            "diagnostics": [dump(d) for d in f.diagnostics],
            "conservative_therapies": [dump(t) for t in f.therapies],
            "indication": dump(f.indication),
            "plan": dump(f.plan),
            "schedule": dump(f.schedule),
            "anticoagulation": dump(f.anticoagulation),
            "justification": dump(f.justification),
            "consent": dump(f.consent),
            "consent_revoked": dump(f.revocation),
            "checklist": dump(f.checklist),
            "procedure_record": dump(f.procedure),
            "procedure": self.procedure.to_dict() if self.procedure else None,
            "follow_ups": [dump(x) for x in f.follow_ups],
            "timeline": [t.to_dict() for t in self.timeline],
            "policy": self.policy,
        }


# ------------------------------------------------------------------------------------------- helpers


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValidationError("now", "give a time with its time zone")
    return now


def _site_policy() -> Any:
    from painguide.settings import get_settings

    return get_settings().site_policy


def _knowledge() -> KnowledgeBase:
    return load_knowledge(_site_policy())


def _policy() -> PathwayPolicy:
    return load_pathway_policy(_site_policy())


def _context(now: datetime, competence: Collection[tuple[str, str]] | None = None) -> GateContext:
    return GateContext(
        policy=_policy(),
        today=now.date(),
        procedures=_knowledge().catalogue.procedures,
        competence=competence,
    )


def _policy_info(policy: PathwayPolicy) -> dict[str, Any]:
    return {
        "set": policy.rules.id,
        "set_title": policy.rules.title,
        "frame": policy.frame.id,
        "frame_title": policy.frame.title,
        "competence_required": policy.competence_required,
        "not_overridable": sorted(policy.not_overridable),
    }


def _load(uow: UnitOfWork, case_id: int) -> tuple[CaseRow, PatientRow, CaseFile]:
    loaded = uow.pathway.load_case(case_id)
    return loaded.case, loaded.patient, loaded.file


def _view(uow: UnitOfWork, loaded: LoadedCase, now: datetime) -> CaseView:
    """The case as pages and the API show it, from what :meth:`load_case` read (no further reads)."""
    policy = _policy()
    return CaseView(
        id=loaded.case.id,
        patient=PatientSummary.of(loaded.patient),
        file=loaded.file,
        assessment=assess(loaded.file, _context(now)),
        timeline=[TimelineItem(e.id, e.at, e.by, e.kind, e.data) for e in loaded.entries],
        procedure=ProcedureInfo.of(loaded.procedure) if loaded.procedure is not None else None,
        policy=_policy_info(policy),
    )


def _finish(
    uow: UnitOfWork,
    actor: User,
    case_id: int,
    action: str,
    now: datetime,
    detail: dict[str, Any],
) -> CaseView:
    """Refresh the case's stage, audit the change, commit, and return the case as it now stands."""
    loaded = uow.pathway.load_case(case_id)
    case, cf = loaded.case, loaded.file
    step = next_step(cf)
    uow.pathway.set_stage(
        case, stage=stage_of(step), step=step, procedure=cf.indication.procedure if cf.indication else None
    )
    record_audit(uow.session, actor.username, action, "case", str(case_id), {**detail, "next_step": step})
    uow.commit()
    return _view(uow, loaded, now)


def _gate(
    uow: UnitOfWork,
    actor: User,
    cf: CaseFile,
    step: Step,
    ctx: GateContext,
    candidate: Any = None,
    *,
    now: datetime,
) -> list[str]:
    """Check the step's gates; on refusal record it (after a rollback) and re-raise. Returns lifted codes."""
    try:
        overridden = require(cf, step, ctx, candidate)
    except GateError as exc:
        uow.rollback()
        data = {"step": step, "unmet": list(exc.unmet)}
        uow.pathway.add_entry(cf.case_id, "refusal", data, actor=actor.username, at=now)
        codes = [u["code"] for u in exc.unmet]
        record_audit(
            uow.session,
            actor.username,
            "case.refused",
            "case",
            str(cf.case_id),
            {"step": step, "codes": codes},
        )
        uow.commit()
        raise
    return sorted({u.code for u in overridden})


def _write_step(
    uow: UnitOfWork,
    actor: User,
    case_id: int,
    *,
    action: str,
    step: Step,
    kind: str,
    record: Any,
    now: datetime,
    competence: Collection[tuple[str, str]] | None = None,
    also: Callable[[], None] | None = None,
) -> CaseView:
    """One step: authorise, gate, append the record (and run ``also``), refresh, audit, commit."""
    authorize(actor, action)
    _, _, cf = _load(uow, case_id)
    lifted = _gate(uow, actor, cf, step, _context(now, competence), record, now=now)
    uow.pathway.add_entry(case_id, kind, record.model_dump(mode="json"), actor=actor.username, at=now)
    if also is not None:
        also()
    return _finish(uow, actor, case_id, action, now, {"step": step, "kind": kind, "overridden": lifted})


def _check_drugs(kb: KnowledgeBase, patient: Patient) -> None:
    try:
        plan_anticoagulation(
            kb.drugs, patient.drugs, bleeding_risk="low", aspirin_indication=patient.aspirin_indication
        )
    except CatalogueError as exc:
        raise ValidationError("drugs", str(exc)) from None


def _procedure(kb: KnowledgeBase, procedure_id: str) -> Procedure:
    try:
        return find_procedure(kb, procedure_id)
    except CatalogueError as exc:
        raise ValidationError("procedure", str(exc)) from None


def _factors(patient: Patient, day: Any) -> PatientFactors:
    return PatientFactors(
        pregnant=patient.pregnancy == "pregnant",
        breastfeeding=bool(patient.breastfeeding),
        contrast_allergy=patient.contrast_allergy,
        egfr=patient.egfr,
        bmi=patient.bmi,
        age=patient.age_on(day),
        drugs=patient.drugs,
        aspirin_indication=patient.aspirin_indication,
        high_bleeding_risk=patient.high_bleeding_risk,
        renal_impairment=patient.renal_impairment,
        prior_fusion=bool(patient.fused_levels),
    )


def _page(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", f"give 1-{MAX_PAGE}")
    if offset < 0:
        raise ValidationError("offset", "give 0 or more")
    return limit, offset


# ------------------------------------------------------------------------------------------ patients


def register_patient(
    uow: UnitOfWork, actor: User, patient: Patient, *, now: datetime | None = None
) -> PatientSummary:
    """Register a patient under a new pseudonym (drug names are checked against the anticoagulant table)."""
    authorize(actor, "patient.write")
    _check_drugs(_knowledge(), patient)
    row = uow.pathway.add_patient(patient, actor=actor.username)
    row.created_at = row.updated_at = _now(now)
    record_audit(uow.session, actor.username, "patient.write", "patient", str(row.id), {"created": True})
    uow.commit()
    return PatientSummary.of(row)


def update_patient(
    uow: UnitOfWork, actor: User, patient_id: int, patient: Patient, *, now: datetime | None = None
) -> PatientSummary:
    """Replace a patient's record (pregnancy status, eGFR, drugs...); the pseudonym cannot change."""
    authorize(actor, "patient.write")
    row = uow.pathway.get_patient(patient_id)
    if patient.pseudonym != row.pseudonym:
        raise ValidationError("pseudonym", f"stays {row.pseudonym!r}; a pseudonym is not changed")
    _check_drugs(_knowledge(), patient)
    before = row.record
    uow.pathway.update_patient(row, patient)
    changed = sorted(k for k, v in patient.model_dump(mode="json").items() if before.get(k) != v)
    record_audit(uow.session, actor.username, "patient.write", "patient", str(row.id), {"changed": changed})
    for case in uow.pathway.cases_of(row.id):  # the patient's facts move the next step of open cases
        cf = uow.pathway.case_file(case, row)
        step = next_step(cf)
        uow.pathway.set_stage(case, stage=stage_of(step), step=step, procedure=case.procedure)
    uow.commit()
    return PatientSummary.of(row)


def get_patient(uow: UnitOfWork, actor: User, patient_id: int) -> PatientView:
    """A patient's record and cases (the read is audited)."""
    authorize(actor, "patient.read")
    row = uow.pathway.get_patient(patient_id)
    cases = [_summary(c, row.pseudonym) for c in uow.pathway.cases_of(row.id)]
    record_audit(uow.session, actor.username, "patient.read", "patient", str(row.id))
    uow.commit()
    return PatientView(PatientSummary.of(row), uow.pathway.patient_record(row), cases)


def search_patients(
    uow: UnitOfWork, actor: User, query: str = "", *, limit: int = 20, offset: int = 0
) -> PageOf[PatientSummary]:
    """Patients whose pseudonym or name words start with the words of ``query`` (audited with the query)."""
    authorize(actor, "patient.read")
    limit, offset = _page(limit, offset)
    page = uow.pathway.search_patients(query, limit=limit, offset=offset)
    detail = {"query": query[:100], "results": len(page.rows), "offset": offset}
    record_audit(uow.session, actor.username, "patient.read", "patient", "*", detail)
    uow.commit()
    return PageOf([PatientSummary.of(r) for r in page.rows], page.total, limit, offset, page.exact)


# --------------------------------------------------------------------------------------------- cases


def _summary(row: CaseRow, pseudonym: str) -> CaseSummary:
    info = row.info
    return CaseSummary(
        row.id,
        row.patient_id,
        pseudonym,
        str(info.get("complaint", "")),
        str(info.get("region", "")),
        row.procedure,
        row.stage,
        row.next_step,
        row.opened_at,
    )


def open_case(
    uow: UnitOfWork, actor: User, patient_id: int, info: CaseInfo, *, now: datetime | None = None
) -> CaseView:
    """Open a case for a patient: complaint, region, side, pain duration, NRS, disability score."""
    authorize(actor, "case.write")
    now = _now(now)
    patient = uow.pathway.get_patient(patient_id)
    case = uow.pathway.add_case(patient.id, info, actor=actor.username, stage="workup", step="diagnostics")
    case.opened_at = now
    uow.pathway.add_entry(case.id, "opened", info.model_dump(mode="json"), actor=actor.username, at=now)
    return _finish(uow, actor, case.id, "case.write", now, {"step": "open"})


def get_case(uow: UnitOfWork, actor: User, case_id: int, *, now: datetime | None = None) -> CaseView:
    """A case with its stage, next step, unmet reasons, overrides and timeline (the read is audited)."""
    authorize(actor, "case.read")
    now = _now(now)
    loaded = uow.pathway.load_case(case_id)
    record_audit(uow.session, actor.username, "case.read", "case", str(case_id))
    uow.commit()
    return _view(uow, loaded, now)


def list_cases(
    uow: UnitOfWork, actor: User, *, stage: str | None = None, limit: int = 20, offset: int = 0
) -> PageOf[CaseSummary]:
    """Cases newest first, optionally of one stage (see :data:`~painguide.pathway.case.STAGES`)."""
    authorize(actor, "case.read")
    if stage is not None and stage not in STAGES:
        raise ValidationError("stage", f"one of {', '.join(STAGES)} (got {stage!r})")
    limit, offset = _page(limit, offset)
    page = uow.pathway.list_cases(stage=stage, limit=limit, offset=offset)
    detail = {"stage": stage, "results": len(page.rows), "offset": offset}
    record_audit(uow.session, actor.username, "case.read", "case", "*", detail)
    uow.commit()
    return PageOf([_summary(row, pseudonym) for row, pseudonym in page.rows], page.total, limit, offset)


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


def preview_plan(
    uow: UnitOfWork, actor: User, case_id: int, *, now: datetime | None = None
) -> Recommendation:
    """The advisor's ranking for the indicated procedure and this patient (what the plan step stores)."""
    authorize(actor, "case.read")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    if cf.indication is None:
        raise GateError("plan", ["indication_missing: record the indication first"], unmet=[_no_indication()])
    record_audit(uow.session, actor.username, "case.read", "case", str(case_id), {"view": "advisor"})
    uow.commit()
    return recommend(_knowledge(), cf.indication.procedure, _factors(cf.patient, now.date()))


def _no_indication() -> dict[str, str | None]:
    return {"code": "indication_missing", "message": "No indication recorded.", "source": None}


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
        raise ValidationError("at", "give a time with its time zone")
    if accession_number is not None and not _ACCESSION.match(accession_number):
        raise ValidationError("accession_number", "1-16 letters, digits, '.', '-' or '_' (DICOM SH)")
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


def record_justification(
    uow: UnitOfWork,
    actor: User,
    case_id: int,
    *,
    alternative: str,
    alternative_not_chosen_because: str,
    note: str | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Sign the radiation justification of the planned X-ray modality as the acting physician.

    The signer's radiation-protection qualification valid today is copied into the record; without one the
    step is refused (``justification_not_qualified``) where the frame requires it, as it is while the
    pregnancy status of a person who can be pregnant is unknown.
    """
    authorize(actor, "case.justify")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    if cf.plan is not None and cf.plan.modality not in IONIZING:
        raise ValidationError(
            "modality", f"{cf.plan.modality} uses no X-rays: no radiation justification is needed"
        )
    record = build(
        RadiationJustification,
        modality=cf.plan.modality if cf.plan is not None else "fluoroscopy",
        physician=actor.username,
        on=now.date(),
        alternative=alternative,
        alternative_not_chosen_because=alternative_not_chosen_because,
        note=note,
        qualification=uow.pathway.qualification_on(actor.username, now.date()),
        frame=_policy().frame.id,
    )
    return _write_step(
        uow,
        actor,
        case_id,
        action="case.justify",
        step="justification",
        kind="justification",
        record=record,
        now=now,
    )


def record_consent(
    uow: UnitOfWork, actor: User, case_id: int, consent: Consent, *, now: datetime | None = None
) -> CaseView:
    """Record informed consent for the planned modality (after the justification where one is needed)."""
    authorize(actor, "case.write")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    if cf.plan is not None and consent.modality != cf.plan.modality:
        raise ValidationError(
            "modality", f"the plan is {cf.plan.modality}; consent covers the planned modality"
        )
    return _write_step(
        uow, actor, case_id, action="case.write", step="consent", kind="consent", record=consent, now=now
    )


def revoke_consent(
    uow: UnitOfWork, actor: User, case_id: int, *, reason: str | None = None, now: datetime | None = None
) -> CaseView:
    """Record that the patient withdrew consent; every later step is refused (``consent_revoked``)."""
    authorize(actor, "case.write")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    if cf.consent is None or cf.revocation is not None:
        raise ValidationError("consent", f"case {case_id} has no consent in force to revoke")
    record = build(ConsentRevocation, on=now.date(), reason=reason)
    uow.pathway.add_entry(
        case_id, "consent_revoked", record.model_dump(mode="json"), actor=actor.username, at=now
    )
    return _finish(uow, actor, case_id, "case.write", now, {"step": "consent_revoked"})


def record_checklist(
    uow: UnitOfWork, actor: User, case_id: int, items: Mapping[str, bool], *, now: datetime | None = None
) -> CaseView:
    """Record the pre-procedure checklist as confirmed by the acting user (items not confirmed stay open)."""
    now = _now(now)
    record = build(Checklist, items=dict(items), by=actor.username, on=now.date())
    return _write_step(
        uow, actor, case_id, action="case.write", step="checklist", kind="checklist", record=record, now=now
    )


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
            "modality", f"the plan is {cf.plan.modality}; plan again to change the modality"
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
        raise ValidationError("case_id", f"case {case_id} has no procedure recorded; record it first")
    days = sorted(set(days_after))
    if not days or any(not 0 <= d <= 3650 for d in days):
        raise ValidationError("days_after", "give one or more days after the procedure, 0-3650")
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
        raise ValidationError("follow_up_id", f"follow-up {follow_up_id} is recorded already")
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
        raise ValidationError("code", f"one of {', '.join(GATE_CODES)} (got {code!r})")
    policy = _policy()
    if not policy.overridable(code):
        raise ValidationError(
            "code", f"{code} cannot be overridden under the policy in force ({policy.frame.id})"
        )
    _, _, cf = _load(uow, case_id)
    unmet = _unmet_with(uow, cf, code, now)
    record = build(Override, code=code, reason=reason, by=actor.username, at=now, unmet=unmet)
    uow.pathway.add_entry(case_id, "override", record.model_dump(mode="json"), actor=actor.username, at=now)
    return _finish(uow, actor, case_id, "case.override", now, {"code": code, "reason": reason})


def _unmet_with(uow: UnitOfWork, cf: CaseFile, code: str, now: datetime) -> tuple[dict[str, str], ...]:
    for entry in reversed(uow.pathway.entries(cf.case_id)):
        if entry.kind == "refusal":
            found = [u for u in entry.data.get("unmet", []) if u.get("code") == code]
            if found:
                return tuple({k: str(v) for k, v in u.items() if v is not None} for u in found)
    step = next_step(cf) or "procedure"
    unmet, _ = check(cf, step, _context(now))
    return tuple(
        {k: str(v) for k, v in u.to_dict().items() if v is not None} for u in unmet if u.code == code
    )


# ------------------------------------------------------------------------------------ qualifications


def record_qualification(
    uow: UnitOfWork, actor: User, qualification: Qualification, *, now: datetime | None = None
) -> Qualification:
    """Record a user's radiation-protection qualification (certificate, valid until)."""
    authorize(actor, "user.qualify")
    from painguide.store.users import get_user

    if get_user(uow.session, qualification.username) is None:
        raise NotFoundError(
            f"user {qualification.username!r} does not exist or is disabled; add the user first"
        )
    uow.pathway.add_qualification(qualification, actor=actor.username)
    detail = {"certificate": qualification.certificate, "valid_until": qualification.valid_until.isoformat()}
    record_audit(uow.session, actor.username, "user.qualify", "user", qualification.username, detail)
    uow.commit()
    return qualification


def list_qualifications(uow: UnitOfWork, actor: User, username: str | None = None) -> list[dict[str, Any]]:
    """Recorded qualifications, newest first."""
    authorize(actor, "user.qualify")
    return [
        {
            "username": r.username,
            "certificate": r.certificate,
            "valid_from": r.valid_from.isoformat() if r.valid_from else None,
            "valid_until": r.valid_until.isoformat(),
            "recorded_by": r.recorded_by,
            "recorded_at": r.recorded_at.isoformat(),
        }
        for r in uow.pathway.qualifications(username)
    ]
