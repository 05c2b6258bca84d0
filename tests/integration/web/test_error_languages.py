"""Error messages follow the page's language: a domain ValidationError and a request's invalid parameter read
in German on German pages (the field named), in English on English pages, and the API keeps its English
``{"error": "validation", "detail": [{"field", "message"}]}`` whatever the browser asks for."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from painguide.web.routes import sono

Clients = dict[str, TestClient]
GERMAN = {"accept": "text/html", "accept-language": "de"}
ENGLISH = {"accept": "text/html", "accept-language": "en"}
API_GERMAN = {"accept": "application/json", "accept-language": "de"}


def _alerts(html: str) -> list[str]:
    """The error paragraphs and the messages beside the form fields."""
    found = (re.sub(r"\s+", " ", m).strip() for m in re.findall(r'role="alert"[^>]*>([^<]+)<', html))
    return [text for text in found if text]


def _corrections(html: str) -> list[str]:
    """The message above a form ("Please correct: …")."""
    return re.findall(r"</strong> ([^<]+)</p>", html.split('id="problem"', 1)[-1].split("</div>", 1)[0])


def test_a_domain_error_reads_in_the_page_language_and_the_api_stays_english(clients: Clients) -> None:
    c = clients["physician"]
    url = "/advise?procedure=lumbar-facet-mbb&egfr=500"
    r = c.get(url, headers=GERMAN)
    german = _alerts(r.text)
    assert r.status_code == 422 and german == [
        "eGFR (mL/min/1,73 m²): 500,0 liegt außerhalb des plausiblen Bereichs; "
        "zulässig sind 0–200 mL/min/1,73 m²"
    ]
    english = _alerts(c.get(url, headers=ENGLISH).text)
    assert english == ["eGFR (mL/min/1.73 m²): 500.0 is out of range; give 0-200 mL/min/1.73 m²"]
    r = c.get("/api/v1/advise/lumbar-facet-mbb?egfr=500", headers=API_GERMAN)
    assert r.status_code == 422
    assert r.json() == {
        "error": "validation",
        "detail": [{"field": "egfr", "message": "500.0 is out of range; give 0-200 mL/min/1.73 m²"}],
    }


def test_an_invalid_query_parameter_reads_in_the_page_language(clients: Clients) -> None:
    c = clients["physician"]
    cases = [
        ("x", "page: muss eine ganze Zahl sein", "Input should be a valid integer, unable to parse string"),
        ("0", "page: muss mindestens 1 sein", "page: Input should be greater than or equal to 1"),
    ]
    for page, german, english in cases:
        r = c.get(f"/patients?page={page}", headers=GERMAN)
        assert r.status_code == 422 and _alerts(r.text) == [german]
        assert "Input should" not in r.text and '<html lang="de">' in r.text
        r = c.get(f"/patients?page={page}", headers=ENGLISH)
        assert r.status_code == 422 and english in _alerts(r.text)[0]
    r = c.get("/api/v1/cases?limit=x", headers=API_GERMAN)
    assert r.status_code == 422
    message = "Input should be a valid integer, unable to parse string as an integer"
    assert r.json() == {"error": "validation", "detail": [{"field": "limit", "message": message}]}


def test_form_errors_read_in_the_page_language(clients: Clients) -> None:
    c = clients["trainee"]
    form = {"pseudonym": "L-0001", "name": "Hans Berg", "birth_year": "19x5", "sex": "male", "egfr": "61,5"}
    r = c.post("/patients", data=form, headers=GERMAN)  # pydantic's check, through the form
    assert r.status_code == 422
    assert _corrections(r.text) == ["Geburtsjahr: muss eine ganze Zahl sein"]
    assert _alerts(r.text) == ["Geburtsjahr: muss eine ganze Zahl sein"]  # beside the field
    r = c.post("/patients", data={**form, "birth_year": "1955"}, headers=GERMAN)  # the record's own check
    assert _corrections(r.text) == ["eGFR gemessen am: bitte das Datum des eGFR-Werts angeben"]
    r = c.post("/patients", data={**form, "birth_year": "1955"}, headers=ENGLISH)
    assert _corrections(r.text) == ["eGFR measured on: give the date of the eGFR value"]
    registered = {**form, "birth_year": "1955", "egfr_on": "2026-01-10"}
    assert c.post("/patients", data=registered, follow_redirects=False).status_code == 303
    r = c.post("/patients", data=registered, headers=GERMAN)  # a service's check, with a value
    assert r.status_code == 422
    expected = "Pseudonym: &#39;L-0001&#39; ist bereits vergeben; bitte ein anderes Pseudonym wählen"
    assert _corrections(r.text) == [expected] == _alerts(r.text)


def test_an_upload_over_the_limit_is_refused_in_the_page_language(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sono.UPLOAD_LIMITS, "/sono/review", 50_000)
    c = clients["physician"]
    upload = {"file": ("big.dcm", bytes(80_000), "application/dicom")}
    r = c.post("/sono/review", files=upload, headers=GERMAN)
    assert r.status_code == 413
    assert _alerts(r.text) == [
        "DICOM-Cine: die Datei ist größer als die Grenze von 0,0477 MB für /sono/review; "
        "bitte einen kürzeren Ausschnitt oder eine kleinere Datei exportieren"
    ]
    r = c.post("/sono/review", files=upload, headers={"accept": "application/json", "accept-language": "de"})
    assert r.status_code == 413 and r.json() == {
        "error": "UploadTooLargeError",
        "detail": "file: the upload is larger than the 0.0477 MB limit of /sono/review; "
        "export a shorter clip or a smaller file",
    }


def test_a_refused_permission_reads_in_the_page_language_and_the_api_stays_english(clients: Clients) -> None:
    c = clients["physician"]
    r = c.get("/audit", headers=GERMAN)
    assert r.status_code == 403
    assert _alerts(r.text) == ["audit.read erfordert eine der Rollen admin, rpo; physician hat physician"]
    r = c.get("/audit", headers=ENGLISH)
    assert _alerts(r.text) == ["audit.read needs one of the roles admin, rpo; physician has physician"]
    r = c.get("/audit", headers=API_GERMAN)  # a client asking for JSON
    assert r.status_code == 403
    assert "audit.read needs one of the roles admin, rpo; physician has physician" in r.text
