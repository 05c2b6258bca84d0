"""Scheduled procedures made straight through the repository (the gates are tested elsewhere)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest

from painguide.pathway.models import CaseInfo, Patient, Plan
from painguide.store.db import session_factory, upgrade
from painguide.store.pathway_tables import ProcedureRow
from painguide.store.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
Schedule = Callable[..., ProcedureRow]


@pytest.fixture
def pathway_db(db_url: str) -> str:
    upgrade(db_url)
    return db_url


@pytest.fixture
def pathway_uow(pathway_db: str) -> UowFactory:
    factory = session_factory(pathway_db)
    return lambda: UnitOfWork(factory)


def make_procedure(
    uow: UnitOfWork,
    pseudonym: str,
    *,
    at: datetime,
    modality: str = "fluoroscopy",
    procedure: str = "lumbar-tfesi",
    name: str | None = None,
    location: str | None = None,
    accession: str | None = None,
    patient: dict[str, Any] | None = None,
) -> ProcedureRow:
    """A patient (made once per pseudonym), a case and its scheduled procedure (flushed, not committed)."""
    repo = uow.pathway
    row = repo.patient_by_pseudonym(pseudonym)
    if row is None:
        fields: dict[str, Any] = {"pseudonym": pseudonym, "name": name, "birth_year": 1970, "sex": "female"}
        row = repo.add_patient(Patient.model_validate({**fields, **(patient or {})}), actor="test")
    info = CaseInfo(
        complaint="low back pain", region="lumbar", side="right", pain_duration_weeks=20, nrs=7,
        disability_scale="ODI", disability_score=30, opened_on=date(2026, 1, 5),
    )  # fmt: skip
    case = repo.add_case(row.id, info, actor="test", stage="planning", step="schedule")
    plan = Plan(
        procedure=procedure, ranking={}, top_modality=modality, modality=modality, on=date(2026, 1, 5)
    )  # type: ignore[arg-type]
    return repo.schedule(
        case.id,
        pseudonym=pseudonym,
        plan=plan,
        region="lumbar",
        at=at,
        location=location,
        accession=accession,
    )


@pytest.fixture
def schedule(pathway_uow: UowFactory) -> Schedule:
    """Schedule one procedure and commit; returns the stored row (detached, readable)."""

    def make(pseudonym: str, **fields: Any) -> ProcedureRow:
        with pathway_uow() as uow:
            row = make_procedure(uow, pseudonym, **fields)
            uow.commit()
            return row

    return make
