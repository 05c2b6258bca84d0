"""Ultrasound pages over HTTP: review stores a summary; the live page streams and takes a signal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from painguide.demo import DEMO_PASSWORD
from painguide.settings import get_settings


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("PAINGUIDE_DEMO", "1")
    get_settings.cache_clear()
    from painguide.web.app import create_app

    with TestClient(create_app()) as c:
        r = c.post("/login", data={"username": "physician", "password": DEMO_PASSWORD, "next": "/"})
        assert r.status_code in (200, 303)
        yield c


def test_upload_review_stores_the_analysis(client: TestClient, cine_file: Path) -> None:
    assert "No analyses stored yet" in client.get("/sono/review").text
    with cine_file.open("rb") as fh:
        r = client.post(
            "/sono/review",
            files={"file": ("cine.dcm", fh, "application/dicom")},
            data={"injection_at": "0.9", "study_instance_uid": "1.2.826.0.1.5"},
        )
    assert r.status_code == 200, r.text
    assert "spread_onset" in r.text and "injection_start" in r.text
    page = client.get("/sono/review").text
    assert "1.2.826.0.1.5" in page and "cine.dcm" in page


def test_upload_of_a_non_dicom_file_is_refused(client: TestClient) -> None:
    r = client.post("/sono/review", files={"file": ("x.dcm", b"nope", "application/dicom")})
    assert r.status_code == 422


def test_live_page_and_injection_signal(client: TestClient) -> None:
    assert "Live ultrasound guidance" in client.get("/sono/live").text
    assert client.post("/sono/live/injection").json() == {"injection": "started"}
    status = client.get("/sono/live/status").json()
    assert set(status) == {"frames", "warnings"}
