"""Demo competence data: the demo trainee's ultrasound knee injections with a learning curve, a few
simulator sessions and courses (idempotent, through the services).

Twenty-four knee injections under ultrasound, the first ten supervised by the demo physician, each driven
through the care pathway's services and assessed; two early ones missed the target, so the LC-CUSUM reaches
its limit at the 23rd procedure and competence can be declared on the learning-curve page. Follow-ups at 14
and 90 days carry NRS and PGIC so the outcome pages have something to show.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from painguide.auth import User
from painguide.pathway import service as pathway
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
    ProcedureRecord,
)
from painguide.store.pathway_repository import PathwayRepository
from painguide.store.training_repository import TrainingRepository
from painguide.store.uow import UnitOfWork
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


class _OneTransaction(UnitOfWork):
    """The caller's unit of work seen by the services: their commits only flush (one transaction)."""

    def __init__(self, outer: UnitOfWork) -> None:  # wraps an open unit of work
        self._outer = outer

    @property
    def session(self) -> Session:
        return self._outer.session

    @property
    def pathway(self) -> PathwayRepository:
        return self._outer.pathway

    @property
    def training(self) -> TrainingRepository:
        return self._outer.training

    def commit(self) -> None:
        self._outer.session.flush()

    def rollback(self) -> None:
        return None


def seed_demo_data(outer: UnitOfWork, today: date | None = None) -> None:
    """Add the trainee's demo cases, sessions and courses unless they exist (the caller commits)."""
    if outer.pathway.search_patients(DEMO_MARKER, limit=1).total:
        return
    uow = _OneTransaction(outer)
    today = today or date.today()
    rng = random.Random(11)
    first = today - timedelta(days=COUNT * 7 + 100)
    for index in range(COUNT):
        _case(
            uow, rng, index, datetime.combine(first + timedelta(days=7 * index), time(9), tzinfo=UTC), today
        )
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


def _case(uow: UnitOfWork, rng: random.Random, index: int, at: datetime, today: date) -> None:
    start = at.date() - timedelta(days=30)
    now = _at(start)
    patient = Patient(
        pseudonym=f"{DEMO_MARKER}-{index:02d}", birth_year=today.year - rng.randrange(45, 85),
        sex="male" if index % 2 else "female", pregnancy="not_applicable", pregnancy_asked_on=start,
        breastfeeding=False,
    )  # fmt: skip
    pid = pathway.register_patient(uow, PHYSICIAN, patient, now=now).id
    info = CaseInfo(
        complaint="knee pain", region="lower-limb", side="right", pain_duration_weeks=30.0,
        nrs=rng.randrange(6, 9), disability_scale="ODI", disability_score=float(rng.randrange(25, 50)),
        opened_on=start,
    )  # fmt: skip
    case_id = pathway.open_case(uow, PHYSICIAN, pid, info, now=now).id
    exam = ClinicalExam(on=start, examiner=PHYSICIAN.username, findings="effusion, pain on loading")
    pathway.record_diagnostic(uow, PHYSICIAN, case_id, exam, now=now)
    xray = Imaging(on=start - timedelta(days=10), modality="xray", finding="osteoarthritis")
    pathway.record_diagnostic(uow, PHYSICIAN, case_id, xray, now=now)
    therapy = ConservativeTherapy(
        type="physiotherapy", started_on=start - timedelta(weeks=20), duration_weeks=14, outcome="failed"
    )
    pathway.record_therapy(uow, PHYSICIAN, case_id, therapy, now=now)
    indication = Indication(
        procedure="knee-ia", side="right", rationale="symptomatic osteoarthritis",
        physician=PHYSICIAN.username, on=start,
    )  # fmt: skip
    pathway.record_indication(uow, PHYSICIAN, case_id, indication, now=now)
    pathway.record_plan(uow, PHYSICIAN, case_id, modality="ultrasound", now=now)
    pathway.schedule_procedure(uow, PHYSICIAN, case_id, at=at, now=now)
    consent = Consent(
        given_by="patient", informed_by=PHYSICIAN.username, on=start, modality="ultrasound",
        alternatives="landmark-guided injection; no injection", risks="infection, bleeding, flare",
    )  # fmt: skip
    pathway.record_consent(uow, PHYSICIAN, case_id, consent, now=now)
    items = dict.fromkeys(Checklist.required_items("ultrasound", "none"), True)
    pathway.record_checklist(uow, PHYSICIAN, case_id, items, now=at - timedelta(hours=1))
    record = ProcedureRecord(
        performed_at=at, operator=TRAINEE.username, modality="ultrasound", side="right",
        supervisor=PHYSICIAN.username if index < SUPERVISED else None, needle="22 G",
        drugs=({"name": "triamcinolone", "dose": "40 mg", "volume_ml": 1.0},),
    )  # fmt: skip
    pathway.record_procedure(uow, TRAINEE, case_id, record, now=at + timedelta(minutes=30))
    service.assess_procedure(
        uow, TRAINEE, case_id, target_reached=index not in MISSED, now=at + timedelta(hours=1)
    )
    view = pathway.schedule_follow_ups(uow, PHYSICIAN, case_id, [14, 90], now=at + timedelta(hours=1))
    baseline = info.nrs or 7
    for follow_up in view.file.follow_ups:
        if follow_up.due_on > today or follow_up.id is None:
            continue
        relief = rng.random()
        nrs = max(0, round(baseline * (1 - relief * (0.9 if follow_up.days_after == 14 else 0.6))))
        pgic = "much_improved" if relief > 0.5 else ("minimally_improved" if relief > 0.25 else "no_change")
        result = FollowUpResult(on=follow_up.due_on, nrs=nrs, pgic=pgic)
        pathway.record_follow_up(uow, PHYSICIAN, case_id, follow_up.id, result, now=_at(follow_up.due_on, 11))
