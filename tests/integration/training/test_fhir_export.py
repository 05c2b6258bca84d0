"""FHIR R4 export: every resource validated by fhir.resources, the Bundle and the NDJSON files parsed back,
the codes that matter (LOINC 72514-3 for the NRS), stable ids, one Patient per patient in bulk files, the
command line, and who may export."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from painguide.cli import main
from painguide.errors import PermissionDeniedError
from painguide.interop import service
from painguide.interop.fhir import LOINC_NRS, parse_resource
from painguide.outcomes import service as outcomes
from painguide.pathway.models import Consent, FollowUpResult
from painguide.store.dose_tables import DoseReportRow
from painguide.store.uow import UnitOfWork
from painguide.training.records import DisabilityScore

from .conftest import DOC, START, TRAINEE, perform

NOW = START + timedelta(days=20)


def exported_case(uow: UnitOfWork) -> int:
    done = perform(
        uow, procedure="hip-ia", modality="fluoroscopy", supervisor="dr.a", follow_up_days=(14,),
        complications="vasovagal reaction",
    )  # fmt: skip
    consent = Consent(
        given_by="patient", informed_by="dr.a", on=START.date(), modality="fluoroscopy",
        alternatives="ultrasound", risks="infection", radiation_explained=True,
    )  # fmt: skip
    uow.pathway.add_entry(done.case_id, "consent", consent.model_dump(mode="json"), actor="dr.a", at=START)
    uow.session.add(
        DoseReportRow(
            sop_instance_uid="1.2.3.4.5",
            sop_class_uid="1.2.840.10008.5.1.4.1.1.88.67",
            kind="fluoro",
            study_instance_uid="1.2.3.4",
            accession_number=f"PGT{done.case_id:08d}",
            dap_total_gy_cm2=0.59,
            fluoro_time_s=6.0,
            study_datetime=datetime(2026, 1, 5, 9, 10),
            event_count=1,
            warnings=[],
            source="test",
        )
    )
    uow.commit()
    result = FollowUpResult(on=NOW.date(), nrs=3, pgic="much_improved")
    score = DisabilityScore(scale="ODI", score=24)
    outcomes.record_answers(uow, DOC, done.follow_ups[14], result, disability=score, now=NOW)
    return done.case_id


def test_a_case_bundle_validates_parses_back_and_carries_the_codes(uow: UnitOfWork) -> None:
    case_id = exported_case(uow)
    bundle = service.export_case(uow, DOC, case_id, now=NOW)
    text = bundle.model_dump_json(exclude_none=True)
    parsed = Bundle.model_validate_json(text)
    resources = [
        parse_resource(json.dumps(e.resource.model_dump(mode="json", exclude_none=True)))
        for e in parsed.entry or []
    ]
    kinds = sorted({r.get_resource_type() for r in resources})
    assert kinds == [
        "Condition",
        "Consent",
        "DiagnosticReport",
        "ImagingStudy",
        "Observation",
        "Patient",
        "Procedure",
    ]
    by_id = {str(r.id): r for r in resources}
    procedure = by_id[f"pg-procedure-{case_id}"]
    assert procedure.status == "completed"
    assert [p.actor.display for p in procedure.performer] == ["tina", "dr.a"]
    assert procedure.complication[0].text == "vasovagal reaction"
    assert procedure.code.coding[0].code == "hip-ia"
    assert any(c.coding and c.coding[0].code == "fluoroscopy" for c in procedure.usedCode)
    nrs = [
        r
        for r in resources
        if r.get_resource_type() == "Observation" and r.code.coding and r.code.coding[0].code == LOINC_NRS
    ]
    assert sorted(o.valueInteger for o in nrs) == [3, 8]  # follow-up and baseline
    odi = next(r for r in resources if str(r.id).endswith("-odi"))
    assert odi.valueQuantity.value == 24
    study = next(r for r in resources if r.get_resource_type() == "ImagingStudy")
    assert study.identifier[0].value == "urn:oid:1.2.3.4" and "DAP 0.59" in study.description
    report = by_id[f"pg-report-{case_id}"]
    assert len(report.result) == 4 and report.imagingStudy[0].reference == str(f"ImagingStudy/{study.id}")
    consent = by_id[f"pg-consent-{case_id}"]
    assert consent.status == "active" and consent.category[0].coding[0].code == "59284-0"
    # The same case exported again has the same ids.
    again = service.export_case(uow, DOC, case_id, now=NOW + timedelta(days=1))
    assert [e.resource.id for e in again.entry or []] == [e.resource.id for e in parsed.entry or []]


def test_bulk_export_writes_one_patient_per_patient_and_parses_back(uow: UnitOfWork, tmp_path: Path) -> None:
    exported_case(uow)
    perform(uow, pseudonym="T-0000-B")  # a second patient
    lines = service.export_all(uow, DOC, now=NOW)
    patients = [json.loads(line)["id"] for line in lines["Patient"]]
    assert len(patients) == len(set(patients)) == 2
    for kind, items in lines.items():
        for line in items:
            assert parse_resource(line).get_resource_type() == kind
    with pytest.raises(PermissionDeniedError):
        service.export_all(uow, TRAINEE)


def test_the_command_line_writes_a_bundle_and_ndjson_files(
    uow: UnitOfWork, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = exported_case(uow)
    # The command opens the configured database: point it at the test's.
    url = str(uow.session.get_bind().url)
    monkeypatch.setenv("PAINGUIDE_DATABASE_URL", url)  # undone after the test
    from painguide.settings import get_settings

    get_settings.cache_clear()
    target = tmp_path / "case.json"
    with pytest.raises(SystemExit) as done:
        main(["fhir", "export", "--case", str(case_id), "--out", str(target)])
    assert done.value.code == 0
    assert Bundle.model_validate_json(target.read_text(encoding="utf-8")).type == "collection"
    with pytest.raises(SystemExit) as done:
        main(["fhir", "export", "--all", "--out", str(tmp_path / "bulk")])
    assert done.value.code == 0
    files = sorted(p.name for p in (tmp_path / "bulk").iterdir())
    assert "Observation.ndjson" in files and "Patient.ndjson" in files
    with pytest.raises(SystemExit) as done:
        main(["fhir", "export", "--all"])
    assert done.value.code == 2 and "--out" in capsys.readouterr().err
    assert datetime.now(UTC) > NOW
