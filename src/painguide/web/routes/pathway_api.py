"""The care pathway in the REST API (``/api/v1``): patients, cases, each step, overrides, procedures.

Every route calls the same :mod:`painguide.pathway.service` function as the pages. A refused step answers
409 ``{"error": "gate_refused", "step", "unmet": [{code, message, source}]}`` (every unmet reason); bad
input 422 ``{"error": "validation", "detail": [{field, message}]}``; a role the permission matrix refuses
403. Request bodies are the domain's records (``painguide.pathway.models``), so the schema at
``/api/v1/openapi.json`` is theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from painguide.auth import User
from painguide.pathway import page_service, service
from painguide.pathway.case import Stage
from painguide.pathway.models import CaseInfo as CaseInfoIn
from painguide.pathway.models import (
    ClinicalExam,
    Consent,
    ConservativeTherapy,
    FollowUpResult,
    Imaging,
    Indication,
    LabResult,
    Patient,
    ProcedureRecord,
)
from painguide.pathway.service import CaseView
from painguide.store.uow import UnitOfWork
from painguide.web.deps import allow, get_uow
from painguide.web.routes.api import MAX_ROW_ID, PREFIX, Problem, RowId, ValidationProblem

__all__ = ["GateRefusal", "router"]


class UnmetOut(BaseModel):
    """One unmet condition of a gate."""

    code: str = Field(examples=["conservative_therapy_missing"])
    message: str
    source: str | None = Field(None, examples=["L38773"])


class GateRefusal(BaseModel):
    """409: the step was refused; ``unmet`` lists every reason (nothing was recorded but the refusal)."""

    error: Literal["gate_refused"] = "gate_refused"
    step: str
    unmet: list[UnmetOut]


_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "The role may not perform this action"},
    404: {"model": Problem, "description": "No such patient, case or procedure"},
    422: {"model": ValidationProblem, "description": "Invalid input; names every bad field"},
}
_STEP_RESPONSES: dict[int | str, dict[str, object]] = {
    **_RESPONSES,
    409: {"model": GateRefusal, "description": "Refused by a safety gate; every unmet reason"},
}
router = APIRouter(prefix=PREFIX, tags=["care pathway"], responses=_RESPONSES)
Uow = Annotated[UnitOfWork, Depends(get_uow)]
PatientReader = Annotated[User, Depends(allow("patient.read"))]
PatientWriter = Annotated[User, Depends(allow("patient.write"))]
CaseReader = Annotated[User, Depends(allow("case.read"))]
CaseWriter = Annotated[User, Depends(allow("case.write"))]
Justifier = Annotated[User, Depends(allow("case.justify"))]
Performer = Annotated[User, Depends(allow("case.procedure"))]
FollowUpWriter = Annotated[User, Depends(allow("case.followup"))]
Overrider = Annotated[User, Depends(allow("case.override"))]
Limit = Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="Items to skip")]


# ------------------------------------------------------------------------------------------- outputs


class PatientOut(BaseModel):
    """A patient in a list."""

    id: int
    pseudonym: str
    name: str | None
    birth_year: int
    sex: str


class PatientPage(BaseModel):
    """One page of patients; counting stops at 1,000 (``total_exact`` false: more match)."""

    items: list[PatientOut]
    total: int
    total_exact: bool = True
    limit: int
    offset: int


class CaseSummaryOut(BaseModel):
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


class CasePage(BaseModel):
    """One page of cases."""

    items: list[CaseSummaryOut]
    total: int
    limit: int
    offset: int


class PatientDetail(PatientOut):
    """A patient's record and cases."""

    record: dict[str, object]
    cases: list[CaseSummaryOut]


class OverrideOut(BaseModel):
    """A physician's override of one gate code: who, when, why, and the reasons it lifted."""

    code: str
    reason: str
    by: str
    at: datetime
    unmet: list[dict[str, str]] = []


class TimelineOut(BaseModel):
    """One timeline entry: a step's record, a refusal, an override."""

    id: int
    at: datetime
    by: str
    kind: str
    data: dict[str, object]


class DoseTotalsOut(BaseModel):
    """The linked dose reports summed, under the field names of ``painguide dose inspect --json``.

    ``peak_skin_dose_mgy`` is the one report's estimate, or the sum over all reports (an upper bound: their
    peaks may lie on different skin areas; ``peak_skin_dose_note`` says which), ``None`` when a report has
    none. ``reports`` counts the linked reports.
    """

    events: int
    dap_total_gy_cm2: float | None = Field(examples=[1.92])
    fluoro_dap_gy_cm2: float | None
    acquisition_dap_gy_cm2: float | None
    rp_dose_total_mgy: float | None
    fluoro_time_s: float | None
    acquisition_time_s: float | None
    dlp_total_mgy_cm: float | None
    peak_skin_dose_mgy: float | None
    peak_skin_dose_note: str
    reports: int


class DoseReportOut(BaseModel):
    """One linked dose report (field names of ``painguide dose inspect --json``, plus the stored ``id``)."""

    id: int
    sop_instance_uid: str
    kind: str
    manufacturer: str | None
    model: str | None
    station: str | None
    study_datetime: str | None
    study_instance_uid: str | None
    accession_number: str | None
    events: int
    dap_total_gy_cm2: float | None
    fluoro_dap_gy_cm2: float | None
    acquisition_dap_gy_cm2: float | None
    rp_dose_total_mgy: float | None
    fluoro_time_s: float | None
    acquisition_time_s: float | None
    dlp_total_mgy_cm: float | None
    peak_skin_dose_mgy: float | None
    peak_skin_dose_note: str
    review: str = Field(description="The dose report page", examples=["/dose/reports/7"])


class DoseComparisonOut(BaseModel):
    """The procedure's summed dose against one reference level (published DRL or the site's local one)."""

    reference: str = Field(examples=["local-median:lumbar-tfesi"])
    quantity: str = Field(examples=["dap"])
    value: float
    level: float
    ratio: float
    exceeded: bool
    source: str
    status: str


class SonoWarningOut(BaseModel):
    """An ultrasound warning of a linked analysis: an event to review."""

    analysis_id: int
    type: str = Field(examples=["no_visible_spread"])
    message: str = Field(examples=["no visible spread"])
    time_s: float | None
    review: str = Field(description="The analysis review page", examples=["/sono/review/3"])


class ProcedureOut(BaseModel):
    """A scheduled or performed procedure: accession number, links, the linked dose and ultrasound warnings.

    ``dose`` is ``None`` while no dose report is linked; ``local_drl`` is the comparison with the site's
    local DRL (``None`` until the site has reports of this procedure type); ``warnings`` are the linked
    analyses' warnings to review.
    """

    case_id: int
    id: int
    accession_number: str = Field(examples=["PG00000012"])
    procedure: str
    modality: str
    scheduled_at: datetime
    status: str
    performed_at: datetime | None
    study_instance_uid: str | None
    dose_report_ids: list[int]
    sono_analysis_ids: list[int]
    dose: DoseTotalsOut | None
    dose_reports: list[DoseReportOut]
    local_drl: DoseComparisonOut | None
    comparisons: list[DoseComparisonOut]
    warnings: list[SonoWarningOut]


class CaseOut(BaseModel):
    """A case: stage, the next step, every unmet reason of it, overrides, the records and the timeline."""

    id: int
    patient: PatientOut
    stage: Stage
    next_step: str | None
    unmet: list[UnmetOut]
    overridden: list[UnmetOut]
    overrides: list[OverrideOut]
    case: dict[str, object]
    diagnostics: list[dict[str, object]]
    conservative_therapies: list[dict[str, object]]
    indication: dict[str, object] | None
    plan: dict[str, object] | None
    schedule: dict[str, object] | None
    anticoagulation: dict[str, object] | None
    justification: dict[str, object] | None
    consent: dict[str, object] | None
    consent_revoked: dict[str, object] | None
    checklist: dict[str, object] | None
    procedure_record: dict[str, object] | None
    procedure: dict[str, object] | None
    follow_ups: list[dict[str, object]]
    timeline: list[TimelineOut]
    policy: dict[str, object]


def _case(view: CaseView) -> dict[str, object]:
    return view.to_dict()


# -------------------------------------------------------------------------------------------- inputs


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PlanIn(_In):
    """The modality chosen from the advisor's ranking; a reason when it is not the top-ranked one."""

    modality: Literal["landmark", "ultrasound", "fluoroscopy", "ct"]
    reason: str | None = Field(None, max_length=2000)


class ScheduleIn(_In):
    """When and where; the accession number is assigned (``PG`` + 8 digits) unless the RIS gives one."""

    at: AwareDatetime
    location: str | None = Field(None, max_length=100)
    accession_number: str | None = Field(None, examples=["RIS12345"])


class AnticoagulationIn(_In):
    """The physician's decision for each drug whose plan is a shared decision."""

    decisions: dict[str, Literal["continue", "hold"]] = {}


class JustificationIn(_In):
    """The radiation justification, signed by the acting physician (qualification copied in)."""

    alternative: str = Field(examples=["ultrasound"])
    alternative_not_chosen_because: str
    note: str | None = None


class RevocationIn(_In):
    """The patient withdrew consent."""

    reason: str | None = Field(None, max_length=2000)


class ChecklistIn(_In):
    """Checklist items confirmed (``true``) or not; items that apply and are missing stay open."""

    items: dict[str, bool] = Field(examples=[{"identity": True, "side_level": True}])


class ProcedureIn(ProcedureRecord):
    """The performed procedure; ``study_instance_uid`` links its images."""

    study_instance_uid: str | None = Field(None, max_length=64)


class FollowUpsIn(_In):
    """Days after the procedure at which follow-ups are due."""

    days_after: list[int] = Field(examples=[[14, 42, 90]])


class OverrideIn(_In):
    """A gate code and the physician's written reason (at least 10 characters)."""

    code: str = Field(examples=["contraindication"])
    reason: str


Diagnostic = Annotated[ClinicalExam | Imaging | LabResult, Field(discriminator="kind")]


# -------------------------------------------------------------------------------------------- routes


@router.get("/patients", response_model=PatientPage)
def list_patients(
    user: PatientReader, uow: Uow, q: str = "", limit: Limit = 20, offset: Offset = 0
) -> dict[str, object]:
    """Patients whose pseudonym or name words start with the words of ``q``, in order of registration.

    The count stops at 1,000: ``total_exact`` is then false (more match; refine the search)."""
    page = service.search_patients(uow, user, q, limit=limit, offset=offset)
    return {
        "items": [p.to_dict() for p in page.items], "total": page.total, "total_exact": page.total_exact,
        "limit": limit, "offset": offset,
    }  # fmt: skip


@router.post("/patients", response_model=PatientOut, status_code=201)
def create_patient(patient: Patient, user: PatientWriter, uow: Uow) -> dict[str, object]:
    """Register a patient under a new pseudonym."""
    return service.register_patient(uow, user, patient).to_dict()


@router.get("/patients/{patient_id}", response_model=PatientDetail)
def read_patient(patient_id: RowId, user: PatientReader, uow: Uow) -> dict[str, object]:
    """A patient's record and cases."""
    return service.get_patient(uow, user, patient_id).to_dict()


@router.post("/patients/{patient_id}/cases", response_model=CaseOut, status_code=201)
def create_case(patient_id: RowId, info: CaseInfoIn, user: CaseWriter, uow: Uow) -> dict[str, object]:
    """Open a case: complaint, region, side, pain duration, baseline NRS and disability score."""
    return _case(service.open_case(uow, user, patient_id, info))


@router.get("/cases", response_model=CasePage)
def list_cases(
    user: CaseReader,
    uow: Uow,
    stage: Annotated[Stage | None, Query(description="Only cases at this stage")] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> dict[str, object]:
    """Cases newest first, optionally of one stage."""
    page = service.list_cases(uow, user, stage=stage, limit=limit, offset=offset)
    return {"items": [c.to_dict() for c in page.items], "total": page.total, "limit": limit, "offset": offset}


@router.get("/cases/{case_id}", response_model=CaseOut)
def read_case(case_id: RowId, user: CaseReader, uow: Uow) -> dict[str, object]:
    """A case with its stage, ``next_step``, every ``unmet`` reason, overrides and timeline."""
    return _case(service.get_case(uow, user, case_id))


@router.post("/cases/{case_id}/diagnostics", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_diagnostic(case_id: RowId, diagnostic: Diagnostic, user: CaseWriter, uow: Uow) -> dict[str, object]:
    """Record a clinical examination (``kind: exam``), an imaging study (``imaging``) or a lab (``lab``)."""
    return _case(service.record_diagnostic(uow, user, case_id, diagnostic))


@router.post("/cases/{case_id}/conservative-therapies", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_therapy(
    case_id: RowId, therapy: ConservativeTherapy, user: CaseWriter, uow: Uow
) -> dict[str, object]:
    """Record a conservative therapy tried (type, start, duration, outcome)."""
    return _case(service.record_therapy(uow, user, case_id, therapy))


@router.post("/cases/{case_id}/indication", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_indication(case_id: RowId, indication: Indication, user: CaseWriter, uow: Uow) -> dict[str, object]:
    """Record the indication; refused unless work-up, conservative care and the policy's criteria hold."""
    return _case(service.record_indication(uow, user, case_id, indication))


@router.post("/cases/{case_id}/plan", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_plan(case_id: RowId, plan: PlanIn, user: CaseWriter, uow: Uow) -> dict[str, object]:
    """Store the advisor's ranking for this patient and the chosen modality."""
    return _case(service.record_plan(uow, user, case_id, modality=plan.modality, reason=plan.reason))


@router.post("/cases/{case_id}/schedule", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_schedule(case_id: RowId, schedule: ScheduleIn, user: CaseWriter, uow: Uow) -> dict[str, object]:
    """Schedule (or move) the procedure; the answer's ``procedure.accession_number`` is its worklist key."""
    return _case(
        service.schedule_procedure(
            uow,
            user,
            case_id,
            at=schedule.at,
            location=schedule.location,
            accession_number=schedule.accession_number,
        )
    )


@router.post("/cases/{case_id}/anticoagulation", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_anticoagulation(
    case_id: RowId, body: AnticoagulationIn, user: CaseWriter, uow: Uow
) -> dict[str, object]:
    """Plan the patient's antithrombotic drugs for the scheduled time (N18), shared decisions resolved."""
    return _case(service.record_anticoagulation(uow, user, case_id, decisions=body.decisions))


@router.post("/cases/{case_id}/justification", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_justification(case_id: RowId, body: JustificationIn, user: Justifier, uow: Uow) -> dict[str, object]:
    """Sign the radiation justification (fluoroscopy and CT only) as the acting physician."""
    return _case(
        service.record_justification(
            uow,
            user,
            case_id,
            alternative=body.alternative,
            alternative_not_chosen_because=body.alternative_not_chosen_because,
            note=body.note,
        )
    )


@router.post("/cases/{case_id}/consent", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_consent(case_id: RowId, consent: Consent, user: CaseWriter, uow: Uow) -> dict[str, object]:
    """Record informed consent for the planned modality."""
    return _case(service.record_consent(uow, user, case_id, consent))


@router.post("/cases/{case_id}/consent/revocation", response_model=CaseOut, responses=_STEP_RESPONSES)
def revoke_consent(case_id: RowId, body: RevocationIn, user: CaseWriter, uow: Uow) -> dict[str, object]:
    """Record that the patient withdrew consent (every later step is then refused: ``consent_revoked``)."""
    return _case(service.revoke_consent(uow, user, case_id, reason=body.reason))


@router.post("/cases/{case_id}/checklist", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_checklist(case_id: RowId, body: ChecklistIn, user: CaseWriter, uow: Uow) -> dict[str, object]:
    """Record the pre-procedure checklist as confirmed by the acting user."""
    return _case(service.record_checklist(uow, user, case_id, body.items))


@router.post("/cases/{case_id}/procedure", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_procedure(case_id: RowId, body: ProcedureIn, user: Performer, uow: Uow) -> dict[str, object]:
    """Record the performed procedure; refused unless every gate before it holds."""
    record = ProcedureRecord.model_validate(body.model_dump(exclude={"study_instance_uid"}))
    return _case(
        service.record_procedure(uow, user, case_id, record, study_instance_uid=body.study_instance_uid)
    )


@router.post("/cases/{case_id}/follow-ups", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_follow_ups(case_id: RowId, body: FollowUpsIn, user: FollowUpWriter, uow: Uow) -> dict[str, object]:
    """Schedule follow-ups at the given days after the procedure."""
    return _case(service.schedule_follow_ups(uow, user, case_id, body.days_after))


@router.post("/cases/{case_id}/follow-ups/{follow_up_id}", response_model=CaseOut, responses=_STEP_RESPONSES)
def add_follow_up_result(
    case_id: RowId, follow_up_id: RowId, result: FollowUpResult, user: FollowUpWriter, uow: Uow
) -> dict[str, object]:
    """Record one follow-up's NRS, PGIC and relief."""
    return _case(service.record_follow_up(uow, user, case_id, follow_up_id, result))


@router.post("/cases/{case_id}/overrides", response_model=CaseOut, status_code=201)
def add_override(case_id: RowId, body: OverrideIn, user: Overrider, uow: Uow) -> dict[str, object]:
    """Override one gate code on the case with a written reason (physicians); audited and shown."""
    return _case(service.override_gate(uow, user, case_id, code=body.code, reason=body.reason))


@router.get("/procedures", response_model=list[ProcedureOut])
def find_procedures(
    user: CaseReader, uow: Uow, accession: Annotated[str, Query(min_length=1, max_length=16)]
) -> list[dict[str, object]]:
    """The procedure with this accession number, with its linked dose and ultrasound warnings (an empty list
    when there is none)."""
    return [p.to_dict() for p in page_service.find_procedures(uow, user, accession=accession)]


@router.get("/procedures/{procedure_id}", response_model=ProcedureOut)
def read_procedure(procedure_id: RowId, user: CaseReader, uow: Uow) -> dict[str, object]:
    """One procedure with its accession number, linked dose and ultrasound warnings."""
    return page_service.get_procedure(uow, user, procedure_id).to_dict()
