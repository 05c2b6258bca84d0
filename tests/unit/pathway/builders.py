"""Builders for care-pathway tests: a case complete up to any step, under any policy set."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from painguide.advisor import PatientFactors, recommend
from painguide.catalogue.loader import load_knowledge
from painguide.pathway.anticoagulation import plan_anticoagulation
from painguide.pathway.case import CaseFile, PriorSession
from painguide.pathway.gates import GateContext
from painguide.pathway.models import (
    CaseInfo,
    Checklist,
    ClinicalExam,
    Consent,
    ConservativeTherapy,
    Imaging,
    Indication,
    Patient,
    Qualification,
    RadiationJustification,
    Schedule,
)
from painguide.pathway.planning import make_plan, schedule_anticoagulation
from painguide.pathway.policy import PathwayPolicy, load_policy_sets

TODAY = date(2026, 3, 2)
AT = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
KB = load_knowledge()


def policy(set_id: str = "cms-lcd", frame: str = "de-strlschg", *, competence: bool = False) -> PathwayPolicy:
    """The named set and frame, as a site would pick them."""
    sets, _ = load_policy_sets()
    return PathwayPolicy(
        rules=sets.sets[set_id],
        frame=sets.frames[frame],
        competence_required=competence,
        not_overridable=frozenset({*sets.not_overridable, *sets.frames[frame].not_overridable}),
    )


def context(set_id: str = "cms-lcd", frame: str = "de-strlschg", **kw: Any) -> GateContext:
    competence = kw.pop("competence", None)
    return GateContext(
        policy=policy(set_id, frame, competence=competence is not None),
        today=kw.pop("today", TODAY),
        procedures=KB.catalogue.procedures,
        competence=competence,
    )


def patient(**changes: Any) -> Patient:
    data: dict[str, Any] = {
        "pseudonym": "P-0001",
        "birth_year": 1970,
        "sex": "female",
        "height_cm": 168,
        "weight_kg": 70,
        "pregnancy": "not_pregnant",
        "pregnancy_asked_on": TODAY,
        "breastfeeding": False,
        "egfr": 80,
        "egfr_on": date(2026, 2, 1),
    }
    data.update(changes)
    return Patient.model_validate(data)


def prior(
    procedure: str, on: date, relief: float | None, *, days: int = 0, region: str = "lumbar"
) -> PriorSession:
    reliefs = () if relief is None else ((days, relief),)
    return PriorSession(1000, procedure, region, "right", ("L4-L5",), on, reliefs)


def case_up_to(
    step: str,
    *,
    procedure: str = "lumbar-facet-mbb",
    modality: str = "fluoroscopy",
    levels: tuple[str, ...] = ("L4-L5",),
    pat: Patient | None = None,
    history: tuple[PriorSession, ...] = (),
) -> CaseFile:
    """A case with every step before ``step`` recorded so that its gates pass under cms-lcd / de-strlschg."""
    pat = pat or patient()
    info = CaseInfo(
        complaint="axial low back pain",
        region="lumbar",
        side="right",
        pain_duration_weeks=20,
        nrs=7,
        disability_scale="ODI",
        disability_score=42,
        opened_on=date(2026, 1, 5),
    )
    case = CaseFile(case_id=1, patient=pat, info=info, history=history)
    order = ["diagnostics", "conservative_therapies", "indication", "plan", "schedule", "anticoagulation"]
    order += ["justification", "consent", "checklist", "procedure"]
    stop = order.index(step) if step in order else len(order)
    done = set(order[:stop])
    if "diagnostics" in done:
        exam = ClinicalExam(on=date(2026, 1, 5), examiner="dr.a", findings="facet loading positive")
        mri = Imaging(on=date(2025, 12, 1), modality="mri", finding="facet arthropathy L4-L5")
        case = replace(case, diagnostics=(exam, mri))
    if "conservative_therapies" in done:
        therapy = ConservativeTherapy(
            type="physiotherapy", started_on=date(2025, 10, 1), duration_weeks=14, outcome="failed"
        )
        case = replace(case, therapies=(therapy,))
    if "indication" in done:
        indication = Indication(
            procedure=procedure,
            levels=levels,
            side="right",
            rationale="facet pain",
            physician="dr.a",
            on=TODAY,
        )
        case = replace(case, indication=indication)
    if "plan" in done:
        rec = recommend(KB, procedure, PatientFactors(drugs=pat.drugs))
        top = next(m.modality for m in rec.modalities if m.used)
        plan = make_plan(rec, modality, reason=None if modality == top else "site preference", on=TODAY)
        case = replace(case, plan=plan)
    if "schedule" in done:
        case = replace(case, schedule=Schedule(at=AT, accession_number="PG000001"))
    if "anticoagulation" in done and pat.drugs:
        proc = KB.catalogue.procedures[procedure]
        result = plan_anticoagulation(KB.drugs, pat.drugs, bleeding_risk=proc.bleeding_risk.value or "high")
        shared = {
            name: "continue"
            for name, p in zip(pat.drugs, result.plans, strict=True)
            if p.action == "shared_decision"
        }
        record = schedule_anticoagulation(
            result, AT, names=pat.drugs, decisions=shared, decided_by="dr.a", on=TODAY
        )  # type: ignore[arg-type]
        case = replace(case, anticoagulation=record)
    if "justification" in done and modality in ("fluoroscopy", "ct"):
        case = replace(case, justification=justification(modality))
    if "consent" in done:
        consent = Consent(
            given_by="patient",
            informed_by="dr.a",
            on=TODAY,
            modality=modality,  # type: ignore[arg-type]
            alternatives="ultrasound guidance; no procedure",
            risks="bleeding, infection, nerve injury",
            radiation_explained=modality in ("fluoroscopy", "ct"),
        )
        case = replace(case, consent=consent)
    if "checklist" in done:
        required = Checklist.required_items(modality, case.plan.contrast if case.plan else "none")
        case = replace(case, checklist=Checklist(items=dict.fromkeys(required, True), by="nurse", on=TODAY))
    return case


def justification(
    modality: str = "fluoroscopy", *, valid_until: date = date(2030, 1, 1)
) -> RadiationJustification:
    return RadiationJustification(
        modality=modality,  # type: ignore[arg-type]
        physician="dr.a",
        on=TODAY,
        alternative="ultrasound",
        alternative_not_chosen_because="BMI 34: medial branches not visible",
        qualification=Qualification(username="dr.a", certificate="FK-123", valid_until=valid_until),
        frame="de-strlschg",
    )
