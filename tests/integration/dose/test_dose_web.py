"""Dose pages over HTTP with demo data: dashboard roles, report detail, exports."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from painguide.dose.demo import DEMO_SOURCE
from painguide.dose.service import list_stored, procedure_names
from painguide.services import open_uow
from painguide.settings import get_settings


@pytest.fixture
def client(demo_client: TestClient) -> TestClient:
    return demo_client


def test_demo_data_is_seeded_once() -> None:
    from painguide.demo import seed_demo

    get_settings.cache_clear()
    seed_demo()
    seed_demo()
    stored = list_stored(open_uow, limit=10_000)
    # 60 synthetic reports and pyskindose's example report, once
    assert len(stored) == 61 and {s.source for s in stored} == {DEMO_SOURCE}


def test_demo_shows_a_skin_dose_map_without_any_sample_folder(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    """The demo's real AXIOM Artis report comes from inside the installed pyskindose, estimated at seeding."""
    from importlib.resources import files

    from painguide.dose.demo import SKIN_EXAMPLE
    from painguide.dose.rdsr import read_dose_report
    from painguide.dose.service import skin_dose_of

    data = files("pyskindose").joinpath(SKIN_EXAMPLE).read_bytes()
    uid = read_dose_report(data).sop_instance_uid
    (stored,) = [s for s in list_stored(open_uow, limit=10_000) if s.report.sop_instance_uid == uid]
    sign_in(client, "rpo")
    page = client.get(f"/dose/reports/{stored.id}").text
    expected = skin_dose_of(data, read_dose_report(data)).peak_skin_dose_mgy
    assert expected is not None and expected > 0
    assert f"{expected:.4g} mGy" in page and 'id="dose-skin-map"' in page


def test_dashboard_shows_charts_reference_lines_and_alerts(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    sign_in(client, "rpo")
    response = client.get("/dose/?kind=fluoro&by=procedure")
    assert response.status_code == 200
    assert "Plotly.newPlot" in response.text and "local median (this site)" in response.text
    assert "Lumbar transforaminal epidural steroid injection" in response.text  # groups by catalogue name
    assert "alert level 200 Gy\\u00b7cm\\u00b2 (OpenREM-alerts)" in response.text
    assert '"type":"log"' in response.text.replace(" ", "")
    assert "BfS-DRL-2022" in response.text and "OpenREM-alerts" in response.text
    for group_by in ("device", "operator"):
        assert client.get(f"/dose/?by={group_by}").status_code == 200
    ct = client.get("/dose/?kind=ct")
    assert ct.status_code == 200 and "DLP (mGy" in ct.text
    assert client.get("/dose/plotly.js").headers["content-type"].startswith("application/javascript")


def test_pages_with_patient_identity_are_refused_to_trainees(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    sign_in(client, "trainee")
    first = list_stored(open_uow, limit=1)[0]
    for path in (
        "/dose/",
        "/dose/export.csv",
        "/dose/export.xlsx",
        "/dose/reports?patient=DEMO-001",
        f"/dose/reports/{first.id}",
        "/dose/alerts",
    ):
        response = client.get(path, headers={"accept": "text/html"})
        # the page's own address (kept for the language switch) may name the filter; no data may
        assert response.status_code == 403 and ">DEMO-001<" not in response.text, path
        assert "<table" not in response.text, path
    listing = client.get("/dose/reports?patient=DEMO-001")
    assert "dose.reports.read needs one of the roles admin, physician, rpo" in listing.text


def test_report_detail_lists_events_and_comparisons(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    sign_in(client, "physician")
    first = list_stored(open_uow, procedure_type="lumbar-tfesi")[0]
    response = client.get(f"/dose/reports/{first.id}")
    assert response.status_code == 200
    assert "Irradiation events" in response.text and "local-median:lumbar-tfesi" in response.text
    assert "Lumbar transforaminal epidural steroid injection" in response.text
    assert response.text.count("<tr><td>") >= first.report.totals.event_count
    assert client.get("/dose/reports/999999", headers={"accept": "text/html"}).status_code == 404


def test_report_detail_plots_events_and_says_why_no_skin_dose(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    sign_in(client, "rpo")
    first = list_stored(open_uow, procedure_type="lumbar-tfesi")[0]
    page = client.get(f"/dose/reports/{first.id}").text
    assert 'id="dose-events"' in page and "running total" in page and "fluoroscopy" in page
    assert "DAP per event" in page and "RP dose per event" in page
    device = first.report.device.model or ""
    assert "Peak skin dose" in page and "not estimable, because the device model" in page and device in page
    assert 'id="dose-skin-map"' not in page  # no map without an estimate


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")
def test_report_detail_shows_the_skin_dose_map_of_a_sample(
    client: TestClient, sign_in: Callable[[TestClient, str], None], shared_rdsr_dir: object, tmp_path: object
) -> None:
    from pathlib import Path

    from painguide.dose.service import collect_sources, import_sources, skin_dose_of

    path = Path(str(shared_rdsr_dir)) / "siemens_axiom_artis.dcm"  # the demo holds the example procedure
    sources, _ = collect_sources([path])
    import_sources(sources, uow_factory=open_uow, quarantine_dir=Path(str(tmp_path)))
    (stored,) = [s for s in list_stored(open_uow, limit=10_000) if s.source == str(path)]
    sign_in(client, "rpo")
    page = client.get(f"/dose/reports/{stored.id}").text
    from painguide.dose.rdsr import read_dose_report

    data = path.read_bytes()
    expected = skin_dose_of(data, read_dose_report(data)).peak_skin_dose_mgy
    assert expected is not None
    assert f"{expected:.4g} mGy" in page and 'id="dose-skin-map"' in page
    assert "mm Cu" in page and "kVp" in page


def test_exports_contain_every_report(client: TestClient, sign_in: Callable[[TestClient, str], None]) -> None:
    from openpyxl import load_workbook

    sign_in(client, "admin")
    csv_text = client.get("/dose/export.csv").text
    assert csv_text.splitlines()[0].startswith("id,sop_instance_uid,kind")
    assert len(csv_text.strip().splitlines()) == 62  # a header and the 61 demo reports
    xlsx = client.get("/dose/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 62 and sheet.cell(1, 13).value == "dap_total_gy_cm2"


def test_the_alerts_page_says_when_skin_dose_alerts_wait_for_estimates(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    from sqlalchemy import delete

    from painguide.services import open_uow
    from painguide.store.dose_tables import DoseSkinRow

    sign_in(client, "rpo")
    assert "Peak skin dose alerts are incomplete" not in client.get("/dose/alerts").text
    with open_uow() as uow:  # as if imported from a device pyskindose can model, not yet estimated
        report_id = uow.dose.page(limit=1)[0].id
        uow.session.execute(delete(DoseSkinRow).where(DoseSkinRow.report_id == report_id))
        uow.dose.save_pending([(report_id, b"kept file")], "pending")
        uow.commit()
    page = client.get("/dose/alerts").text
    assert "Peak skin dose alerts are incomplete: 1 reports are waiting" in page
    with open_uow() as uow:  # leave the shared demo data as it was: a stored reason, nothing pending
        from painguide.dose.models import SkinDose

        assert uow.dose.replace_skin(report_id, SkinDose(None, "not estimable, because of the test"))
        uow.commit()
    assert "Peak skin dose alerts are incomplete" not in client.get("/dose/alerts").text


def test_report_charts_follow_the_page_language(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    sign_in(client, "rpo")
    first = list_stored(open_uow, procedure_type="lumbar-tfesi")[0]
    client.post("/language", data={"language": "de", "next": "/"})
    try:
        page = client.get(f"/dose/reports/{first.id}").text
        dashboard = client.get("/dose/").text
    finally:
        client.post("/language", data={"language": "en", "next": "/"})
    assert "Referenzpunktdosis je Ereignis" in page and "laufende Summe" in page
    assert "RP dose per event" not in page
    assert "je Eingriffsart" in dashboard and "per procedure type" not in dashboard
    # data values, numbers and names in German: event types, quantities, alert scopes, decimal commas
    german_name, english_name = procedure_names("de")["lumbar-tfesi"], procedure_names()["lumbar-tfesi"]
    assert german_name != english_name and german_name in page and english_name not in page
    assert german_name in dashboard and ">DFP<" in dashboard and "Summe je Patient/in" in dashboard
    assert ">fluoroscopy<" not in page and ">Durchleuchtung<" in page
    # why there is no skin dose: the stored reasons in German, the device's name as written
    device = first.report.device.model or ""
    assert "nicht abschätzbar: für das Gerätemodell" in page and device in page
    assert "not estimable" not in page and "has no geometry settings" not in page
    dap = first.report.totals.dap_total_gy_cm2
    assert dap is not None and f"{dap:g}".replace(".", ",") in page
