"""The patient search page, which checks its permission and parses its query in its own worker thread: the
same answers as a route with FastAPI's dependency and query validation (refusals before bad input, the same
validation errors as the case list's ``page``), results in order of registration, the read audited."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.integration.pages import PageClient

from painguide.services import open_uow
from painguide.store.tables import AuditEntry

Clients = dict[str, TestClient]
HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
BAD_PAGES = ["0", "-1", "abc", "", "1.5", "100001", "2e3"]


def test_search_page_lists_matches_and_audits_the_read(clients: Clients, bodies: Any) -> None:
    c = clients["physician"]
    for i, name in enumerate(["Erika Muster", "Emil Mustermann", "Erika Roth"]):
        assert c.post("/api/v1/patients", json=bodies.patient(f"S-{i:03d}", name=name)).status_code == 201
    r = c.get("/patients", params={"q": "eri must"}, headers=HTML)
    assert r.status_code == 200
    assert "S-000" in r.text and "S-001" not in r.text and "S-002" not in r.text
    r = c.get("/patients", params={"q": "mus", "page": "1"}, headers=HTML)
    assert r.text.index("S-000") < r.text.index("S-001") and 'value="mus"' in r.text
    assert "No patient matches." in c.get("/patients", params={"q": "zzz"}, headers=HTML).text
    with open_uow() as uow:
        details = uow.session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "patient.read", AuditEntry.object_id == "*")
        ).all()
    assert [d["query"] for d in details if d] == ["eri must", "mus", "zzz"]


@pytest.mark.parametrize("page", BAD_PAGES)
def test_bad_page_is_refused_as_fastapi_refuses_it_on_the_case_list(clients: Clients, page: str) -> None:
    c = clients["physician"]
    for headers in (HTML, JSON):
        mine = c.get("/patients", params={"q": "x", "page": page}, headers=headers)
        theirs = c.get("/cases", params={"page": page}, headers=headers)
        assert (mine.status_code, theirs.status_code) == (422, 422)
        if headers is JSON:
            assert mine.json() == theirs.json() and mine.json()["detail"][0]["field"] == "page"
        else:
            assert "page: " in mine.text
            assert mine.text.split("<main>")[1] == theirs.text.split("<main>")[1]


def test_refusals_come_before_validation(clients: Clients) -> None:
    bad = {"q": "x", "page": "0"}
    anonymous = PageClient(clients["physician"].app)
    assert anonymous.get("/patients", params=bad, headers=JSON).status_code == 401
    r = anonymous.get("/patients", params=bad, headers=HTML, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=/patients")
    viewer = clients["viewer"].get("/patients", params=bad, headers=JSON)
    assert viewer.status_code == 403 and "patient.read" in viewer.json()["detail"]
    assert clients["physician"].get("/patients", params=bad, headers=JSON).status_code == 422


@pytest.mark.parametrize("case_id", ["abc", "1.5", "-", "1e3"])
def test_case_page_refuses_a_bad_id_as_fastapi_refuses_it_on_the_information_sheet(
    clients: Clients, case_id: str
) -> None:
    c = clients["physician"]
    for headers in (HTML, JSON):
        mine = c.get(f"/cases/{case_id}", headers=headers)
        theirs = c.get(f"/cases/{case_id}/information-sheet", headers=headers)
        assert (mine.status_code, theirs.status_code) == (422, 422)
        if headers is JSON:
            assert mine.json() == theirs.json() and mine.json()["detail"][0]["field"] == "case_id"
        else:
            assert mine.text.split("<main>")[1] == theirs.text.split("<main>")[1]


def test_case_page_refusals_come_before_validation_and_the_read_is_audited(
    clients: Clients, bodies: Any
) -> None:
    anonymous = PageClient(clients["physician"].app)
    assert anonymous.get("/cases/abc", headers=JSON).status_code == 401
    viewer = clients["viewer"].get("/cases/abc", headers=JSON)
    assert viewer.status_code == 403 and "case.read" in viewer.json()["detail"]
    c = clients["physician"]
    patient = c.post("/api/v1/patients", json=bodies.patient("S-100")).json()
    case_id = c.post(f"/api/v1/patients/{patient['id']}/cases", json=bodies.case()).json()["id"]
    r = c.get(f"/cases/{case_id}", headers=HTML)
    assert r.status_code == 200 and "S-100" in r.text
    assert c.get("/cases/999999", headers=JSON).status_code == 404
    with open_uow() as uow:
        reads = uow.session.scalars(
            select(AuditEntry.object_id).where(
                AuditEntry.action == "case.read", AuditEntry.object_type == "case"
            )
        ).all()
    assert str(case_id) in reads
