"""Demo care-pathway data: about 50 synthetic patients with cases at every stage (idempotent).

Every case is driven through the real services, so the demo shows what the gates do: cases stopped at each
step, refusals on the timeline (conservative care missing, diagnostic blocks insufficient, pregnancy status
unknown, an unqualified signer), one override with its reason, and procedures under fluoroscopy, CT,
ultrasound and landmark guidance. Performed demo procedures carry the accession numbers and patient ids of
demo dose reports (:mod:`painguide.dose.demo`) and the Study Instance UIDs of the demo ultrasound analyses
(:mod:`painguide.sono.demo`), so the linking step has something to link. Names are synthetic.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from painguide.auth import User
from painguide.dose.demo import ALERT_PATIENT, demo_reports
from painguide.dose.service import procedure_type_of
from painguide.errors import GateError
from painguide.pathway import service
from painguide.pathway.case import CaseFile
from painguide.pathway.models import (
    IONIZING,
    CaseInfo,
    Checklist,
    ClinicalExam,
    Consent,
    ConservativeTherapy,
    FollowUpResult,
    Imaging,
    Indication,
    LabResult,
    Patient,
    ProcedureRecord,
    Qualification,
)
from painguide.store.uow import OneTransaction, UnitOfWork

__all__ = ["DEMO_MARKER", "seed_demo_data"]

DEMO_MARKER = "DEMO-PW"
"""Pseudonym prefix of the demo patients: one present means the demo cases exist."""
PHYSICIAN = User("physician", "Dr. Demo Physician", frozenset({"physician"}))
ADMIN = User("demo", "demo seeder", frozenset({"admin"}))
#: A physician without a recorded radiation-protection qualification (signing is refused).
LOCUM = User("dr.locum", "Dr. Demo Locum", frozenset({"physician"}))
_GIVEN = ("Anna", "Luca", "Sofia", "Noah", "Mia", "Elias", "Lea", "David", "Laura", "Jonas", "Nina", "Marco")
_FAMILY = (
    "Meier",
    "Müller",
    "Schneider",
    "Fischer",
    "Weber",
    "Keller",
    "Huber",
    "Brunner",
    "Steiner",
    "Baumann",
)
_STEPS = (
    "open",
    "diagnostics",
    "conservative_therapies",
    "indication",
    "plan",
    "schedule",
    "anticoagulation",
    "justification",
    "consent",
    "checklist",
    "procedure",
    "follow_ups",
    "closed",
)


@dataclass(frozen=True, slots=True)
class _Spec:
    """One demo case: procedure, modality, how far it goes, and what is special about it."""

    procedure: str
    modality: str
    until: str
    levels: tuple[str, ...] = ()
    region: str = "lumbar"
    pseudonym: str | None = None
    at: datetime | None = None
    accession: str | None = None
    study_uid: str | None = None
    patient: dict[str, object] | None = None
    refuse: str | None = None


def _specs(today: date) -> list[_Spec]:
    """About 50 cases: the linked ones from the dose and ultrasound demos, then every stage and refusal."""
    specs = [
        *_dose_linked(today),
        _Spec("cervical-facet-mbb", "ultrasound", "closed", ("C3",), "cervical", study_uid="2.25.7001"),
        _Spec("cervical-facet-mbb", "ultrasound", "follow_ups", ("C4",), "cervical", study_uid="2.25.7002"),
        _Spec("sij-ia", "ultrasound", "follow_ups", (), "sacral", study_uid="2.25.7003"),
    ]
    stages = [
        ("lumbar-facet-mbb", "fluoroscopy", "diagnostics", ("L4-L5",), "lumbar"),
        ("lumbar-tfesi", "fluoroscopy", "conservative_therapies", ("L5",), "lumbar"),
        ("knee-ia", "landmark", "indication", (), "lower-limb"),
        ("shoulder-ia", "ultrasound", "plan", (), "upper-limb"),
        ("lumbar-prt", "ct", "schedule", ("L4",), "lumbar"),
        ("lumbar-facet-ia", "ct", "justification", ("L4-L5",), "lumbar"),
        ("caudal-esi", "fluoroscopy", "consent", ("S1",), "sacral"),
        ("knee-ia", "ultrasound", "checklist", (), "lower-limb"),
        ("greater-occipital", "landmark", "procedure", (), "head"),
        ("lumbar-prt", "ct", "procedure", ("L5",), "lumbar"),
        ("trigger-point", "landmark", "closed", (), "trunk"),
        ("hip-ia", "ultrasound", "closed", (), "lower-limb"),
        ("lumbar-tfesi", "fluoroscopy", "checklist", ("L4",), "lumbar"),
        ("stellate-ganglion", "ultrasound", "consent", (), "neck"),
    ]
    for _ in range(2):  # every stage twice over
        specs += [_Spec(p, m, u, lv, r) for p, m, u, lv, r in stages]
    specs += [
        _Spec(
            "lumbar-facet-mbb", "fluoroscopy", "indication", ("L4-L5",), refuse="conservative_therapy_missing"
        ),
        _Spec(
            "lumbar-facet-rfa",
            "fluoroscopy",
            "indication",
            ("L4-L5",),
            refuse="diagnostic_blocks_insufficient",
        ),
        _Spec(
            "lumbar-tfesi",
            "fluoroscopy",
            "justification",
            ("L5",),
            refuse="pregnancy_status_unknown",
            patient={
                "sex": "female",
                "pregnancy": "unknown",
                "pregnancy_asked_on": None,
                "breastfeeding": None,
            },
        ),
        _Spec("lumbar-prt", "ct", "justification", ("L4",), refuse="justification_not_qualified"),
        _Spec(
            "lumbar-facet-mbb",
            "fluoroscopy",
            "schedule",
            ("L4-L5",),
            refuse="contraindication",
            patient={"fused_levels": ["L4-L5"]},
        ),  # overridden with a reason
        _Spec("lumbar-tfesi", "fluoroscopy", "anticoagulation", ("L5",), patient={"drugs": ["apixaban"]}),
        _Spec("sij-ia", "fluoroscopy", "procedure", (), "sacral", patient={"drugs": ["clopidogrel"]}),
    ]
    return specs


def _dose_linked(today: date) -> list[_Spec]:
    """Performed procedures matching demo dose reports: same accession number, patient id and time."""

    regions = {
        "lumbar-tfesi": ("lumbar", ("L5",)),
        "caudal-esi": ("sacral", ("S1",)),
        "lumbar-facet-mbb": ("lumbar", ("L4-L5",)),
        "cervical-facet-mbb": ("cervical", ("C5-C6",)),
        "sij-ia": ("sacral", ()),
    }
    specs: list[_Spec] = []
    seen: set[str] = set()
    for report in demo_reports(today):
        pid = report.patient.patient_id or ""
        procedure = procedure_type_of(report)
        if pid == ALERT_PATIENT or procedure not in regions or pid in seen or report.study_datetime is None:
            continue
        seen.add(pid)  # one linked case per demo patient: their other reports stay for manual linking
        region, levels = regions[procedure]
        at = report.study_datetime.replace(tzinfo=UTC)
        until = "closed" if len(specs) % 2 else "follow_ups"
        specs.append(
            _Spec(
                procedure,
                "fluoroscopy",
                until,
                levels,
                region,
                pid,
                at,
                report.accession_number,
                report.study_instance_uid,
            )
        )
        if len(specs) == 10:
            break
    return specs


def seed_demo_data(outer: UnitOfWork, today: date | None = None) -> None:
    """Create the demo patients and cases through the services unless they exist (the caller commits)."""
    if outer.pathway.search_patients(DEMO_MARKER, limit=1).total:
        return
    uow = OneTransaction(outer)
    today = today or date.today()
    if not uow.pathway.qualification_on(PHYSICIAN.username, today):
        qualification = Qualification(
            username=PHYSICIAN.username,
            certificate="DEMO-FK-0001",
            valid_until=today + timedelta(days=3 * 365),
        )
        service.record_qualification(uow, ADMIN, qualification, now=_at(today - timedelta(days=400)))
    rng = random.Random(7)
    for index, spec in enumerate(_specs(today)):
        _seed_case(uow, rng, index, spec, today)


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _patient(rng: random.Random, index: int, spec: _Spec, today: date) -> Patient:
    sex = "male" if index % 3 == 1 else "female"
    data: dict[str, object] = {
        "pseudonym": spec.pseudonym or f"DEMO-PW-{index:02d}",
        "name": f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}",
        "birth_year": today.year - rng.randrange(32, 84),
        "sex": sex,
        "height_cm": rng.randrange(155, 190),
        "weight_kg": rng.randrange(55, 110),
        "pregnancy": "not_applicable" if sex == "male" else "not_pregnant",
        "pregnancy_asked_on": today - timedelta(days=400),
        "breastfeeding": False,
        "egfr": float(rng.randrange(55, 100)),
        "egfr_on": today - timedelta(days=420),
    }
    data.update(spec.patient or {})
    return Patient.model_validate(data)


def _seed_case(uow: UnitOfWork, rng: random.Random, index: int, spec: _Spec, today: date) -> None:
    existing = uow.pathway.patient_by_pseudonym(spec.pseudonym) if spec.pseudonym else None
    if spec.at:
        when, start = spec.at, spec.at.date() - timedelta(days=30)
    else:
        # a case walked past its procedure was performed 7-20 days ago; the others are scheduled ahead
        weeks = timedelta(days=7 + index % 14)
        performed = _STEPS.index(spec.until) > _STEPS.index("procedure")
        when = _at(today - weeks) if performed else _at(today + weeks)
        before = timedelta(days=rng.randrange(10, 40) + 30)
        start = (when.date() if performed else today) - before
    if existing is None:
        pid = service.register_patient(uow, PHYSICIAN, _patient(rng, index, spec, today), now=_at(start)).id
    else:
        pid = existing.id
    info = CaseInfo(
        complaint=f"{spec.region} pain" if spec.region != "lumbar" else "axial low back pain",
        region=spec.region,
        side="right",
        pain_duration_weeks=float(rng.randrange(14, 60)),
        nrs=rng.randrange(5, 10),
        disability_scale="NDI" if spec.region == "cervical" else "ODI",
        disability_score=float(rng.randrange(20, 60)),
        opened_on=start,
    )
    case_id = service.open_case(uow, PHYSICIAN, pid, info, now=_at(start)).id
    walk = _Walk(uow, case_id, spec, start, when, rng)
    last = _STEPS.index(spec.until) + (1 if spec.refuse else 0)  # a refused step is attempted
    for step in _STEPS[1:last]:
        if not walk.run(step):
            break


class _Walk:
    """Drives one demo case step by step through the services (up to, not including, ``spec.until``)."""

    def __init__(
        self, uow: UnitOfWork, case_id: int, spec: _Spec, start: date, at: datetime, rng: random.Random
    ):
        self.uow, self.case_id, self.spec, self.start, self.at, self.rng = uow, case_id, spec, start, at, rng
        self.day = _at(start + timedelta(days=1), 10)

    def run(self, step: str) -> bool:
        """Do ``step``; a refusal the spec asks for ends the walk (it stays on the timeline)."""
        action: Callable[[], object] = getattr(self, step)
        try:
            action()
        except GateError:
            if self.spec.refuse is None:
                raise
            if self.spec.refuse != "contraindication":
                return False
            reason = (
                "Fusion is at L3-L4 on the CT of 2024; the registry entry L4-L5 is wrong (letter on file)."
            )
            service.override_gate(
                self.uow, PHYSICIAN, self.case_id, code="contraindication", reason=reason, now=self.day
            )
            action()
        return True

    def diagnostics(self) -> None:
        exam = ClinicalExam(
            on=self.start, examiner=PHYSICIAN.username, findings="pain on facet loading, no deficit"
        )
        service.record_diagnostic(self.uow, PHYSICIAN, self.case_id, exam, now=self.day)
        mri = Imaging(
            on=self.start - timedelta(days=20), modality="mri", finding="degenerative changes, concordant"
        )
        service.record_diagnostic(self.uow, PHYSICIAN, self.case_id, mri, now=self.day)

    def conservative_therapies(self) -> None:
        if self.spec.refuse == "conservative_therapy_missing":
            return
        therapy = ConservativeTherapy(
            type="physiotherapy",
            started_on=self.start - timedelta(weeks=20),
            duration_weeks=14,
            outcome="failed",
        )
        service.record_therapy(self.uow, PHYSICIAN, self.case_id, therapy, now=self.day)

    def indication(self) -> None:
        record = Indication(
            procedure=self.spec.procedure,
            levels=self.spec.levels,
            side="right",
            rationale="clinical and imaging findings concordant; conservative care failed",
            physician=PHYSICIAN.username,
            on=self.day.date(),
        )
        service.record_indication(self.uow, PHYSICIAN, self.case_id, record, now=self.day)

    def plan(self) -> None:
        ranking = service.preview_plan(self.uow, PHYSICIAN, self.case_id, now=self.day)
        top = next(m.modality for m in ranking.modalities if m.used)
        reason = (
            None if top == self.spec.modality else f"{self.spec.modality}: the operator's routine guidance"
        )
        service.record_plan(
            self.uow, PHYSICIAN, self.case_id, modality=self.spec.modality, reason=reason, now=self.day
        )

    def schedule(self) -> None:
        service.schedule_procedure(
            self.uow, PHYSICIAN, self.case_id, at=self.at, accession_number=self.spec.accession, now=self.day
        )

    def anticoagulation(self) -> None:
        view = service.get_case(self.uow, PHYSICIAN, self.case_id, now=self.day)
        if view.file.patient.drugs:
            decisions = {d: "hold" for d in view.file.patient.drugs}
            ranking = service.preview_plan(self.uow, PHYSICIAN, self.case_id, now=self.day)
            shared = {p.drug for p in ranking.anticoagulation if p.action == "shared_decision"}
            chosen = {d: v for d, v in decisions.items() if d in shared}
            service.record_anticoagulation(self.uow, PHYSICIAN, self.case_id, decisions=chosen, now=self.day)  # type: ignore[arg-type]

    def justification(self) -> None:
        if self.spec.modality not in IONIZING:
            return
        signer = LOCUM if self.spec.refuse == "justification_not_qualified" else PHYSICIAN
        alternative = (
            "ultrasound" if self.spec.procedure.startswith(("lumbar-facet", "sij", "caudal")) else "none"
        )
        because = "target not reliably visible; contrast needed to exclude intravascular spread"
        service.record_justification(
            self.uow,
            signer,
            self.case_id,
            alternative=alternative,
            alternative_not_chosen_because=because,
            now=self.day,
        )

    def consent(self) -> None:
        record = Consent(
            given_by="patient",
            informed_by=PHYSICIAN.username,
            on=self.day.date(),
            modality=self.spec.modality,
            alternatives="other guidance; conservative care; no procedure",
            risks="bleeding, infection, nerve injury, temporary numbness",
            radiation_explained=self.spec.modality in IONIZING,
        )
        service.record_consent(self.uow, PHYSICIAN, self.case_id, record, now=self.day)

    def checklist(self) -> None:
        view = service.get_case(self.uow, PHYSICIAN, self.case_id, now=self.day)
        plan = view.file.plan
        assert plan is not None
        items = dict.fromkeys(Checklist.required_items(plan.modality, plan.contrast), True)
        if self.spec.until == "procedure" and self.rng.random() < 0.3:
            items["resuscitation_ready"] = False  # left open: the procedure gate lists it
        if view.file.patient.drugs:
            self._inr_if_needed(view.file)
        service.record_checklist(self.uow, PHYSICIAN, self.case_id, items, now=self.at - timedelta(hours=1))

    def _inr_if_needed(self, cf: CaseFile) -> None:
        record = cf.anticoagulation
        if record is not None and any(d.normal_inr_required for d in record.drugs):
            lab = LabResult(on=self.at.date(), test="inr", value=1.0)
            service.record_diagnostic(
                self.uow, PHYSICIAN, self.case_id, lab, now=self.at - timedelta(hours=2)
            )

    def procedure(self) -> None:
        record = ProcedureRecord(
            performed_at=self.at,
            operator=PHYSICIAN.username,
            modality=self.spec.modality,
            levels=self.spec.levels,
            side="right",
            needle="22 G spinal needle",
            contrast="iohexol 300" if self.spec.modality in IONIZING else None,
            drugs=(
                {"name": "dexamethasone", "dose": "4 mg", "volume_ml": 1.0},
                {"name": "ropivacaine 0.2 %", "volume_ml": 2.0},
            ),
        )
        service.record_procedure(
            self.uow,
            PHYSICIAN,
            self.case_id,
            record,
            study_instance_uid=self.spec.study_uid,
            now=self.at + timedelta(minutes=30),
        )

    def follow_ups(self) -> None:
        view = service.schedule_follow_ups(
            self.uow, PHYSICIAN, self.case_id, [0, 14, 90], now=self.at + timedelta(hours=1)
        )
        now = datetime.now(UTC)
        for follow_up in view.file.follow_ups:
            due = _at(follow_up.due_on, 11)
            if due > now or (self.spec.until != "closed" and follow_up.days_after >= 90):
                continue
            result = FollowUpResult(
                on=follow_up.due_on,
                nrs=self.rng.randrange(1, 6),
                pgic=self.rng.choice(("much_improved", "minimally_improved", "very_much_improved")),
            )
            service.record_follow_up(self.uow, PHYSICIAN, self.case_id, follow_up.id or 0, result, now=due)
