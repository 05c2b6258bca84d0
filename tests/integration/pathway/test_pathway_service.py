"""The care-pathway services on a real database (SQLite, PostgreSQL): a case from registration to follow-up,
refusals recorded without half-writes, overrides, search and listing, audit of reads and writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from painguide.auth import User
from painguide.errors import GateError, PermissionDeniedError, ValidationError
from painguide.pathway import service
from painguide.pathway.models import (
    CaseInfo,
    ClinicalExam,
    Consent,
    ConservativeTherapy,
    FollowUpResult,
    Imaging,
    Indication,
    Patient,
    ProcedureRecord,
    Qualification,
)
from painguide.store.db import session_factory, upgrade
from painguide.store.pathway_tables import EntryRow
from painguide.store.tables import AuditEntry
from painguide.store.uow import UnitOfWork
from painguide.store.users import create_user

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
AT = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
DOC = User("dr.a", "Dr A", frozenset({"physician"}))
RPO = User("rpo", "RPO", frozenset({"rpo"}))
VIEWER = User("vic", "", frozenset({"viewer"}))


@pytest.fixture
def uow(db_url: str) -> Iterator[UnitOfWork]:
    upgrade(db_url)
    with UnitOfWork(session_factory(db_url)) as unit:
        create_user(unit.session, "dr.a", "password-123", ["physician"])
        unit.commit()
        yield unit


def patient(pseudonym: str = "P-0001", **changes: object) -> Patient:
    data: dict[str, object] = {
        "pseudonym": pseudonym,
        "name": "Anna Müller",
        "birth_year": 1970,
        "sex": "female",
        "pregnancy": "not_pregnant",
        "pregnancy_asked_on": date(2026, 3, 1),
        "breastfeeding": False,
        "egfr": 80,
        "egfr_on": date(2026, 2, 1),
    }
    data.update(changes)
    return Patient.model_validate(data)


def open_ready_for_indication(uow: UnitOfWork, pseudonym: str = "P-0001") -> int:
    p = service.register_patient(uow, DOC, patient(pseudonym), now=NOW)
    info = CaseInfo(
        complaint="axial low back pain", region="lumbar", side="right", pain_duration_weeks=20, nrs=8,
        disability_scale="ODI", disability_score=40, opened_on=date(2026, 1, 5),
    )  # fmt: skip
    case = service.open_case(uow, DOC, p.id, info, now=NOW)
    assert (case.stage, case.next_step) == ("workup", "diagnostics")
    exam = ClinicalExam(on=date(2026, 1, 5), examiner="dr.a", findings="facet loading positive")
    service.record_diagnostic(uow, DOC, case.id, exam, now=NOW)
    mri = Imaging(on=date(2025, 12, 1), modality="mri", finding="facet arthropathy L4-L5")
    service.record_diagnostic(uow, DOC, case.id, mri, now=NOW)
    therapy = ConservativeTherapy(
        type="physiotherapy", started_on=date(2025, 10, 1), duration_weeks=14, outcome="failed"
    )
    view = service.record_therapy(uow, DOC, case.id, therapy, now=NOW)
    assert view.next_step == "indication"
    return case.id


def indication(procedure: str = "lumbar-facet-mbb") -> Indication:
    return Indication(
        procedure=procedure,
        levels=("L4-L5",),
        side="right",
        rationale="facet pain",
        physician="dr.a",
        on=NOW.date(),
    )


def test_a_case_from_registration_to_follow_up(uow: UnitOfWork) -> None:
    case_id = open_ready_for_indication(uow)
    view = service.record_indication(uow, DOC, case_id, indication(), now=NOW)
    assert (view.stage, view.next_step) == ("planning", "plan")
    ranking = service.preview_plan(uow, DOC, case_id, now=NOW)
    top = ranking.modalities[0].modality
    assert top == "fluoroscopy"
    view = service.record_plan(uow, DOC, case_id, modality="fluoroscopy", now=NOW)
    assert view.file.plan is not None and view.file.plan.ranking == ranking.to_dict()
    view = service.schedule_procedure(uow, DOC, case_id, at=AT, now=NOW)
    assert view.procedure is not None and view.procedure.accession_number == f"PG{view.procedure.id:08d}"
    assert view.next_step == "justification"
    # Not qualified: refused, recorded as a refusal, nothing else written.
    with pytest.raises(GateError) as refused:
        service.record_justification(
            uow, DOC, case_id, alternative="ultrasound", alternative_not_chosen_because="BMI", now=NOW
        )
    assert [u["code"] for u in refused.value.unmet] == ["justification_not_qualified"]
    service.record_qualification(
        uow, RPO, Qualification(username="dr.a", certificate="FK-1", valid_until=date(2030, 1, 1))
    )
    view = service.record_justification(
        uow, DOC, case_id, alternative="ultrasound", alternative_not_chosen_because="BMI 34", now=NOW
    )
    assert view.file.justification is not None and view.file.justification.qualification is not None
    consent = Consent(
        given_by="patient",
        informed_by="dr.a",
        on=NOW.date(),
        modality="fluoroscopy",
        alternatives="ultrasound; none",
        risks="bleeding, infection",
        radiation_explained=True,
    )
    view = service.record_consent(uow, DOC, case_id, consent, now=NOW)
    assert view.next_step == "checklist"
    view = service.record_checklist(uow, DOC, case_id, {"identity": True}, now=NOW)
    assert view.next_step == "checklist" and view.assessment.unmet == ()
    record = ProcedureRecord(
        performed_at=AT, operator="dr.a", modality="fluoroscopy", levels=("L4-L5",), side="right"
    )
    with pytest.raises(GateError, match="checklist_incomplete"):
        service.record_procedure(uow, DOC, case_id, record, now=AT)
    items = dict.fromkeys(
        (
            "identity",
            "side_level",
            "allergies",
            "anticoagulation_done",
            "consent",
            "resuscitation_ready",
            "staff_radiation_protection",
        ),
        True,
    )
    service.record_checklist(uow, DOC, case_id, items, now=AT)
    view = service.record_procedure(uow, DOC, case_id, record, study_instance_uid="1.2.3", now=AT)
    assert view.procedure is not None and (view.procedure.status, view.procedure.study_instance_uid) == (
        "performed",
        "1.2.3",
    )
    view = service.schedule_follow_ups(uow, DOC, case_id, [0, 14], now=AT)
    assert [f.due_on for f in view.file.follow_ups] == [date(2026, 3, 16), date(2026, 3, 30)]
    for f in view.file.follow_ups:
        view = service.record_follow_up(
            uow, DOC, case_id, f.id or 0, FollowUpResult(on=f.due_on, nrs=1), now=AT
        )
    assert (view.stage, view.next_step) == ("closed", None)
    kinds = [t.kind for t in service.get_case(uow, DOC, case_id, now=AT).timeline]
    assert kinds.count("refusal") == 2 and kinds[-1] == "follow_up"
    assert service.get_case(uow, DOC, case_id).to_dict()["procedure"]["status"] == "performed"


def test_refusal_writes_only_the_refusal_and_its_audit(uow: UnitOfWork) -> None:
    p = service.register_patient(uow, DOC, patient(), now=NOW)
    info = CaseInfo(complaint="c", region="lumbar", side="right", pain_duration_weeks=1, opened_on=NOW.date())
    case = service.open_case(uow, DOC, p.id, info, now=NOW)
    before = uow.session.scalar(select(func.count(EntryRow.id)))
    with pytest.raises(GateError) as refused:
        service.record_indication(uow, DOC, case.id, indication("lumbar-facet-rfa"), now=NOW)
    codes = {u["code"] for u in refused.value.unmet}
    assert {"diagnostics_missing", "conservative_therapy_missing", "diagnostic_blocks_insufficient"} <= codes
    entries = list(uow.session.scalars(select(EntryRow).where(EntryRow.case_id == case.id)))
    assert uow.session.scalar(select(func.count(EntryRow.id))) == (before or 0) + 1
    assert entries[-1].kind == "refusal" and entries[-1].data["step"] == "indication"
    view = service.get_case(uow, DOC, case.id)
    assert view.file.indication is None and view.next_step == "diagnostics"
    audit = [a.action for a in uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "case.refused" in audit and audit[-1] == "case.read"


def test_override_with_a_reason_lifts_the_gate(uow: UnitOfWork) -> None:
    p = service.register_patient(uow, DOC, patient(fused_levels=("L4-L5",)), now=NOW)
    case_id = open_ready_for_indication(uow, "P-0002")
    # the fused patient (P-0001) gets a case with the same work-up as P-0002's
    info = CaseInfo(
        complaint="c", region="lumbar", side="right", pain_duration_weeks=20, nrs=7, opened_on=NOW.date()
    )
    fused_case = service.open_case(uow, DOC, p.id, info, now=NOW).id
    for record in service.get_case(uow, DOC, case_id).file.diagnostics:
        service.record_diagnostic(uow, DOC, fused_case, record, now=NOW)
    for therapy in service.get_case(uow, DOC, case_id).file.therapies:
        service.record_therapy(uow, DOC, fused_case, therapy, now=NOW)
    with pytest.raises(GateError, match="contraindication"):
        service.record_indication(uow, DOC, fused_case, indication(), now=NOW)
    with pytest.raises(ValidationError, match="reason"):
        service.override_gate(uow, DOC, fused_case, code="contraindication", reason="short", now=NOW)
    with pytest.raises(ValidationError, match="consent_revoked cannot be overridden"):
        service.override_gate(
            uow, DOC, fused_case, code="consent_revoked", reason="a long enough reason", now=NOW
        )
    with pytest.raises(PermissionDeniedError):
        service.override_gate(
            uow, RPO, fused_case, code="contraindication", reason="a long enough reason", now=NOW
        )
    view = service.override_gate(
        uow,
        DOC,
        fused_case,
        code="contraindication",
        reason="fusion at L3-L4 only per CT, record corrected",
        now=NOW,
    )
    (ov,) = view.file.overrides
    assert ov.by == "dr.a" and ov.unmet and ov.unmet[0]["code"] == "contraindication"
    view = service.record_indication(uow, DOC, fused_case, indication(), now=NOW)
    assert view.next_step == "plan" and view.to_dict()["overrides"][0]["code"] == "contraindication"
    audit = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.write")).all()
    assert any(a.detail and a.detail.get("overridden") == ["contraindication"] for a in audit)


def test_search_list_and_permissions(uow: UnitOfWork) -> None:
    for i, name in enumerate(["Anna Müller", "Bernd Meier", "Zoë Mueller-Lang"]):
        service.register_patient(uow, DOC, patient(f"PX-{i:03d}", name=name), now=NOW)
    assert [p.name for p in service.search_patients(uow, DOC, "mul").items] == ["Anna Müller"]
    assert {p.pseudonym for p in service.search_patients(uow, DOC, "mue").items} == {"PX-002"}
    assert service.search_patients(uow, DOC, "px-00").total == 3
    page = service.search_patients(uow, DOC, "", limit=2, offset=2)
    assert (len(page.items), page.total) == (1, 3)
    assert service.search_patients(uow, DOC, "zoe lang").items[0].pseudonym == "PX-002"
    service.register_patient(uow, DOC, patient("PX-003", name="Annika Annen"), now=NOW)  # two keys "ann…"
    found = service.search_patients(uow, DOC, "ann")
    assert ([p.pseudonym for p in found.items], found.total) == (["PX-000", "PX-003"], 2)  # each once
    with pytest.raises(ValidationError, match="pseudonym: 'PX-000' is in use"):
        service.register_patient(uow, DOC, patient("PX-000"), now=NOW)
    with pytest.raises(ValidationError, match="drugs: unknown drug"):
        service.register_patient(uow, DOC, patient("PX-009", drugs=("unobtainium",)), now=NOW)
    with pytest.raises(PermissionDeniedError, match=r"patient\.read needs one of the roles"):
        service.search_patients(uow, VIEWER, "mul")
    with pytest.raises(ValidationError, match="stage: one of"):
        service.list_cases(uow, DOC, stage="done")
    open_ready_for_indication(uow, "PX-100")
    assert service.list_cases(uow, DOC, stage="workup").total == 1
    assert service.list_cases(uow, DOC, stage="ready").total == 0
    reads = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "patient.read")).all()
    assert reads and all(a.object_type == "patient" for a in reads)


def test_search_counts_up_to_the_cap_in_order_of_registration(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("painguide.store.pathway_repository.COUNT_CAP", 3)
    names = ["Eva Kunz", "Ida Kunzi", "Eva Kunz-Keller", "Ivo Kunz", "Eva Roth"]
    for i, name in enumerate(names):
        service.register_patient(uow, DOC, patient(f"Z-{9 - i:03d}", name=name), now=NOW)
    page = service.search_patients(uow, DOC, "kunz", limit=2)
    assert (page.total, page.total_exact) == (3, False)  # four match: counting stopped at the cap
    assert [p.name for p in page.items] == ["Eva Kunz", "Ida Kunzi"]  # registration, not pseudonym order
    beyond = service.search_patients(uow, DOC, "kunz", limit=2, offset=3)  # past the counted ids
    assert [p.name for p in beyond.items] == ["Ivo Kunz"] and not beyond.total_exact
    both = service.search_patients(uow, DOC, "eva kunz")  # two indexed words, intersected
    assert ([p.name for p in both.items], both.total, both.total_exact) == (
        ["Eva Kunz", "Eva Kunz-Keller"], 2, True,
    )  # fmt: skip
    short = service.search_patients(uow, DOC, "k eva")  # a one-letter word is checked per candidate
    assert [p.name for p in short.items] == ["Eva Kunz", "Eva Kunz-Keller"]


def test_revoked_consent_blocks_until_consent_is_given_again(uow: UnitOfWork) -> None:
    p = service.register_patient(uow, DOC, patient(), now=NOW)
    info = CaseInfo(
        complaint="knee pain", region="lower-limb", side="left", pain_duration_weeks=10, opened_on=NOW.date()
    )
    case_id = service.open_case(uow, DOC, p.id, info, now=NOW).id
    service.record_diagnostic(
        uow, DOC, case_id, ClinicalExam(on=NOW.date(), examiner="dr.a", findings="effusion"), now=NOW
    )
    service.record_diagnostic(
        uow, DOC, case_id, Imaging(on=NOW.date(), modality="xray", finding="OA grade 3"), now=NOW
    )
    knee = Indication(procedure="knee-ia", side="left", rationale="OA", physician="dr.a", on=NOW.date())
    service.record_indication(uow, DOC, case_id, knee, now=NOW)
    service.record_plan(uow, DOC, case_id, modality="ultrasound", now=NOW)
    view = service.schedule_procedure(uow, DOC, case_id, at=AT, accession_number="RIS-77", now=NOW)
    assert (
        view.next_step == "consent"
        and view.procedure is not None
        and view.procedure.accession_number == "RIS-77"
    )
    with pytest.raises(ValidationError, match="no X-rays"):
        service.record_justification(
            uow, DOC, case_id, alternative="x", alternative_not_chosen_because="y", now=NOW
        )
    consent = Consent(
        given_by="patient",
        informed_by="dr.a",
        on=NOW.date(),
        modality="ultrasound",
        alternatives="landmark",
        risks="infection",
    )
    service.record_consent(uow, DOC, case_id, consent, now=NOW)
    view = service.revoke_consent(uow, DOC, case_id, reason="patient declined", now=NOW)
    assert view.next_step == "consent"
    with pytest.raises(GateError, match="consent_revoked"):
        service.record_checklist(uow, DOC, case_id, {"identity": True}, now=NOW)
    with pytest.raises(ValidationError, match="no consent in force"):
        service.revoke_consent(uow, DOC, case_id, now=NOW)
    view = service.record_consent(uow, DOC, case_id, consent, now=NOW)
    assert view.next_step == "checklist"
