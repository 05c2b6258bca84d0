"""Demo competence data: the demo trainee's ultrasound knee injections with a learning curve, a few
simulator sessions and courses (idempotent).

Twenty-four knee injections under ultrasound, the first ten supervised by the demo physician, each case
complete from work-up to follow-up and assessed; two early ones missed the target, so the LC-CUSUM reaches
its limit at the 23rd procedure and competence can be declared on the learning-curve page. Follow-ups at 14
and 90 days carry NRS and PGIC so the outcome pages have something to show. The cases are written straight
through the pathway repository in one transaction (every demo start and many tests seed the demo; the
pathway's own demo drives its cases through the gated services); sessions and courses go through the
training services.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel

from painguide.advisor import PatientFactors, recommend
from painguide.auth import User
from painguide.catalogue.loader import load_knowledge
from painguide.pathway.case import next_step, stage_of
from painguide.pathway.models import (
    CaseInfo,
    Checklist,
    ClinicalExam,
    Consent,
    ConservativeTherapy,
    FollowUpResult,
    Imaging,
    Indication,
    Patient,
    Plan,
    ProcedureRecord,
)
from painguide.pathway.planning import make_plan
from painguide.settings import get_settings
from painguide.store.uow import OneTransaction, UnitOfWork
from painguide.training import service
from painguide.training.education import Course
from painguide.training.records import TrainingSession

__all__ = ["DEMO_MARKER", "seed_demo_data"]

DEMO_MARKER = "DEMO-TR"
PHYSICIAN = User("physician", "Dr. Demo Physician", frozenset({"physician"}))
TRAINEE = User("trainee", "Demo Trainee", frozenset({"trainee"}))
MISSED = (1, 3)  # procedures (0-based) whose target was not reached
COUNT = 24
SUPERVISED = 10


def seed_demo_data(outer: UnitOfWork, today: date | None = None) -> None:
    """Add the trainee's demo cases, sessions and courses unless they exist (the caller commits)."""
    if outer.pathway.search_patients(DEMO_MARKER, limit=1).total:
        return
    uow = OneTransaction(outer)
    today = today or date.today()
    rng = random.Random(11)
    first = today - timedelta(days=COUNT * 7 + 100)
    ranking = recommend(load_knowledge(get_settings().site_policy), "knee-ia", PatientFactors())
    plan = make_plan(ranking, "ultrasound", reason=None, on=first)
    for index in range(COUNT):
        at = datetime.combine(first + timedelta(days=7 * index), time(9), tzinfo=UTC)
        _case(uow, rng, index, at, plan, today)
    for day, setting in ((first - timedelta(days=30), "simulator"), (first - timedelta(days=20), "cadaver")):
        item = TrainingSession(
            operator=TRAINEE.username, procedure_id="knee-ia", modality="ultrasound", setting=setting,
            performed_on=day, supervisor=PHYSICIAN.username, target_reached=True,
        )  # fmt: skip
        service.log_session(uow, TRAINEE, item, now=_at(day + timedelta(days=1)))
    for person, user, topic, hours in (
        (TRAINEE.username, TRAINEE, "ultrasound-guided injections", 8.0),
        (PHYSICIAN.username, PHYSICIAN, "radiation protection refresher", 8.0),
    ):
        course = Course(person, first - timedelta(days=60), "demo academy", topic, hours, None)
        service.record_course(uow, user, course, now=_at(first))


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _case(uow: UnitOfWork, rng: random.Random, index: int, at: datetime, plan: Plan, today: date) -> None:
    """One case from registration to follow-up, written through the repository (see the module text)."""
    repo = uow.pathway
    start = at.date() - timedelta(days=30)
    now = _at(start)
    patient = Patient(
        pseudonym=f"{DEMO_MARKER}-{index:02d}", birth_year=today.year - rng.randrange(45, 85),
        sex="male" if index % 2 else "female", pregnancy="not_applicable", pregnancy_asked_on=start,
        breastfeeding=False,
    )  # fmt: skip
    prow = repo.add_patient(patient, actor=PHYSICIAN.username)
    info = CaseInfo(
        complaint="knee pain", region="lower-limb", side="right", pain_duration_weeks=30.0,
        nrs=rng.randrange(6, 9), disability_scale="ODI", disability_score=float(rng.randrange(25, 50)),
        opened_on=start,
    )  # fmt: skip
    case = repo.add_case(prow.id, info, actor=PHYSICIAN.username, stage="workup", step="diagnostics")
    case.opened_at = now  # as open_case records it
    records: list[tuple[str, BaseModel]] = [
        ("diagnostic", ClinicalExam(on=start, examiner=PHYSICIAN.username, findings="effusion")),
        ("diagnostic", Imaging(on=start - timedelta(days=10), modality="xray", finding="osteoarthritis")),
        ("therapy", ConservativeTherapy(type="physiotherapy", started_on=start - timedelta(weeks=20),
                                        duration_weeks=14, outcome="failed")),
        ("indication", Indication(procedure="knee-ia", side="right", rationale="symptomatic osteoarthritis",
                                  physician=PHYSICIAN.username, on=start)),
        ("plan", plan.model_copy(update={"on": start})),
    ]  # fmt: skip
    for kind, record in records:
        repo.add_entry(case.id, kind, record.model_dump(mode="json"), actor=PHYSICIAN.username, at=now)
    proc = repo.schedule(case.id, pseudonym=prow.pseudonym, plan=plan, region="lower-limb", at=at,
                         location=None, accession=None)  # fmt: skip
    consent = Consent(
        given_by="patient", informed_by=PHYSICIAN.username, on=start, modality="ultrasound",
        alternatives="landmark-guided injection; no injection", risks="infection, bleeding, flare",
    )  # fmt: skip
    checklist = Checklist(
        items=dict.fromkeys(Checklist.required_items("ultrasound", "none"), True), by=PHYSICIAN.username,
        on=at.date(),
    )  # fmt: skip
    record = ProcedureRecord(
        performed_at=at, operator=TRAINEE.username, modality="ultrasound", side="right",
        supervisor=PHYSICIAN.username if index < SUPERVISED else None, needle="22 G",
        drugs=({"name": "triamcinolone", "dose": "40 mg", "volume_ml": 1.0},),
    )  # fmt: skip
    for kind, item, when in (("consent", consent, now), ("checklist", checklist, at - timedelta(hours=1)),
                             ("procedure", record, at + timedelta(minutes=30))):  # fmt: skip
        repo.add_entry(case.id, kind, item.model_dump(mode="json"), actor=PHYSICIAN.username, at=when)
    proc.status, proc.performed_at = "performed", at
    uow.training.set_assessment(
        case.id,
        target_reached=index not in MISSED,
        note=None,
        actor=TRAINEE.username,
        at=at + timedelta(hours=1),
    )
    due = [(at.date() + timedelta(days=d), d) for d in (14, 90)]
    baseline = info.nrs or 7
    for row in repo.add_follow_ups(case.id, due):
        if row.due_on > today:
            continue
        relief = rng.random()
        nrs = max(0, round(baseline * (1 - relief * (0.9 if row.days_after == 14 else 0.6))))
        pgic = "much_improved" if relief > 0.5 else ("minimally_improved" if relief > 0.25 else "no_change")
        result = FollowUpResult(on=row.due_on, nrs=nrs, pgic=pgic)
        row.result, row.recorded_at, row.recorded_by = (
            result.model_dump(mode="json"),
            _at(row.due_on, 11),
            "physician",
        )
    cf = repo.case_file(case, prow)
    step = next_step(cf)
    repo.set_stage(case, stage=stage_of(step), step=step, procedure="knee-ia")
