"""REST API under /api/v1: old paths redirect, the schema covers only v1, bad input names the field."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

SignIn = Callable[[TestClient, str], None]


@pytest.fixture
def client(demo_client: TestClient, sign_in: SignIn) -> TestClient:
    sign_in(demo_client, "physician")
    return demo_client


MOVED = [
    ("/api/catalogue", "/api/v1/catalogue"),
    ("/api/catalogue/knee-ia", "/api/v1/catalogue/knee-ia"),
    ("/api/advise/knee-ia?egfr=25&drug=warfarin", "/api/v1/advise/knee-ia?egfr=25&drug=warfarin"),
    ("/api/openapi.json", "/api/v1/openapi.json"),
]


def test_old_paths_redirect_permanently(client: TestClient) -> None:
    for old, new in MOVED:
        r = client.get(old, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (308, new), old
        assert client.get(old).json() == client.get(new).json(), old


def test_catalogue_lists_every_procedure(client: TestClient) -> None:
    data = client.get("/api/v1/catalogue").json()
    assert len(data) == 39 and {"id", "name", "name_de"} <= set(data[0])
    one = client.get("/api/v1/catalogue/knee-ia").json()
    assert one["id"] == "knee-ia" and "modalities" in one


def test_schema_has_only_v1_routes_and_the_validation_shape(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert {
        "/api/v1/advise/{procedure_id}",
        "/api/v1/catalogue",
        "/api/v1/catalogue/{procedure_id}",
    } <= set(schema["paths"])
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    advise = schema["paths"]["/api/v1/advise/{procedure_id}"]["get"]
    assert {p["name"] for p in advise["parameters"]} >= {"procedure_id", "egfr", "pregnant", "drug"}
    assert advise["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ValidationProblem"
    )


def test_bad_query_parameters_answer_422_naming_each_field(client: TestClient) -> None:
    r = client.get("/api/v1/advise/lumbar-tfesi", params={"egfr": "abc", "pregnant": "perhaps", "egrf": "25"})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "validation"
    assert sorted(p["field"] for p in body["detail"]) == ["egfr", "egrf", "pregnant"]
    assert all(p["message"] for p in body["detail"])


def test_out_of_range_value_uses_the_same_shape(client: TestClient) -> None:
    r = client.get("/api/v1/advise/lumbar-tfesi", params={"egfr": "500"})
    assert r.status_code == 422
    assert r.json() == {
        "error": "validation",
        "detail": [{"field": "egfr", "message": "500.0 is out of range; give 0-200 mL/min/1.73 m²"}],
    }


def test_page_with_a_bad_parameter_shows_the_field(client: TestClient) -> None:
    r = client.get("/dose/", params={"kind": "mri"}, headers={"accept": "text/html"})
    assert r.status_code == 422 and "Kind:" in r.text and '<p class="error"' in r.text
