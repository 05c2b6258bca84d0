"""Linking on a real database: on dose import and on a stored analysis, the pass, manual link and unlink,
the unlinked list, and the procedure's dose totals and ultrasound warnings."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from sqlalchemy import select
from tests.integration.pathway.conftest import Schedule, UowFactory

from painguide.auth import User
from painguide.dose.generator import fluoro_report, write_report
from painguide.dose.service import collect_sources, import_sources
from painguide.errors import NotFoundError, PermissionDeniedError, ValidationError
from painguide.pathway import link_service, page_service
from painguide.store.dose_tables import DoseReportRow
from painguide.store.pathway_tables import EntryRow, ProcedureRow
from painguide.store.tables import AuditEntry
from painguide.store.uow import UnitOfWork

AT = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
RPO = User("rpo", "RPO", frozenset({"rpo"}))
VIEWER = User("vic", "", frozenset({"viewer"}))


def import_report(
    uow_factory: UowFactory,
    tmp_path: Path,
    *,
    seed: int,
    patient: str,
    at: datetime,
    accession: str = "",
    study: str | None = None,
) -> int:
    """Import one synthetic fluoroscopy report; returns its id."""
    ds = fluoro_report(seed=seed, events=3, patient_id=patient, study_datetime=at.replace(tzinfo=None))
    ds.AccessionNumber = accession
    if study is not None:
        ds.StudyInstanceUID = study
    path = write_report(ds, tmp_path / f"r{seed}.dcm")
    sources, _ = collect_sources([path])
    summary = import_sources(sources, uow_factory=uow_factory, quarantine_dir=tmp_path / "q", actor="rpo")
    assert summary.imported == 1
    with uow_factory() as uow:
        found = uow.session.scalar(
            select(DoseReportRow.id).where(DoseReportRow.sop_instance_uid == ds.SOPInstanceUID)
        )
    assert found is not None
    return int(found)


def links(uow_factory: UowFactory, procedure_id: int) -> tuple[list[int], list[int]]:
    with uow_factory() as uow:
        row = uow.session.get(ProcedureRow, procedure_id)
        assert row is not None
        return list(row.dose_report_ids), list(row.sono_analysis_ids)


def test_dose_report_links_on_import_by_accession_and_is_audited(
    pathway_uow: UowFactory, schedule: Schedule, tmp_path: Path
) -> None:
    proc = schedule("P-1", at=AT)
    other = schedule("P-1", at=AT + timedelta(hours=1))  # same patient, same morning
    report = import_report(
        pathway_uow, tmp_path, seed=1, patient="P-1", at=AT, accession=proc.accession_number
    )
    assert links(pathway_uow, proc.id) == ([report], [])
    assert links(pathway_uow, other.id) == ([], [])
    with pathway_uow() as uow:
        entry = uow.session.scalars(select(EntryRow).where(EntryRow.kind == "link")).one()
        assert entry.case_id == proc.case_id and entry.data["method"] == "accession"
        audit = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.link")).one()
        assert audit.actor == "rpo" and audit.object_id == str(proc.id)


def test_study_uid_handed_out_by_the_worklist_links(
    pathway_uow: UowFactory, schedule: Schedule, tmp_path: Path
) -> None:
    proc = schedule("P-1", at=AT)
    assert proc.study_instance_uid and proc.study_instance_uid.startswith("2.25.")
    report = import_report(pathway_uow, tmp_path, seed=2, patient="P-1", at=AT + timedelta(days=3),
                           study=proc.study_instance_uid)  # fmt: skip
    assert links(pathway_uow, proc.id)[0] == [report]


def test_patient_and_time_link_one_and_leave_two_for_manual_linking(
    pathway_uow: UowFactory, schedule: Schedule, tmp_path: Path
) -> None:
    alone = schedule("P-1", at=AT)
    twin_a = schedule("P-2", at=AT)
    twin_b = schedule("P-2", at=AT + timedelta(hours=2))
    linked = import_report(pathway_uow, tmp_path, seed=3, patient="P-1", at=AT + timedelta(hours=2))
    unsure = import_report(pathway_uow, tmp_path, seed=4, patient="P-2", at=AT + timedelta(hours=1))
    stray = import_report(pathway_uow, tmp_path, seed=5, patient="P-9", at=AT)
    assert links(pathway_uow, alone.id)[0] == [linked]
    assert links(pathway_uow, twin_a.id)[0] == links(pathway_uow, twin_b.id)[0] == []
    with pathway_uow() as uow:
        page = link_service.list_unlinked(uow, RPO, kind="dose")
    assert page.total == 2
    by_id = {i.id: i for i in page.items}
    assert by_id[unsure].outcome == "ambiguous"
    assert set(by_id[unsure].candidates) == {twin_a.accession_number, twin_b.accession_number}
    assert by_id[stray].outcome == "unmatched" and "P-9" in by_id[stray].reason


def test_pass_links_a_report_that_arrived_before_its_procedure(
    pathway_uow: UowFactory, schedule: Schedule, tmp_path: Path
) -> None:
    early = import_report(pathway_uow, tmp_path, seed=6, patient="P-3", at=AT)
    proc = schedule("P-3", at=AT + timedelta(minutes=30))
    with pathway_uow() as uow:
        listed = link_service.list_unlinked(uow, RPO)
        assert "run `painguide case link`" in listed.items[0].reason
        summary = link_service.link_pending(uow, RPO)
    assert (summary.count("linked"), summary.count("unmatched")) == (1, 0)
    assert links(pathway_uow, proc.id)[0] == [early]
    with pathway_uow() as uow:  # a second pass has nothing left to do
        assert link_service.link_pending(uow, RPO).decisions == []


def test_manual_unlink_is_remembered_and_manual_link_moves(
    pathway_uow: UowFactory, schedule: Schedule, tmp_path: Path
) -> None:
    first = schedule("P-4", at=AT)
    second = schedule("P-4", at=AT + timedelta(days=1))
    report = import_report(pathway_uow, tmp_path, seed=7, patient="P-4", at=AT)
    assert links(pathway_uow, first.id)[0] == [report]
    with pathway_uow() as uow:
        assert link_service.unlink_item(uow, RPO, kind="dose", item_id=report, reason="wrong side") == [
            first.accession_number
        ]
    with pathway_uow() as uow:
        assert link_service.link_pending(uow, RPO).count("linked") == 0  # not proposed again
        listed = link_service.list_unlinked(uow, RPO)
    assert [i.id for i in listed.items] == [report]
    with pathway_uow() as uow:
        view = link_service.link_item(
            uow, RPO, kind="dose", item_id=report, accession_number=second.accession_number
        )
    assert view.dose_report_ids == (report,) and links(pathway_uow, first.id)[0] == []
    with pathway_uow() as uow:  # linked by hand to the first again: moved back, unlink entry on the second
        link_service.link_item(uow, RPO, kind="dose", item_id=report, accession_number=first.accession_number)
        kinds = [
            e.kind for e in uow.session.scalars(select(EntryRow).where(EntryRow.case_id == second.case_id))
        ]
    assert kinds == ["link", "unlink"]
    assert links(pathway_uow, first.id)[0] == [report] and links(pathway_uow, second.id)[0] == []


def test_manual_link_errors_name_the_field(pathway_uow: UowFactory, schedule: Schedule) -> None:
    proc = schedule("P-5", at=AT)
    with pathway_uow() as uow:
        with pytest.raises(NotFoundError, match="dose report 999 does not exist"):
            link_service.link_item(uow, RPO, kind="dose", item_id=999, accession_number=proc.accession_number)
        with pytest.raises(ValidationError, match="kind: one of dose, sono"):
            link_service.link_item(uow, RPO, kind="xray", item_id=1, accession_number=proc.accession_number)
        with pytest.raises(PermissionDeniedError, match=r"case\.link needs one of the roles"):
            link_service.list_unlinked(uow, VIEWER)


def test_procedure_view_sums_dose_under_inspect_field_names(
    pathway_uow: UowFactory, schedule: Schedule, tmp_path: Path
) -> None:
    proc = schedule("P-6", at=AT)
    a = import_report(pathway_uow, tmp_path, seed=8, patient="P-6", at=AT, accession=proc.accession_number)
    b = import_report(pathway_uow, tmp_path, seed=9, patient="P-6", at=AT + timedelta(minutes=20))
    with pathway_uow() as uow:
        view = link_service.get_procedure_links(uow, RPO, proc.accession_number)
        rows = [uow.session.get(DoseReportRow, i) for i in (a, b)]
    assert view.dose_report_ids == (a, b)
    dose = view.to_dict()["dose"]
    assert dose["reports"] == 2
    assert dose["dap_total_gy_cm2"] == pytest.approx(sum(r.dap_total_gy_cm2 for r in rows if r))
    assert dose["fluoro_time_s"] == pytest.approx(sum(r.fluoro_time_s for r in rows if r))
    assert dose["events"] == sum(r.event_count for r in rows if r)
    local = [c for c in view.comparisons if c["reference"].startswith("local-median:")]
    assert len(local) == 1 and local[0]["quantity"] == "dap"


@lru_cache(maxsize=1)
def _cine_without_spread() -> bytes:
    from painguide.sono.dicom import write_dicom_cine
    from painguide.sono.simulate import SimulationParams, simulate_cine

    params = SimulationParams(rows=160, cols=200, n_frames=48, frame_rate_hz=8.0, injection_at_s=1.0,
                              needle_speed_mm_s=25.0, spread_visible=False, bone=False, seed=3)  # fmt: skip
    cine = simulate_cine(params)
    with tempfile.TemporaryDirectory() as tmp:
        return write_dicom_cine(cine.frames, Path(tmp) / "c.dcm").read_bytes()


def test_analysis_links_on_store_and_its_warning_is_an_event_to_review(
    pathway_uow: UowFactory, schedule: Schedule
) -> None:
    from painguide.sono.service import analyse_and_store

    proc = schedule("P-7", at=AT, modality="ultrasound", procedure="sij-ia")
    ds = pydicom.dcmread(BytesIO(_cine_without_spread()))
    ds.PatientID, ds.AccessionNumber = "P-7", proc.accession_number
    buffer = BytesIO()
    ds.save_as(buffer)
    with pathway_uow() as uow:
        analysis_id, report, _ = analyse_and_store(
            uow, buffer.getvalue(), name="us.dcm", actor="dr", injection_at_s=1.0
        )
    assert "no_visible_spread" in [str(e["type"]) for e in report.as_dict()["events"]]
    assert links(pathway_uow, proc.id) == ([], [analysis_id])
    with pathway_uow() as uow:
        view = link_service.get_procedure_links(uow, RPO, proc.accession_number)
        entry = uow.session.scalars(select(EntryRow).where(EntryRow.kind == "link")).one()
    assert [w["message"] for w in view.warnings] == ["no visible spread"]
    assert view.warnings[0]["review"] == f"/sono/review/{analysis_id}"
    assert entry.data["warnings"] == ["no visible spread"] and view.dose is None


def test_every_ultrasound_warning_type_is_an_event_to_review() -> None:
    from painguide.sono.pipeline import WARNING_TYPES

    assert set(link_service.SONO_WARNINGS) == set(WARNING_TYPES)
    assert all(message and "_" not in message for message in link_service.SONO_WARNINGS.values())


def test_case_page_audits_the_case_and_its_procedure_in_one_commit(
    pathway_uow: UowFactory, schedule: Schedule, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = schedule("P-9", at=AT)
    commits: list[UnitOfWork] = []
    real_commit = UnitOfWork.commit

    def counting(self: UnitOfWork) -> None:
        commits.append(self)
        real_commit(self)

    monkeypatch.setattr(UnitOfWork, "commit", counting)
    with pathway_uow() as uow:
        page = page_service.case_page(uow, RPO, proc.case_id, now=AT)
    monkeypatch.undo()
    assert page.procedure is not None and page.procedure.id == proc.id
    assert len(commits) == 1  # one commit carries both audit entries (checked below)
    with pathway_uow() as uow:
        audited = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.read").order_by(AuditEntry.id)
        ).all()
    assert [(a.object_type, a.object_id, a.actor) for a in audited] == [
        ("case", str(proc.case_id), "rpo"),
        ("procedure", str(proc.id), "rpo"),
    ]
