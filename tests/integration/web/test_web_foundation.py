"""The app shell over HTTP: health, sign-in, roles, catalogue and advisor pages, JSON API, error handling."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from painguide.errors import ConfigurationError


@pytest.fixture
def client(demo_client: TestClient) -> TestClient:
    return demo_client


def test_default_secret_refused_outside_demo() -> None:
    from painguide.web.app import create_app

    with pytest.raises(ConfigurationError, match="PAINGUIDE_SECRET_KEY"):
        create_app()


def test_health_is_open_and_counts_procedures(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok", "procedures": 39, "demo": True}


def test_pages_name_their_icon_so_the_browser_does_not_ask_for_a_missing_one(client: TestClient) -> None:
    """Without a named icon a browser asks for /favicon.ico on every page and logs the 404 as an error."""
    page = client.get("/login")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text
    icon = client.get("/static/favicon.svg")  # before sign-in, as the login page needs it
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg") and "<script" not in icon.text


def test_pages_redirect_to_login_and_api_answers_401(client: TestClient) -> None:
    r = client.get("/", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = client.get("/api/v1/catalogue")
    assert r.status_code == 401 and r.json()["error"] == "LoginRequired"


def test_wrong_password_is_refused_and_audited(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    r = client.post("/login", data={"username": "physician", "password": "nope"})
    assert r.status_code == 401 and "wrong" in r.text
    sign_in(client, "admin")
    assert "login.failed" in client.get("/audit").text


def test_catalogue_page_lists_every_procedure(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    sign_in(client, "trainee")
    r = client.get("/")
    assert r.status_code == 200
    assert r.text.count('href="/procedures/') == 39
    assert "the physician decides" in r.text


def test_procedure_page_shows_sources_and_statuses(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    sign_in(client, "physician")
    r = client.get("/procedures/lumbar-facet-mbb")
    assert r.status_code == 200 and "Rauch2009" in r.text and "verified" in r.text


def test_advisor_page_ranks_and_explains(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    sign_in(client, "physician")
    r = client.get(
        "/advise", params={"procedure": "cervical-facet-mbb", "pregnant": "on", "drug": "apixaban"}
    )
    assert r.status_code == 200
    first = r.text.index('data-modality="ultrasound"')
    assert first < r.text.index('data-modality="fluoroscopy"')
    assert "ACOG723" in r.text and "apixaban" in r.text


def test_advisor_page_shows_field_error_instead_of_crashing(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    sign_in(client, "physician")
    r = client.get("/advise", params={"procedure": "knee-ia", "egfr": "abc"})
    assert r.status_code == 422 and "eGFR (mL/min/1.73 m²): &#39;abc&#39; is not a number" in r.text


def test_api_advise_matches_cli_shape(client: TestClient, sign_in: Callable[[TestClient, str], None]) -> None:
    sign_in(client, "physician")
    r = client.get("/api/v1/advise/lumbar-tfesi", params={"egfr": "25", "drug": ["warfarin"]})
    data = r.json()
    assert r.status_code == 200 and data["procedure"] == "lumbar-tfesi"
    assert data["anticoagulation"][0]["action"] == "hold"
    r = client.get("/api/v1/advise/nope")
    assert r.status_code == 404 and "unknown procedure" in r.json()["detail"]


def test_audit_needs_admin_or_rpo(client: TestClient, sign_in: Callable[[TestClient, str], None]) -> None:
    sign_in(client, "trainee")
    r = client.get("/audit")
    assert r.status_code == 403 and "audit.read needs one of the roles admin, rpo" in r.text
    client.post("/logout")
    sign_in(client, "rpo")
    assert client.get("/audit").status_code == 200


def test_every_navigation_link_opens_for_an_admin(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    import re

    sign_in(client, "admin")
    page = client.get("/").text
    links = sorted(set(re.findall(r'<a href="(/[^"#?]*)"', page)))
    assert {"/advise", "/dose/", "/sono/live", "/sono/review", "/audit"} <= set(links)
    for link in links:
        r = client.get(link, follow_redirects=True)
        assert r.status_code == 200, link


def test_api_schema_needs_sign_in_and_no_cdn_docs(
    client: TestClient, sign_in: Callable[[TestClient, str], None]
) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 401
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404
    sign_in(client, "trainee")
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/advise/{procedure_id}" in schema["paths"]
