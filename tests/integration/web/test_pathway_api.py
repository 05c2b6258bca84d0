"""The care pathway's REST API (/api/v1): every endpoint's happy path, 409 with every unmet code and nothing
else written, 422 naming the field, 403 where the permission matrix refuses, the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from painguide.auth import permission_matrix
from painguide.pathway.gates import GATE_CODES

Clients = dict[str, TestClient]


def _new_case(c: TestClient, bodies: Any, pseudonym: str = "T-0001", **case: Any) -> dict[str, Any]:
    patient = c.post("/api/v1/patients", json=bodies.patient(pseudonym))
    assert patient.status_code == 201, patient.text
    r = c.post(f"/api/v1/patients/{patient.json()['id']}/cases", json=bodies.case(**case))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_case_through_every_step(clients: Clients, bodies: Any) -> None:
    c = clients["physician"]
    case = _new_case(c, bodies)
    assert (case["stage"], case["next_step"]) == ("workup", "diagnostics")
    assert case["unmet"] == []  # nothing blocks recording diagnostics
    seen = []
    for step, body in bodies.steps():
        r = c.post(f"/api/v1/cases/{case['id']}/{step}", json=body)
        assert r.status_code == 200, (step, r.text)
        seen.append((step, r.json()["stage"], r.json()["next_step"]))
    assert seen[3] == ("indication", "planning", "plan")
    assert seen[4][2] == "schedule" and seen[5][2] == "justification"
    assert seen[-2] == ("procedure", "follow_up", "follow_ups")
    case = c.get(f"/api/v1/cases/{case['id']}").json()
    assert case["indication"]["levels"] == ["L4-L5"]  # one spelling
    assert case["justification"]["qualification"]["certificate"] == "FK-T1"
    assert case["plan"]["ranking"]["modalities"][0]["modality"] == "fluoroscopy"
    follow_ups = case["follow_ups"]
    assert [f["days_after"] for f in follow_ups] == [14, 42]
    for f in follow_ups:
        result = {"on": bodies.today.isoformat(), "nrs": 2, "pgic": "much_improved"}
        r = c.post(f"/api/v1/cases/{case['id']}/follow-ups/{f['id']}", json=result)
        assert r.status_code == 200, r.text
    assert (r.json()["stage"], r.json()["next_step"], r.json()["unmet"]) == ("closed", None, [])
    # the procedure, by accession number and by id
    accession = case["procedure"]["accession_number"]
    found = c.get("/api/v1/procedures", params={"accession": accession}).json()
    assert [p["accession_number"] for p in found] == [accession] and found[0]["case_id"] == case["id"]
    one = c.get(f"/api/v1/procedures/{found[0]['id']}").json()
    assert one["status"] == "performed" and one["modality"] == "fluoroscopy"
    assert c.get("/api/v1/procedures", params={"accession": "NOPE1"}).json() == []
    assert c.get("/api/v1/procedures/9999").status_code == 404


def test_patients_and_cases_listings(clients: Clients, bodies: Any) -> None:
    c = clients["trainee"]
    for i in range(5):
        c.post("/api/v1/patients", json=bodies.patient(f"L-{i:04d}", name=f"Jana Mü{i}ller"))
    page = c.get("/api/v1/patients", params={"q": "l-", "limit": 2, "offset": 2}).json()
    assert page["total"] == 5 and [p["pseudonym"] for p in page["items"]] == ["L-0002", "L-0003"]
    assert c.get("/api/v1/patients", params={"q": "jana mü2"}).json()["total"] == 1
    patient = c.get("/api/v1/patients", params={"q": "L-0001"}).json()["items"][0]
    case = c.post(f"/api/v1/patients/{patient['id']}/cases", json=bodies.case()).json()
    detail = c.get(f"/api/v1/patients/{patient['id']}").json()
    assert [x["id"] for x in detail["cases"]] == [case["id"]] and detail["record"]["egfr"] == 85
    workup = c.get("/api/v1/cases", params={"stage": "workup"}).json()
    assert workup["total"] == 1 and workup["items"][0]["pseudonym"] == "L-0001"
    assert c.get("/api/v1/cases", params={"stage": "ready"}).json() == {
        "items": [], "total": 0, "limit": 20, "offset": 0,
    }  # fmt: skip


def test_refusal_answers_409_with_every_unmet_code_and_writes_nothing_else(
    clients: Clients, bodies: Any
) -> None:
    c = clients["physician"]
    case = _new_case(c, bodies, nrs=None, disability_scale=None, disability_score=None, pain_duration_weeks=2)
    indication = dict(bodies.steps()[3][1])
    r = c.post(f"/api/v1/cases/{case['id']}/indication", json=indication)
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "gate_refused" and body["step"] == "indication"
    codes = [u["code"] for u in body["unmet"]]
    assert {"diagnostics_missing", "conservative_therapy_missing"} == set(codes)
    assert len(codes) >= 3  # no examination or imaging, no baseline scores, no conservative therapy
    assert set(codes) <= set(GATE_CODES)
    assert all(set(u) == {"code", "message", "source"} and u["message"] for u in body["unmet"])
    assert any(u["source"] for u in body["unmet"])  # the rules' sources travel with the reasons
    after = c.get(f"/api/v1/cases/{case['id']}").json()
    assert after["indication"] is None and after["next_step"] == "diagnostics"
    assert after["timeline"][-1]["kind"] == "refusal"
    stored = after["timeline"][-1]["data"]["unmet"]  # the contract's keys, and the message's template
    assert [{k: u[k] for k in ("code", "message", "source")} for u in stored] == body["unmet"]
    assert all(u["text"] for u in stored)
    assert [t["kind"] for t in after["timeline"]] == ["opened", "refusal"]


def test_override_lifts_a_code_with_a_written_reason(clients: Clients, bodies: Any) -> None:
    c = clients["physician"]
    case = _new_case(c, bodies, "T-0002")
    url = f"/api/v1/cases/{case['id']}"
    refused = c.post(f"{url}/indication", json=bodies.steps()[3][1])
    assert refused.status_code == 409
    short = c.post(f"{url}/overrides", json={"code": "diagnostics_missing", "reason": "x"})
    assert short.status_code == 422 and short.json()["detail"][0]["field"] == "reason"
    unknown = c.post(f"{url}/overrides", json={"code": "nope", "reason": "a" * 20})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "code"
    reason = "examined at the referring hospital, report on file"
    r = c.post(f"{url}/overrides", json={"code": "diagnostics_missing", "reason": reason})
    assert r.status_code == 201, r.text
    [override] = r.json()["overrides"]
    assert (override["code"], override["by"]) == ("diagnostics_missing", "physician")
    assert override["reason"] == reason
    assert override["unmet"] and {u["code"] for u in override["unmet"]} == {"diagnostics_missing"}
    again = c.post(f"{url}/indication", json=bodies.steps()[3][1])
    assert again.status_code == 409  # the override lifted its code only
    assert {u["code"] for u in again.json()["unmet"]} == {"conservative_therapy_missing"}


def test_bad_input_answers_422_naming_the_field(clients: Clients, bodies: Any) -> None:
    c = clients["physician"]
    case = _new_case(c, bodies, "T-0003")
    cid = case["id"]
    wrong: list[str] = []
    day = "2026-01-01"
    consent = {**bodies.steps()[7][1], "radiation_explained": False}
    checks: list[tuple[str, dict[str, Any], str]] = [
        ("/api/v1/patients", bodies.patient("T-0009", birth_year="abc"), "birth_year"),
        ("/api/v1/patients", bodies.patient("T-0009", egfr_on=None), "egfr_on"),
        ("/api/v1/patients", bodies.patient("T 9"), "pseudonym"),
        ("/api/v1/patients", bodies.patient("T-0003"), "pseudonym"),  # in use
        ("/api/v1/patients", bodies.patient("T-0009", drugs=["aspirine"]), "drugs"),
        (f"/api/v1/patients/{case['patient']['id']}/cases", bodies.case(nrs=11), "nrs"),
        (f"/api/v1/cases/{cid}/diagnostics", {"kind": "exam", "on": day, "examiner": "x"}, "findings"),
        (f"/api/v1/cases/{cid}/diagnostics", {"kind": "lab", "on": day, "test": "crp", "value": 1}, "test"),
        (f"/api/v1/cases/{cid}/conservative-therapies", {"type": "yoga"}, "type"),
        (f"/api/v1/cases/{cid}/plan", {"modality": "xray"}, "modality"),
        (f"/api/v1/cases/{cid}/schedule", {"at": "2026-03-01T09:00:00"}, "at"),
        (f"/api/v1/cases/{cid}/checklist", {"items": {"identity": "perhaps"}}, "items.identity"),
        (f"/api/v1/cases/{cid}/follow-ups", {"days_after": "soon"}, "days_after"),
        (f"/api/v1/cases/{cid}/consent", consent, "radiation_explained"),
    ]  # fmt: skip
    for path, body, field in checks:
        r = c.post(path, json=body)
        detail = r.json().get("detail") if r.status_code == 422 else None
        if r.status_code != 422 or r.json()["error"] != "validation" or not detail:
            wrong.append(f"{path} {body}: {r.status_code} {r.text[:200]}")
        elif not any(d["field"].endswith(field) and d["message"] for d in detail):
            wrong.append(f"{path}: expected field {field!r}, got {detail}")
    assert not wrong, "\n".join(wrong)
    # and none of those left anything behind
    assert c.get("/api/v1/patients", params={"q": "T-0009"}).json()["total"] == 0
    assert [t["kind"] for t in c.get(f"/api/v1/cases/{cid}").json()["timeline"]] == ["opened"]


def test_reason_required_when_not_the_top_ranked_modality(clients: Clients, bodies: Any) -> None:
    c = clients["physician"]
    case = _new_case(c, bodies, "T-0004")
    for step, body in bodies.steps()[:4]:
        assert c.post(f"/api/v1/cases/{case['id']}/{step}", json=body).status_code == 200
    r = c.post(f"/api/v1/cases/{case['id']}/plan", json={"modality": "ultrasound"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "reason"
    chosen = {"modality": "ultrasound", "reason": "pregnancy planned"}
    r = c.post(f"/api/v1/cases/{case['id']}/plan", json=chosen)
    assert r.status_code == 200 and r.json()["plan"]["top_modality"] == "fluoroscopy"
    assert r.json()["next_step"] == "schedule"


def test_roles_the_matrix_refuses_get_403(clients: Clients, bodies: Any) -> None:
    case = _new_case(clients["physician"], bodies, "T-0005")
    cid = case["id"]
    matrix = permission_matrix()
    override = {"code": "consent_missing", "reason": "r" * 12}
    calls = [
        ("GET", "/api/v1/patients", "patient.read", None),
        ("POST", "/api/v1/patients", "patient.write", bodies.patient("T-0006")),
        ("GET", f"/api/v1/cases/{cid}", "case.read", None),
        ("POST", f"/api/v1/cases/{cid}/diagnostics", "case.write", bodies.steps()[0][1]),
        ("POST", f"/api/v1/cases/{cid}/justification", "case.justify", bodies.steps()[6][1]),
        ("POST", f"/api/v1/cases/{cid}/procedure", "case.procedure", bodies.steps()[9][1]),
        ("POST", f"/api/v1/cases/{cid}/follow-ups", "case.followup", {"days_after": [14]}),
        ("POST", f"/api/v1/cases/{cid}/overrides", "case.override", override),
        ("GET", "/api/v1/procedures?accession=PG1", "case.read", None),
    ]  # fmt: skip
    wrong = []
    refused = 0
    for role, client in clients.items():
        for method, path, action, body in calls:
            if role in matrix.roles_for(action):
                continue
            refused += 1
            r = client.request(method, path, json=body)
            if r.status_code != 403:
                wrong.append(f"{role} {method} {path}: {r.status_code}")
    assert refused >= 12 and not wrong, "\n".join(wrong)
    # nothing the refused calls carried was written
    timeline = clients["physician"].get(f"/api/v1/cases/{cid}").json()["timeline"]
    assert [t["kind"] for t in timeline] == ["opened"]


def test_schema_documents_the_pathway_routes(clients: Clients) -> None:
    schema = clients["viewer"].get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/patients", "/api/v1/patients/{patient_id}/cases", "/api/v1/cases", "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/diagnostics", "/api/v1/cases/{case_id}/conservative-therapies",
        "/api/v1/cases/{case_id}/indication", "/api/v1/cases/{case_id}/plan",
        "/api/v1/cases/{case_id}/justification", "/api/v1/cases/{case_id}/consent",
        "/api/v1/cases/{case_id}/checklist", "/api/v1/cases/{case_id}/procedure",
        "/api/v1/cases/{case_id}/follow-ups", "/api/v1/cases/{case_id}/overrides", "/api/v1/procedures",
        "/api/v1/procedures/{procedure_id}",
    ):  # fmt: skip
        assert path in paths, path
    assert {"get", "post"} <= set(paths["/api/v1/patients"])
    indication = paths["/api/v1/cases/{case_id}/indication"]["post"]
    assert indication["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/GateRefusal"
    )
    components = schema["components"]["schemas"]
    assert {"Patient", "CaseOut", "GateRefusal", "Indication", "ValidationProblem"} <= set(components)
    assert {"unmet", "next_step", "overrides"} <= set(components["CaseOut"]["properties"])
    assert not any(p.startswith(("/patients", "/cases")) for p in paths)  # pages are not in the API schema
