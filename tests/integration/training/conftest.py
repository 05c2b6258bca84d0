"""Fixtures for the competence and outcome services: a migrated SQLite database with staff accounts, and
performed procedures written straight into the care pathway's tables (the pathway's own tests cover its
gates; these tests are about what the logbook and the outcome figures make of the records)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from painguide.auth import User
from painguide.pathway.models import CaseInfo, FollowUpResult, Patient, ProcedureRecord
from painguide.store.db import session_factory, upgrade
from painguide.store.pathway_tables import ProcedureRow
from painguide.store.uow import UnitOfWork
from painguide.store.users import create_user

DOC = User("dr.a", "Dr A", frozenset({"physician"}))
TRAINEE = User("tina", "Tina Trainee", frozenset({"trainee"}))
OTHER_TRAINEE = User("tom", "Tom Trainee", frozenset({"trainee"}))
RPO = User("rpo", "RPO", frozenset({"rpo"}))
ADMIN = User("admin", "Admin", frozenset({"admin"}))
VIEWER = User("vic", "Viewer", frozenset({"viewer"}))
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def uow(isolated_settings: Path) -> Iterator[UnitOfWork]:
    url = f"sqlite:///{isolated_settings / 'training.sqlite3'}"
    upgrade(url)
    with UnitOfWork(session_factory(url)) as unit:
        for user in (DOC, TRAINEE, OTHER_TRAINEE, RPO, ADMIN, VIEWER):
            create_user(unit.session, user.username, "password-123", sorted(user.roles))
        unit.commit()
        yield unit


@dataclass
class Performed:
    """What a helper call wrote: the case, its procedure row and its follow-up ids by days after."""

    case_id: int
    follow_ups: dict[int, int]


def perform(
    uow: UnitOfWork,
    *,
    operator: str = "tina",
    procedure: str = "knee-ia",
    modality: str = "ultrasound",
    at: datetime = START,
    supervisor: str | None = None,
    complications: str | None = None,
    baseline_nrs: int | None = 8,
    follow_up_days: tuple[int, ...] = (),
    pseudonym: str | None = None,
) -> Performed:
    """A performed procedure as the pathway stores it (patient, case, procedure row, record, follow-ups)."""
    repo = uow.pathway
    count = len(repo.search_patients("", limit=1000).rows)
    patient = Patient(
        pseudonym=pseudonym or f"T-{count:04d}", name=f"Test Person {count}", birth_year=1960, sex="male"
    )
    prow = repo.add_patient(patient, actor="dr.a")
    info = CaseInfo(
        complaint="knee pain", region="lower-limb", side="right", pain_duration_weeks=20,
        nrs=baseline_nrs, opened_on=at.date() - timedelta(days=30),
    )  # fmt: skip
    case = repo.add_case(prow.id, info, actor="dr.a", stage="follow_up", step="follow_ups")
    row = ProcedureRow(
        case_id=case.id, accession_number=f"PGT{case.id:08d}", patient_pseudonym=prow.pseudonym,
        procedure=procedure, region="lower-limb", modality=modality, scheduled_at=at, status="performed",
        performed_at=at, dose_report_ids=[], sono_analysis_ids=[],
    )  # fmt: skip
    uow.session.add(row)
    record = ProcedureRecord(
        performed_at=at, operator=operator, supervisor=supervisor, modality=modality, side="right",
        complications=complications,
    )  # fmt: skip
    repo.add_entry(case.id, "procedure", record.model_dump(mode="json"), actor="dr.a", at=at)
    rows = repo.add_follow_ups(case.id, [(at.date() + timedelta(days=d), d) for d in follow_up_days])
    uow.commit()
    return Performed(case.id, {r.days_after: r.id for r in rows})


def answer(uow: UnitOfWork, follow_up_id: int, *, nrs: int | None = None, pgic: str | None = None) -> None:
    """Write a follow-up result straight into the table (the service path is tested separately)."""
    row = uow.training.follow_up_row(follow_up_id)
    result = FollowUpResult(on=date(2026, 1, 1), nrs=nrs, pgic=pgic)  # type: ignore[arg-type]
    row.result = result.model_dump(mode="json")
    uow.commit()
