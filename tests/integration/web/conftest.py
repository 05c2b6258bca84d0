"""Care-pathway page and API tests: a small app without demo data, one signed-in client per role, and
the request bodies of a lumbar medial branch block under fluoroscopy, step by step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.integration.pages import PageClient

from painguide.auth import ROLES, User
from painguide.pathway import service
from painguide.pathway.models import Qualification
from painguide.services import open_uow
from painguide.settings import get_settings
from painguide.store.users import create_user

PASSWORD = "pathway-test-password"
TODAY = datetime.now(UTC).date()
AT = (datetime.now(UTC) + timedelta(days=14)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, TestClient]]:
    """The app (no demo data) with one signed-in client per role; the physician holds a qualification."""
    monkeypatch.setenv("PAINGUIDE_SECRET_KEY", "pathway-tests-" + "k" * 40)
    get_settings.cache_clear()
    from painguide.web.app import create_app

    app = create_app()
    with open_uow() as uow:
        for role in ROLES:
            create_user(uow.session, role, PASSWORD, [role], actor="test")
        uow.commit()
        rpo = User("rpo", "", frozenset({"rpo"}))
        qualification = Qualification(username="physician", certificate="FK-T1", valid_until=date(2099, 1, 1))
        service.record_qualification(uow, rpo, qualification)
    made: dict[str, TestClient] = {}
    for role in ROLES:
        client = PageClient(app)  # sends the CSRF token, as the pages do
        form = {"username": role, "password": PASSWORD, "next": "/"}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        made[role] = client
    yield made
    for client in made.values():
        client.close()


def patient_body(pseudonym: str = "T-0001", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "pseudonym": pseudonym,
        "name": "Erika Muster",
        "birth_year": 1968,
        "sex": "female",
        "pregnancy": "not_pregnant",
        "pregnancy_asked_on": TODAY.isoformat(),
        "breastfeeding": False,
        "egfr": 85,
        "egfr_on": TODAY.isoformat(),
    }
    body.update(changes)
    return body


def case_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "complaint": "axial low back pain",
        "region": "lumbar",
        "side": "right",
        "pain_duration_weeks": 30,
        "nrs": 7,
        "disability_scale": "ODI",
        "disability_score": 42,
        "opened_on": TODAY.isoformat(),
    }
    body.update(changes)
    return body


def steps() -> list[tuple[str, dict[str, Any]]]:
    """Every step of a fluoroscopy-guided lumbar medial branch block, in order, as API bodies."""
    day = TODAY.isoformat()
    return [
        ("diagnostics", {"kind": "exam", "on": day, "examiner": "physician", "findings": "facet loading +"}),
        ("diagnostics", {"kind": "imaging", "on": day, "modality": "mri", "finding": "facet arthropathy"}),
        ("conservative-therapies", {
            "type": "physiotherapy", "started_on": (TODAY - timedelta(weeks=20)).isoformat(),
            "duration_weeks": 16, "outcome": "failed",
        }),
        ("indication", {
            "procedure": "lumbar-facet-mbb", "levels": ["L4/5"], "side": "right", "rationale": "facet pain",
            "physician": "physician", "on": day,
        }),
        ("plan", {"modality": "fluoroscopy"}),
        ("schedule", {"at": AT.isoformat(), "location": "OR 2"}),
        ("justification", {"alternative": "ultrasound", "alternative_not_chosen_because": "BMI 36"}),
        ("consent", {
            "given_by": "Erika Muster", "informed_by": "physician", "on": day, "modality": "fluoroscopy",
            "alternatives": "ultrasound, no procedure", "risks": "bleeding, infection",
            "radiation_explained": True,
        }),
        ("checklist", {"items": {
            "identity": True, "side_level": True, "allergies": True, "anticoagulation_done": True,
            "consent": True, "resuscitation_ready": True, "staff_radiation_protection": True,
        }}),
        ("procedure", {
            "performed_at": AT.isoformat(), "operator": "physician", "modality": "fluoroscopy",
            "levels": ["L4-L5"], "side": "right", "drugs": [{"name": "bupivacaine 0.5 %", "volume_ml": 0.5}],
        }),
        ("follow-ups", {"days_after": [14, 42]}),
    ]  # fmt: skip


class Bodies:
    """The request bodies above, for tests (conftest modules are not imported by tests)."""

    patient = staticmethod(patient_body)
    case = staticmethod(case_body)
    steps = staticmethod(steps)
    today = TODAY
    at = AT


@pytest.fixture
def bodies() -> type[Bodies]:
    """Request bodies of a patient, a case and every step."""
    return Bodies
