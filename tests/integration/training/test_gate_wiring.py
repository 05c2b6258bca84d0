"""The pathway's gates read the training module: ``operator_not_competent`` from the declared competence
(only where the site policy requires it) and ``justification_not_qualified`` from the radiation-protection
qualification via ``can_sign_justification``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from painguide.errors import GateError
from painguide.pathway import service as pathway
from painguide.pathway.models import (
    CaseInfo,
    Checklist,
    ClinicalExam,
    Consent,
    ConservativeTherapy,
    Imaging,
    Indication,
    Patient,
    ProcedureRecord,
)
from painguide.settings import get_settings
from painguide.store.uow import UnitOfWork
from painguide.training import service as training

from .conftest import DOC

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
AT = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
POLICY = """name: test site
pathway: {competence_required: true, author: Dr A, date: 2026-01-05, reason: "trainees need supervision"}
"""


def ready_case(
    uow: UnitOfWork, modality: str = "ultrasound", pseudonym: str = "G-1", procedure: str = "knee-ia"
) -> int:
    """A joint injection case up to the checklist (X-ray: up to the schedule), through the services."""
    patient = Patient(
        pseudonym=pseudonym, birth_year=1960, sex="male", pregnancy="not_applicable",
        pregnancy_asked_on=date(2026, 3, 1), breastfeeding=False,
    )  # fmt: skip
    p = pathway.register_patient(uow, DOC, patient, now=NOW)
    info = CaseInfo(
        complaint="knee pain", region="lower-limb", side="right", pain_duration_weeks=30, nrs=7,
        disability_scale="ODI", disability_score=30, opened_on=date(2026, 1, 5),
    )  # fmt: skip
    case_id = pathway.open_case(uow, DOC, p.id, info, now=NOW).id
    pathway.record_diagnostic(
        uow, DOC, case_id, ClinicalExam(on=date(2026, 1, 5), examiner="dr.a", findings="effusion"), now=NOW
    )
    pathway.record_diagnostic(
        uow, DOC, case_id, Imaging(on=date(2026, 1, 1), modality="xray", finding="OA"), now=NOW
    )
    therapy = ConservativeTherapy(
        type="physiotherapy", started_on=date(2025, 9, 1), duration_weeks=14, outcome="failed"
    )
    pathway.record_therapy(uow, DOC, case_id, therapy, now=NOW)
    indication = Indication(
        procedure=procedure, side="right", rationale="OA", physician="dr.a", on=NOW.date()
    )
    pathway.record_indication(uow, DOC, case_id, indication, now=NOW)
    ranking = pathway.preview_plan(uow, DOC, case_id, now=NOW)
    top = next(m.modality for m in ranking.modalities if m.used)
    reason = None if top == modality else "routine guidance"
    pathway.record_plan(uow, DOC, case_id, modality=modality, reason=reason, now=NOW)
    pathway.schedule_procedure(uow, DOC, case_id, at=AT, now=NOW)
    if modality in ("fluoroscopy", "ct"):
        return case_id
    consent = Consent(
        given_by="patient", informed_by="dr.a", on=NOW.date(), modality=modality, alternatives="landmark",
        risks="infection",
    )  # fmt: skip
    pathway.record_consent(uow, DOC, case_id, consent, now=NOW)
    view = pathway.get_case(uow, DOC, case_id, now=NOW)
    assert view.file.plan is not None
    items = dict.fromkeys(Checklist.required_items(view.file.plan.modality, view.file.plan.contrast), True)
    pathway.record_checklist(uow, DOC, case_id, items, now=NOW)
    return case_id


def record(operator: str = "tina", supervisor: str | None = None) -> ProcedureRecord:
    return ProcedureRecord(
        performed_at=AT, operator=operator, supervisor=supervisor, modality="ultrasound", side="right"
    )


def test_without_the_site_switch_the_gate_does_not_apply(uow: UnitOfWork) -> None:
    case_id = ready_case(uow)
    view = pathway.record_procedure(uow, DOC, case_id, record(), now=AT + timedelta(minutes=30))
    assert view.file.procedure is not None and view.file.procedure.operator == "tina"


def test_required_competence_is_read_from_the_declarations(
    uow: UnitOfWork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "site.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("PAINGUIDE_SITE_POLICY", str(policy))
    get_settings.cache_clear()
    case_id = ready_case(uow)
    with pytest.raises(GateError) as refused:
        pathway.record_procedure(uow, DOC, case_id, record(), now=AT)
    assert [u["code"] for u in refused.value.unmet] == ["operator_not_competent"]
    assert "tina has declared no competence for knee-ia under ultrasound" in refused.value.unmet[0]["message"]
    # Declared competence for another modality does not help; for this one it does.
    training.declare_competence(
        uow, DOC, "tina", "knee-ia", "landmark", basis="attestation", note="many landmark injections", now=NOW
    )
    with pytest.raises(GateError):
        pathway.record_procedure(uow, DOC, case_id, record(), now=AT)
    training.declare_competence(
        uow,
        DOC,
        "tina",
        "knee-ia",
        "ultrasound",
        basis="attestation",
        note="certified in her last post",
        now=NOW,
    )
    view = pathway.record_procedure(uow, DOC, case_id, record(), now=AT + timedelta(minutes=30))
    assert view.file.procedure is not None


def test_a_named_supervisor_lifts_the_requirement(
    uow: UnitOfWork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "site.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("PAINGUIDE_SITE_POLICY", str(policy))
    get_settings.cache_clear()
    case_id = ready_case(uow)
    view = pathway.record_procedure(uow, DOC, case_id, record(supervisor="dr.a"), now=AT)
    assert view.file.procedure is not None and view.file.procedure.supervisor == "dr.a"


def test_an_unqualified_signer_is_refused_with_the_training_modules_reasons(uow: UnitOfWork) -> None:
    case_id = ready_case(uow, modality="fluoroscopy", pseudonym="G-2", procedure="hip-ia")
    with pytest.raises(GateError) as refused:
        pathway.record_justification(
            uow, DOC, case_id, alternative="ultrasound", alternative_not_chosen_because="obese", now=NOW
        )
    (unmet,) = refused.value.unmet
    assert unmet["code"] == "justification_not_qualified"
    assert "radiation-protection qualification: none recorded for this physician" in unmet["message"]
