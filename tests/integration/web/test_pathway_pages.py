"""Care-pathway pages: a refused step shows the form again with every unmet reason and the values entered,
bad input names the field, the case page shows reasons with their sources and overrides, the information
sheet explains the planned modality in both languages, the navigation follows the permission matrix."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

Clients = dict[str, TestClient]
HTML = {"accept": "text/html"}
GERMAN = {"accept": "text/html", "accept-language": "de"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _case(c: TestClient, bodies: Any, pseudonym: str) -> int:
    patient = c.post("/api/v1/patients", json=bodies.patient(pseudonym)).json()
    return int(c.post(f"/api/v1/patients/{patient['id']}/cases", json=bodies.case()).json()["id"])


def test_new_patient_and_case_through_the_forms(clients: Clients) -> None:
    c = clients["trainee"]
    bad = {"pseudonym": "W-0001", "name": "Hans Berg", "birth_year": "19x5", "sex": "male", "egfr": "61,5"}
    r = c.post("/patients", data=bad, headers=HTML)
    assert r.status_code == 422
    assert 'class="field invalid"' in r.text and "birth_year" in r.text
    assert 'value="Hans Berg"' in r.text and 'value="19x5"' in r.text and 'value="61,5"' in r.text  # kept
    r = c.post(
        "/patients", data={**bad, "birth_year": "1955", "egfr_on": "2026-01-10"}, follow_redirects=False
    )
    assert r.status_code == 303
    patient_url = r.headers["location"]
    page = c.get(patient_url).text
    assert "W-0001" in page and "61.5" in page  # decimal comma read as a number
    case = {"complaint": "neck pain", "region": "cervical", "side": "left", "pain_duration_weeks": "12"}
    r = c.post(f"{patient_url}/cases", data=case, follow_redirects=False)
    assert r.status_code == 303 and re.fullmatch(r"/cases/\d+", r.headers["location"])
    assert "neck pain" in c.get(r.headers["location"]).text


def test_refused_step_shows_every_reason_and_keeps_the_values(clients: Clients, bodies: Any) -> None:
    c = clients["physician"]
    case_id = _case(c, bodies, "W-0002")
    form = {
        "procedure": "lumbar-facet-mbb", "levels": "L4/5", "side": "right",
        "rationale": "facet pain, loading positive", "physician": "physician", "on": bodies.today.isoformat(),
    }  # fmt: skip
    r = c.post(f"/cases/{case_id}/steps/indication", data=form, headers=HTML)
    assert r.status_code == 409
    refusal = c.get(f"/api/v1/cases/{case_id}").json()["timeline"][-1]["data"]["unmet"]
    shown = re.search(r'<div class="problem".*?</div>', r.text, re.DOTALL)
    assert shown is not None
    for unmet in refusal:  # every reason of the refusal, with its code and source
        assert f'data-code="{unmet["code"]}"' in shown.group(0) and unmet["message"] in _text(shown.group(0))
        assert (unmet["source"] or "no source") in shown.group(0)
    german = c.post(f"/cases/{case_id}/steps/indication", data=form, headers=GERMAN)
    assert german.status_code == 409
    assert "Keine klinische Untersuchung erfasst." in _text(german.text)  # the reasons in the page's language
    assert "No clinical examination recorded." not in german.text
    timeline = _text(c.get(f"/cases/{case_id}", headers=GERMAN).text)  # stored refusals too
    assert "Keine klinische Untersuchung erfasst." in timeline
    ruled = [u for u in refusal if u["code"] == "conservative_therapy_missing"]  # a policy rule's own text
    assert ruled and ruled[0]["message"].split(" No failed")[0] not in timeline
    assert "Keine erfolglose konservative Therapie erfasst." in timeline
    assert len(re.findall(r"<li data-code=", shown.group(0))) == len(refusal) >= 3
    assert 'value="L4/5"' in r.text and "facet pain, loading positive</textarea>" in r.text
    assert re.search(r'<option value="lumbar-facet-mbb" selected>', r.text)
    assert c.get(f"/api/v1/cases/{case_id}").json()["indication"] is None


def test_case_page_lists_reasons_overrides_and_the_next_step(clients: Clients, bodies: Any) -> None:
    c = clients["physician"]
    case_id = _case(c, bodies, "W-0003")
    for step, body in bodies.steps()[:5]:
        c.post(f"/api/v1/cases/{case_id}/{step}", json=body)
    reason = "patient travels abroad, consent taken by the referring colleague"
    r = c.post(
        f"/cases/{case_id}/overrides", data={"code": "consent_missing", "reason": "short"}, headers=HTML
    )
    assert r.status_code == 422 and "reason" in r.text and ">short</textarea>" in r.text
    r = c.post(f"/cases/{case_id}/overrides", data={"code": "consent_missing", "reason": reason})
    assert r.status_code == 200 and "Case " in r.text  # followed to the case page
    page = _text(r.text)
    assert "Next step: Scheduling" in page
    assert "consent_missing · by physician" in page and reason in page
    assert 'data-kind="override"' in r.text and 'data-kind="plan"' in r.text
    german = _text(c.get(f"/cases/{case_id}", headers=GERMAN).text)
    assert "Nächster Schritt: Terminierung" in german and "Übersteuerungen" in german


def test_advisor_panel_shows_the_ranking_the_plan_stores(clients: Clients, bodies: Any) -> None:
    c = clients["physician"]
    case_id = _case(c, bodies, "W-0004")
    for step, body in bodies.steps()[:4]:
        c.post(f"/api/v1/cases/{case_id}/{step}", json=body)
    panel = c.get(f"/cases/{case_id}/steps/plan").text
    shown = re.findall(r'data-modality="(\w+)"', panel)
    r = c.post(f"/cases/{case_id}/steps/plan", data={"modality": shown[1]}, headers=HTML)
    assert r.status_code == 422 and "reason" in r.text  # not the top-ranked: a reason is required
    assert re.search(rf'value="{shown[1]}" checked', r.text)
    c.post(f"/cases/{case_id}/steps/plan", data={"modality": shown[0]})
    stored = c.get(f"/api/v1/cases/{case_id}").json()["plan"]["ranking"]["modalities"]
    assert [m["modality"] for m in stored] == shown


def test_information_sheet_explains_the_modality_in_both_languages(clients: Clients, bodies: Any) -> None:
    c = clients["physician"]
    case_id = _case(c, bodies, "W-0005")
    assert c.get(f"/cases/{case_id}/information-sheet", headers=HTML).status_code == 422  # no plan yet
    for step, body in bodies.steps()[:7]:
        c.post(f"/api/v1/cases/{case_id}/{step}", json=body)
    english = _text(c.get(f"/cases/{case_id}/information-sheet").text)
    assert "This procedure uses X-rays." in english and "Alternatives without X-rays" in english
    assert "ultrasound" in english and "BMI 36" in english  # the alternative and why it was not chosen
    assert "☢☢" in english  # the catalogue's relative radiation level, with its provenance
    german = _text(c.get(f"/cases/{case_id}/information-sheet", headers=GERMAN).text)
    assert "Dieser Eingriff arbeitet mit Röntgenstrahlen." in german and "Ultraschall" in german
    assert "Medial-Branch" in german or "Facettengelenk" in german  # the procedure's German name


def test_navigation_follows_the_permission_matrix(clients: Clients) -> None:
    for role, shown in {"physician": True, "rpo": True, "viewer": False}.items():
        page = clients[role].get("/").text
        assert ('href="/patients"' in page) is shown, role
        assert ('href="/cases"' in page) is shown, role
    assert clients["viewer"].get("/patients", headers=HTML).status_code == 403
    assert clients["rpo"].get("/patients/new", headers=HTML).status_code == 403
