"""The "Import reports" page: uploads go through the same import service as ``painguide dose import``."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from painguide.demo import DEMO_PASSWORD
from painguide.dose.generator import ct_report, damaged_variants, fluoro_report
from painguide.dose.service import list_stored
from painguide.services import open_uow
from painguide.settings import get_settings
from painguide.store.audit import AuditFilter
from painguide.store.users import create_user

SignIn = Callable[[TestClient, str], None]
_ROW = re.compile(r'<tr class="import-(imported|duplicate|quarantined)">(.*?)</tr>', re.S)


def _bytes(dataset: object) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)  # type: ignore[attr-defined]
    return buffer.getvalue()


def _report(seed: int, patient: str) -> bytes:
    return _bytes(fluoro_report(seed=seed, events=3, patient_id=patient))


def _rows(html: str) -> list[tuple[str, str]]:
    """(status, row html) of each result row."""
    return [(status, body) for status, body in _ROW.findall(html)]


def _post(client: TestClient, *files: tuple[str, bytes]) -> object:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return client.post("/dose/import", files=parts)


def _stored(patient: str) -> list[int]:
    return [s.id for s in list_stored(open_uow, patient_id=patient)]


@pytest.fixture
def rpo(demo_client: TestClient, sign_in: SignIn) -> TestClient:
    sign_in(demo_client, "rpo")
    return demo_client


def test_form_carries_the_csrf_field_and_is_linked_from_the_dashboard(rpo: TestClient) -> None:
    page = rpo.get("/dose/import")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert 'name="files" multiple' in page.text
    assert 'href="/dose/import"' in rpo.get("/dose/").text
    german = rpo.get("/dose/import", headers={"accept-language": "de"}).text
    assert "Dosisberichte importieren" in german and "Dosisberichte oder Zip-Archive" in german


def test_uploaded_reports_are_imported_and_linked_to_their_pages(rpo: TestClient) -> None:
    response = _post(rpo, ("one.dcm", _report(901, "UP-1")), ("two.dcm", _report(902, "UP-1")))
    assert response.status_code == 200  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    rows = _rows(html)
    assert [status for status, _ in rows] == ["imported", "imported"]
    ids = sorted(_stored("UP-1"))
    assert len(ids) == 2
    for report_id in ids:
        assert f'href="/dose/reports/{report_id}"' in html
        assert "UP-1" in rpo.get(f"/dose/reports/{report_id}").text
    assert "<code>one.dcm</code>" in html and "2 imported · 0 duplicates · 0 refused" in html
    stored = {s.source for s in list_stored(open_uow, patient_id="UP-1")}
    assert stored == {"upload:one.dcm", "upload:two.dcm"}
    with open_uow() as uow:
        entries = uow.audit.page(AuditFilter(actor="rpo", action="dose.import"), limit=10)
    actions = [entry.action for entry in entries]
    assert actions.count("dose.import") == 2 and actions.count("dose.import.upload") == 1


def test_a_second_upload_is_a_duplicate_of_the_stored_report(rpo: TestClient) -> None:
    data = _report(903, "UP-2")
    first = _post(rpo, ("a.dcm", data))
    (report_id,) = _stored("UP-2")
    second = _post(rpo, ("again.dcm", data))
    assert [s for s, _ in _rows(second.text)] == ["duplicate"]  # type: ignore[attr-defined]
    assert "duplicate (already stored)" in second.text  # type: ignore[attr-defined]
    assert f'href="/dose/reports/{report_id}"' in second.text  # type: ignore[attr-defined]
    assert _stored("UP-2") == [report_id]
    assert first.status_code == second.status_code == 200  # type: ignore[attr-defined]


def test_a_file_that_is_not_a_dose_report_is_refused_with_the_reason(rpo: TestClient) -> None:
    response = _post(rpo, ("notes.dcm", b"this is a text file, not DICOM"), ("ok.dcm", _report(904, "UP-3")))
    rows = _rows(response.text)  # type: ignore[attr-defined]
    assert [s for s, _ in rows] == ["quarantined", "imported"]
    refused = rows[0][1]
    assert "refused" in refused and 'role="alert"' in refused and "DICOM" in refused
    kept = list(get_settings().quarantine_dir.glob("*notes.dcm"))
    assert len(kept) == 1 and "notes.dcm" in kept[0].with_name(kept[0].name + ".reason.txt").read_text()
    assert len(_stored("UP-3")) == 1


def test_an_empty_form_names_the_field(rpo: TestClient) -> None:
    response = rpo.post("/dose/import", files=[("files", ("", b"", "application/octet-stream"))])
    assert response.status_code == 422
    assert "Dose reports or zip archives: no file was sent" in response.text


def test_a_zip_archive_is_imported_member_by_member(rpo: TestClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("day1/a.dcm", _report(905, "UP-4"))
        archive.writestr("day1/b.dcm", _bytes(ct_report(seed=906, patient_id="UP-4")))
        archive.writestr("day1/readme.txt", b"not a report")
    response = _post(rpo, ("batch.zip", buffer.getvalue()))
    html = response.text  # type: ignore[attr-defined]
    rows = _rows(html)
    assert sorted(s for s, _ in rows) == ["imported", "imported", "quarantined"]
    assert "<code>batch.zip!day1/a.dcm</code>" in html and "<code>batch.zip!day1/readme.txt</code>" in html
    assert len(_stored("UP-4")) == 2


def test_a_zip_over_the_member_limit_is_refused_whole(
    rpo: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAINGUIDE_ZIP_MAX_MEMBERS", "2")
    get_settings.cache_clear()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(3):
            archive.writestr(f"r{index}.dcm", _report(910 + index, "UP-5"))
    rows = _rows(_post(rpo, ("many.zip", buffer.getvalue())).text)  # type: ignore[attr-defined]
    assert [s for s, _ in rows] == ["quarantined"]
    assert "PAINGUIDE_ZIP_MAX_MEMBERS" in rows[0][1]
    assert _stored("UP-5") == []


def test_an_upload_over_the_limit_is_refused_with_413_and_nothing_stored(
    rpo: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from painguide.web.routes import dose

    monkeypatch.setitem(dose.UPLOAD_LIMITS, "/dose/import", 50_000)
    big = _bytes(fluoro_report(seed=920, events=200, patient_id="UP-6"))
    assert len(big) > 50_000
    response = _post(rpo, ("big.dcm", big))
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert "the upload is larger than the 0.0477 MB limit of /dose/import" in response.text  # type: ignore[attr-defined]
    assert _stored("UP-6") == []
    assert not [p for p in (get_settings().data_dir / "dose-uploads").rglob("*") if p.is_file()]


@pytest.mark.parametrize("role", ["viewer", "trainee", "physician"])
def test_roles_without_the_import_permission_are_refused(
    demo_client: TestClient, sign_in: SignIn, role: str
) -> None:
    if role == "viewer":
        with open_uow() as uow:
            create_user(uow.session, "viewer", DEMO_PASSWORD, ["viewer"], actor="test")
            uow.commit()
    sign_in(demo_client, role)
    assert demo_client.get("/dose/import").status_code == 403
    response = _post(demo_client, ("r.dcm", _report(930, "UP-7")))
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert _stored("UP-7") == []
    assert 'href="/dose/import"' not in demo_client.get("/").text


def test_sixty_damaged_reports_through_the_page_give_no_server_error(rpo: TestClient) -> None:
    """A share of the 1,000-variant fuzz (benchmarks/fuzz_dose.py) through the page: every file ends
    imported, a duplicate or refused with a named reason; none falls into the importer's catch-all."""
    bases = {
        "fluoro": _bytes(fluoro_report(seed=41, events=6)),
        "ct": _bytes(ct_report(seed=42, events=2)),
    }
    variants = list(damaged_variants(60, 9, bases))
    statuses: list[str] = []
    for start in range(0, len(variants), 20):
        response = _post(rpo, *variants[start : start + 20])
        assert response.status_code == 200, response.text[:500]  # type: ignore[attr-defined]
        rows = _rows(response.text)  # type: ignore[attr-defined]
        assert len(rows) == 20
        for status, body in rows:
            statuses.append(status)
            assert "unexpected error" not in body and "Traceback" not in body
            if status == "quarantined":
                reason = re.search(r'<span role="alert">(.+?)</span>', body, re.S)
                assert reason and len(reason.group(1)) > 20, body
    assert statuses.count("quarantined") > 0 and statuses.count("imported") > 0  # the damage is real


def test_more_files_than_the_limit_are_refused_with_the_reason(
    rpo: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from painguide.web.routes import dose

    monkeypatch.setattr(dose, "MAX_IMPORT_FILES", 3)
    response = _post(rpo, *[(f"r{i}.dcm", _report(940 + i, "UP-8")) for i in range(5)])
    assert response.status_code == 400  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "Dose reports or zip archives: more than 3 files at once: send fewer, or put them in zip" in text
    assert _stored("UP-8") == []
    rpo.post("/language", data={"language": "de", "next": "/"})
    try:
        response = _post(rpo, *[(f"r{i}.dcm", _report(950 + i, "UP-8")) for i in range(4)])
    finally:
        rpo.post("/language", data={"language": "en", "next": "/"})
    assert response.status_code == 400  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "mehr als 3 Dateien auf einmal" in text and "Too many" not in text
    assert _stored("UP-8") == []


def test_a_malformed_upload_form_names_the_field_and_keeps_the_reason(rpo: TestClient) -> None:
    response = rpo.post(
        "/dose/import",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--x--\r\n",
        headers={"content-type": "multipart/form-data; boundary=x", "accept": "text/html"},
    )
    assert response.status_code == 400
    assert "the upload could not be read (The Content-Disposition header field" in response.text
    assert "choose the files again" in response.text
