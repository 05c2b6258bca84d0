"""GET /api/v1/procedures carries the linked dose (under the names of ``dose inspect --json``, summed and per
report, against the local DRL) and the linked ultrasound analyses' warnings as events to review."""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import replace
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pydicom
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from painguide.cli import app as cli
from painguide.dose.generator import fluoro_report, write_report
from painguide.dose.service import collect_sources, estimate_pending_skin_doses, import_sources
from painguide.services import open_uow
from painguide.sono.dicom import write_dicom_cine
from painguide.sono.simulate import SimulationParams, simulate_cine
from painguide.store.dose_tables import DoseReportRow
from painguide.store.tables import AuditEntry

Clients = dict[str, TestClient]
#: A bright needle aimed at a vessel on its path; the injectate never spreads (as in tests/unit/sono).
_VESSEL = SimulationParams(
    seed=7, rows=200, cols=240, width_mm=40.0, depth_mm=32.0, n_frames=60, frame_rate_hz=20.0,
    needle_angle_deg=28.0, needle_entry_z_mm=4.0, needle_target_length_mm=24.0, needle_speed_mm_s=30.0,
    needle_start_s=0.1, needle_brightness=9.0, injection_at_s=1.0, spread_delay_s=0.1, spread_rate_mm2_s=40.0,
    bone=False, vessel=True, vessel_doppler=True, spread_visible=False,
    vessel_at=(28.0, 4.0 + 29.0 * math.sin(math.radians(28.0)), 2.0),
)  # fmt: skip


def _scheduled_case(c: TestClient, bodies: Any) -> dict[str, Any]:
    """A fluoroscopy case through the schedule step (the procedure has its accession number)."""
    patient = c.post("/api/v1/patients", json=bodies.patient("D-0001")).json()
    case = c.post(f"/api/v1/patients/{patient['id']}/cases", json=bodies.case()).json()
    for step, body in bodies.steps()[:6]:
        r = c.post(f"/api/v1/cases/{case['id']}/{step}", json=body)
        assert r.status_code == 200, (step, r.text)
    return dict(r.json())


def _import(folder: Path, accession: str, seeds: list[int]) -> tuple[list[int], list[Path]]:
    """Generated lumbar facet block reports carrying the accession number, imported (and so linked)."""
    paths, uids = [], []
    for seed in seeds:
        ds = fluoro_report(seed=seed, events=3, procedure="lumbar-facet-mbb", patient_id="D-0001",
                           study_datetime=datetime(2026, 3, 16, 9, seed))  # fmt: skip
        ds.AccessionNumber = accession
        paths.append(write_report(ds, folder / f"r{seed}.dcm"))
        uids.append(ds.SOPInstanceUID)
    sources, _ = collect_sources(paths)
    summary = import_sources(sources, uow_factory=open_uow, quarantine_dir=folder / "q", actor="rpo")
    assert summary.imported == len(seeds)
    estimate_pending_skin_doses(open_uow, actor="rpo")
    with open_uow() as uow:
        column = DoseReportRow.sop_instance_uid
        ids = [uow.session.scalar(select(DoseReportRow.id).where(column == u)) for u in uids]
    return [int(i) for i in ids if i is not None], paths


def _analyse(accession: str) -> int:
    """Analyse a simulated cine tagged with the accession number (stored, and so linked)."""
    from painguide.sono.service import analyse_and_store

    cine = simulate_cine(replace(_VESSEL))
    with tempfile.TemporaryDirectory() as tmp:
        ds = pydicom.dcmread(write_dicom_cine(cine.frames, Path(tmp) / "c.dcm"))
    ds.PatientID, ds.AccessionNumber = "D-0001", accession
    buffer = BytesIO()
    ds.save_as(buffer)
    with open_uow() as uow:
        analysis_id, _, _ = analyse_and_store(
            uow, buffer.getvalue(), name="us.dcm", actor="dr", injection_at_s=1.0
        )
    return int(analysis_id)


def _inspect(paths: list[Path]) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["dose", "inspect", "--json", *map(str, paths)])
    assert result.exit_code == 0, result.output
    return list(json.loads(result.output))


def test_procedure_has_linked_dose_under_inspect_names_and_ultrasound_warnings(
    clients: Clients, bodies: Any, tmp_path: Path
) -> None:
    c = clients["physician"]
    case = _scheduled_case(c, bodies)
    accession = case["procedure"]["accession_number"]
    before = c.get(f"/api/v1/procedures/{case['procedure']['id']}").json()
    assert before["dose"] is None and before["dose_reports"] == [] and before["warnings"] == []
    assert before["local_drl"] is None

    report_ids, paths = _import(tmp_path, accession, [21, 22])
    analysis_id = _analyse(accession)

    found = c.get("/api/v1/procedures", params={"accession": accession}).json()
    one = c.get(f"/api/v1/procedures/{found[0]['id']}").json()
    assert found == [one] and one["accession_number"] == accession
    assert one["dose_report_ids"] == report_ids and one["sono_analysis_ids"] == [analysis_id]

    # each linked report equals `dose inspect --json` of its file under every shared field name
    inspected = _inspect(paths)
    reports = one["dose_reports"]
    assert [r["id"] for r in reports] == report_ids
    for report, expected in zip(reports, inspected, strict=True):
        assert set(report) - {"id", "review"} <= set(expected)
        for name, value in report.items():
            if name in ("id", "review"):
                continue
            want = expected[name]
            assert value == (pytest.approx(want) if isinstance(want, float) else want), name

    # the totals sum the reports
    dose = one["dose"]
    assert dose["reports"] == 2 and dose["events"] == sum(r["events"] for r in inspected) == 6
    for name in ("dap_total_gy_cm2", "fluoro_time_s", "rp_dose_total_mgy", "fluoro_dap_gy_cm2"):
        assert dose[name] == pytest.approx(sum(r[name] for r in inspected)), name
    peaks = [r["peak_skin_dose_mgy"] for r in inspected]
    if all(p is not None for p in peaks):
        assert dose["peak_skin_dose_mgy"] == pytest.approx(sum(peaks))
        assert "upper bound" in dose["peak_skin_dose_note"]
    else:
        assert dose["peak_skin_dose_mgy"] is None and "not estimated" in dose["peak_skin_dose_note"]

    # against the local DRL: the median of the site's reports of this procedure type (these two)
    local = one["local_drl"]
    assert local is not None and local["reference"] == "local-median:lumbar-facet-mbb"
    median = (inspected[0]["dap_total_gy_cm2"] + inspected[1]["dap_total_gy_cm2"]) / 2
    assert local["level"] == pytest.approx(median)
    assert local["value"] == pytest.approx(dose["dap_total_gy_cm2"])
    assert local["exceeded"] is True and local in one["comparisons"]

    # the ultrasound warnings are events to review, vessel warnings included
    types = {w["type"] for w in one["warnings"]}
    assert "vessel_near_path" in types, one["warnings"]
    assert all(w["analysis_id"] == analysis_id and w["review"] == f"/sono/review/{analysis_id}"
               for w in one["warnings"])  # fmt: skip
    with open_uow() as uow:
        reads = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.read", AuditEntry.object_id == str(one["id"]))
        ).all()
    assert len(reads) >= 3 and {a.actor for a in reads} == {"physician"}

    # the case page shows the same: the dose against the local DRL and the ultrasound events to review
    page = c.get(f"/cases/{case['id']}", headers={"accept": "text/html", "accept-language": "de"})
    assert page.status_code == 200 and 'id="linked"' in page.text
    for report_id in report_ids:
        assert f'href="/dose/reports/{report_id}"' in page.text
    assert 'data-exceeded="yes"' in page.text and "über dem lokalen DRW: prüfen" in page.text
    assert 'data-type="vessel_near_path"' in page.text and "Gefäß nahe am Nadelweg" in page.text
    assert f'href="/sono/review/{analysis_id}"' in page.text
    # the peak skin dose's note in German, whichever way the two reports' estimates went
    if dose["peak_skin_dose_mgy"] is not None:
        assert "Summe der maximalen Hautdosen von 2 Berichten: eine obere Schranke" in page.text
    else:
        assert "nicht für jeden verknüpften Bericht geschätzt (Bericht " in page.text
    assert dose["peak_skin_dose_note"] not in page.text  # the English note is the API's


def test_api_schema_dose_names_are_those_of_dose_inspect(clients: Clients, tmp_path: Path) -> None:
    """Fails when a dose field of the procedure in the OpenAPI schema is not a ``dose inspect --json`` key."""
    ds = fluoro_report(seed=5, events=2)
    inspected = _inspect([write_report(ds, tmp_path / "r.dcm")])[0]
    schemas = clients["viewer"].get("/api/v1/openapi.json").json()["components"]["schemas"]
    totals = set(schemas["DoseTotalsOut"]["properties"]) - {"reports"}
    per_report = set(schemas["DoseReportOut"]["properties"]) - {"id", "review"}
    assert "peak_skin_dose_mgy" in totals and "fluoro_time_s" in totals and "events" in totals
    assert totals <= set(inspected), totals - set(inspected)
    assert per_report <= set(inspected), per_report - set(inspected)
    procedure = schemas["ProcedureOut"]["properties"]
    assert {"accession_number", "dose", "dose_reports", "local_drl", "warnings"} <= set(procedure)
