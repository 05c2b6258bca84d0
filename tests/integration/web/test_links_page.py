"""The unlinked-items page (/links): lists dose reports linked to no procedure with the reason, links one by
hand to a procedure by accession number, unlinks it again, names the field of bad input, is audited, needs
the CSRF token, speaks German and follows the permission matrix (action ``case.link``)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from painguide.dose.generator import fluoro_report, write_report
from painguide.dose.service import collect_sources, import_sources
from painguide.services import open_uow
from painguide.store.dose_tables import DoseReportRow
from painguide.store.tables import AuditEntry

Clients = dict[str, TestClient]
HTML = {"accept": "text/html"}


def _accession(c: TestClient, bodies: Any) -> str:
    """A fluoroscopy case scheduled through the API; its procedure's accession number."""
    patient = c.post("/api/v1/patients", json=bodies.patient("K-0001")).json()
    case = c.post(f"/api/v1/patients/{patient['id']}/cases", json=bodies.case()).json()
    for step, body in bodies.steps()[:6]:
        r = c.post(f"/api/v1/cases/{case['id']}/{step}", json=body)
        assert r.status_code == 200, (step, r.text)
    return str(r.json()["procedure"]["accession_number"])


def _stray_report(folder: Path) -> int:
    """A generated report of a patient with no procedure (so automatic linking leaves it unlinked)."""
    ds = fluoro_report(seed=31, events=2, patient_id="STRAY-1", study_datetime=datetime(2026, 2, 2, 8, 0))
    path = write_report(ds, folder / "stray.dcm")
    sources, _ = collect_sources([path])
    summary = import_sources(sources, uow_factory=open_uow, quarantine_dir=folder / "q", actor="rpo")
    assert summary.imported == 1
    with open_uow() as uow:
        found = uow.session.scalar(
            select(DoseReportRow.id).where(DoseReportRow.sop_instance_uid == ds.SOPInstanceUID)
        )
    assert found is not None
    return int(found)


def _row(html: str, kind: str, item_id: int) -> str | None:
    found = re.search(rf'<tr data-kind="{kind}" data-id="{item_id}">.*?</tr>', html, re.DOTALL)
    return found.group(0) if found else None


def test_link_an_unlinked_report_by_hand_and_unlink_it(clients: Clients, bodies: Any, tmp_path: Path) -> None:
    accession = _accession(clients["physician"], bodies)
    report = _stray_report(tmp_path)
    c = clients["rpo"]

    page = c.get("/links", headers=HTML)
    assert page.status_code == 200 and 'href="/links"' in page.text  # nav link for this role
    row = _row(page.text, "dose", report)
    assert row is not None and "STRAY-1" in row and "no procedure found" in row and "csrf_token" in row
    with open_uow() as uow:
        reads = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.link.list")).all()
    assert [a.actor for a in reads] == ["rpo"]

    # an unknown accession number: 404, the reason shown, the values entered kept in the row's form
    form = {"kind": "dose", "item_id": str(report), "accession_number": "PG-NOPE", "reason": "phoned the RIS"}
    r = c.post("/links/link", data=form, headers=HTML)
    assert r.status_code == 404 and "PG-NOPE" in r.text and 'role="alert"' in r.text
    kept = _row(r.text, "dose", report)
    assert kept is not None and 'value="PG-NOPE"' in kept and 'value="phoned the RIS"' in kept

    r = c.post("/links/link", data={**form, "accession_number": accession}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/links?linked={accession}"
    after = c.get(r.headers["location"], headers=HTML).text
    assert f"Linked to procedure {accession}." in after and _row(after, "dose", report) is None
    procedure = c.get("/api/v1/procedures", params={"accession": accession}).json()[0]
    assert procedure["dose_report_ids"] == [report] and procedure["dose"]["reports"] == 1
    assert procedure["local_drl"] is None  # the site has no report of the indicated procedure type

    # bad input names the field; then unlink: listed again, off the procedure
    r = c.post("/links/unlink", data={"kind": "dose", "item_id": "twelve"}, headers=HTML)
    assert r.status_code == 422 and "item_id" in r.text
    r = c.post("/links/unlink", data={"kind": "dose", "item_id": str(report), "reason": "wrong patient"},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"/links?unlinked_from={accession}"
    assert _row(c.get("/links", headers=HTML).text, "dose", report) is not None
    assert c.get("/api/v1/procedures", params={"accession": accession}).json()[0]["dose_report_ids"] == []
    with open_uow() as uow:
        actions = [a.action for a in uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "case.link" in actions and "case.unlink" in actions


def test_links_page_needs_the_csrf_token_speaks_german_and_follows_the_matrix(clients: Clients) -> None:
    c = clients["physician"]
    german = c.get("/links", headers={"accept": "text/html", "accept-language": "de"})
    assert german.status_code == 200 and "Nicht verknüpfte Dosisberichte und Cines" in german.text
    assert "Nichts wartet auf eine Verknüpfung." in german.text
    plain = TestClient(c.app)  # the same signed-in browser, but a form without the CSRF token
    plain.cookies = c.cookies
    r = plain.post("/links/unlink", data={"kind": "dose", "item_id": "1"}, headers=HTML)
    assert r.status_code == 403 and "csrf_token" in r.text
    for role in ("trainee", "viewer"):
        assert clients[role].get("/links", headers=HTML).status_code == 403
        assert 'href="/links"' not in clients[role].get("/", headers=HTML).text
