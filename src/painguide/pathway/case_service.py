"""Care-pathway use cases of patients, cases and qualifications, and the steps' shared machinery: load a
case once, gate a step (recording a refusal), write its record, refresh the stage, audit and commit."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from painguide.advisor import PatientFactors, find_procedure
from painguide.auth import User, authorize
from painguide.catalogue.loader import KnowledgeBase, load_knowledge
from painguide.catalogue.models import Procedure
from painguide.errors import CatalogueError, GateError, NotFoundError, ValidationError
from painguide.i18n.input_errors import one_of
from painguide.i18n.marks import N_
from painguide.pathway.anticoagulation import plan_anticoagulation
from painguide.pathway.case import STAGES, CaseFile, Step, next_step, stage_of
from painguide.pathway.gates import GateContext, assess, require
from painguide.pathway.models import (
    CaseInfo,
    Patient,
    Qualification,
)
from painguide.pathway.policy import PathwayPolicy, load_pathway_policy
from painguide.pathway.views import (
    CaseSummary,
    CaseView,
    PageOf,
    PatientSummary,
    PatientView,
    ProcedureInfo,
    TimelineItem,
)
from painguide.settings import get_settings
from painguide.store.pathway_repository import LoadedCase
from painguide.store.pathway_tables import CaseRow, PatientRow
from painguide.store.uow import UnitOfWork

__all__ = [
    "MAX_PAGE",
    "get_case",
    "get_patient",
    "list_cases",
    "list_qualifications",
    "open_case",
    "read_case",
    "record_qualification",
    "register_patient",
    "search_patients",
    "update_patient",
]


MAX_PAGE = 200


_ACCESSION = re.compile(r"^[A-Za-z0-9._-]{1,16}$")


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValidationError("now", N_("give a time with its time zone"))
    return now


def _site_policy() -> Path | None:
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


def _policy_info(policy: PathwayPolicy) -> dict[str, object]:
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
    detail: dict[str, object],
) -> CaseView:
    """Refresh the case's stage, audit the change, commit, and return the case as it now stands."""
    loaded = uow.pathway.load_case(case_id)
    case, cf = loaded.case, loaded.file
    step = next_step(cf)
    uow.pathway.set_stage(
        case, stage=stage_of(step), step=step, procedure=cf.indication.procedure if cf.indication else None
    )
    uow.audit.record(actor.username, action, "case", str(case_id), {**detail, "next_step": step})
    uow.commit()
    return _view(uow, loaded, now)


def _gate(
    uow: UnitOfWork,
    actor: User,
    cf: CaseFile,
    step: Step,
    ctx: GateContext,
    candidate: object = None,
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
        uow.audit.record(
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
        raise ValidationError("limit", N_("give 1-%(max)s"), max=MAX_PAGE)
    if offset < 0:
        raise ValidationError("offset", N_("give 0 or more"))
    return limit, offset


def register_patient(
    uow: UnitOfWork, actor: User, patient: Patient, *, now: datetime | None = None
) -> PatientSummary:
    """Register a patient under a new pseudonym (drug names are checked against the anticoagulant table)."""
    authorize(actor, "patient.write")
    _check_drugs(_knowledge(), patient)
    row = uow.pathway.add_patient(patient, actor=actor.username)
    row.created_at = row.updated_at = _now(now)
    uow.audit.record(actor.username, "patient.write", "patient", str(row.id), {"created": True})
    uow.commit()
    return PatientSummary.of(row)


def update_patient(
    uow: UnitOfWork, actor: User, patient_id: int, patient: Patient, *, now: datetime | None = None
) -> PatientSummary:
    """Replace a patient's record (pregnancy status, eGFR, drugs...); the pseudonym cannot change."""
    authorize(actor, "patient.write")
    row = uow.pathway.get_patient(patient_id)
    if patient.pseudonym != row.pseudonym:
        raise ValidationError(
            "pseudonym", N_("stays %(pseudonym)s; a pseudonym is not changed"), pseudonym=repr(row.pseudonym)
        )
    _check_drugs(_knowledge(), patient)
    before = row.record
    uow.pathway.update_patient(row, patient)
    changed = sorted(k for k, v in patient.model_dump(mode="json").items() if before.get(k) != v)
    uow.audit.record(actor.username, "patient.write", "patient", str(row.id), {"changed": changed})
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
    uow.audit.record(actor.username, "patient.read", "patient", str(row.id))
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
    uow.audit.record(actor.username, "patient.read", "patient", "*", detail)
    uow.commit()
    return PageOf([PatientSummary.of(r) for r in page.rows], page.total, limit, offset, page.exact)


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
    view = read_case(uow, actor, case_id, now=now)
    uow.commit()
    return view


def read_case(uow: UnitOfWork, actor: User, case_id: int, *, now: datetime | None = None) -> CaseView:
    """:func:`get_case` without the commit: the audit entry waits in ``uow`` for the caller's one commit (a
    page that reads more than the case audits and commits everything it read at once)."""
    authorize(actor, "case.read")
    now = _now(now)
    loaded = uow.pathway.load_case(case_id)
    uow.audit.record(actor.username, "case.read", "case", str(case_id))
    return _view(uow, loaded, now)


def list_cases(
    uow: UnitOfWork, actor: User, *, stage: str | None = None, limit: int = 20, offset: int = 0
) -> PageOf[CaseSummary]:
    """Cases newest first, optionally of one stage (see :data:`~painguide.pathway.case.STAGES`)."""
    authorize(actor, "case.read")
    if stage is not None and stage not in STAGES:
        raise one_of("stage", STAGES, stage)
    limit, offset = _page(limit, offset)
    page = uow.pathway.list_cases(stage=stage, limit=limit, offset=offset)
    detail = {"stage": stage, "results": len(page.rows), "offset": offset}
    uow.audit.record(actor.username, "case.read", "case", "*", detail)
    uow.commit()
    return PageOf([_summary(row, pseudonym) for row, pseudonym in page.rows], page.total, limit, offset)


def record_qualification(
    uow: UnitOfWork, actor: User, qualification: Qualification, *, now: datetime | None = None
) -> Qualification:
    """Record a user's radiation-protection qualification (certificate, valid until)."""
    authorize(actor, "user.qualify")
    if uow.users.active(qualification.username) is None:
        raise NotFoundError(
            f"user {qualification.username!r} does not exist or is disabled; add the user first"
        )
    uow.pathway.add_qualification(qualification, actor=actor.username)
    detail = {"certificate": qualification.certificate, "valid_until": qualification.valid_until.isoformat()}
    uow.audit.record(actor.username, "user.qualify", "user", qualification.username, detail)
    uow.commit()
    return qualification


def list_qualifications(uow: UnitOfWork, actor: User, username: str | None = None) -> list[dict[str, object]]:
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
