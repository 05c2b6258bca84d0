"""Ultrasound pages over HTTP: review stores a summary; the live page streams and takes a signal."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient


def test_upload_review_stores_the_analysis_and_opens_it(client: TestClient, cine_file: Path) -> None:
    assert "cine.dcm" not in client.get("/sono/review").text
    with cine_file.open("rb") as fh:
        r = client.post(
            "/sono/review",
            files={"file": ("cine.dcm", fh, "application/dicom")},
            data={"injection_at": "0.9", "study_instance_uid": "1.2.826.0.1.5"},
            follow_redirects=False,
        )
    assert r.status_code == 303, r.text
    detail = client.get(r.headers["location"])
    assert detail.status_code == 200
    assert "spread onset" in detail.text and "injection start" in detail.text
    page = client.get("/sono/review").text
    assert "1.2.826.0.1.5" in page and "cine.dcm" in page
    assert f'href="{r.headers["location"]}"' in page


def test_upload_of_a_non_dicom_file_is_refused_on_the_page(client: TestClient) -> None:
    r = client.post("/sono/review", files={"file": ("x.dcm", b"nope", "application/dicom")})
    assert r.status_code == 422
    assert 'role="alert"' in r.text and "Traceback" not in r.text
    assert "Stored analyses" in r.text


def test_upload_with_a_bad_injection_time_names_the_field(client: TestClient, cine_file: Path) -> None:
    with cine_file.open("rb") as fh:
        r = client.post(
            "/sono/review",
            files={"file": ("cine.dcm", fh, "application/dicom")},
            data={"injection_at": "soon"},
        )
    assert r.status_code == 422
    assert "injection_at: expected seconds from the first frame" in r.text


def test_live_page_and_injection_signal(client: TestClient, live_reset: None) -> None:
    page = client.get("/sono/live").text
    assert "Live ultrasound guidance" in page and 'name="source"' in page
    assert client.post("/sono/live/injection").json() == {"injection": "started"}
    status = client.get("/sono/live/status").json()
    # the status now names the source and whether it still runs
    assert {"source", "running", "error", "frames", "warnings"} <= set(status)
    assert {"injection_started", "time_s", "needle", "spread", "warning_details"} <= set(status)
    assert status["source"] == "simulated"
    assert status["injection_started"] in (True, False)


def test_live_status_reports_the_latest_tip_and_spread(client: TestClient, live_reset: None) -> None:
    import time

    client.get("/sono/live/status")
    for _ in range(200):  # the simulated source runs in real time; wait for its first frames
        status = client.get("/sono/live/status").json()
        if status["needle"] is not None:
            break
        time.sleep(0.05)
    needle_keys = {"visible", "tip_x_mm", "tip_z_mm", "angle_deg", "length_mm", "confidence"}
    assert set(status["needle"]) == needle_keys
    assert set(status["spread"]) == {"visible", "area_mm2"}
    assert status["time_s"] >= 0


def test_live_page_has_the_side_panel(client: TestClient, live_reset: None) -> None:
    page = client.get("/sono/live").text
    for element in ('id="tip-z"', 'id="spread"', 'class="sono-inject"', 'id="warnings" class="sono-banner"'):
        assert element in page


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("usb", "source: expected dicom:FILE, video:PATH_OR_INDEX, igtl:HOST:PORT or simulated"),
        ("igtl:localhost", "source: expected igtl:HOST:PORT"),
        ("dicom:/etc/passwd", "must name a file uploaded on this page"),
        ("video:clip.mp4", "must name a file uploaded on this page"),
    ],
)
def test_bad_live_source_is_named_on_the_page(
    client: TestClient, live_reset: None, source: str, message: str
) -> None:
    r = client.post("/sono/live/source", data={"source": source})
    assert r.status_code == 422
    assert message in r.text and "Traceback" not in r.text
    assert 'role="alert"' in r.text


def test_video_device_without_pixel_size_is_refused(client: TestClient, live_reset: None) -> None:
    r = client.post("/sono/live/source", data={"source": "video:0"})
    assert r.status_code == 422
    assert "spacing_mm: video sources carry no calibration" in r.text


def test_uploaded_cine_becomes_the_live_source(client: TestClient, live_reset: None, cine_file: Path) -> None:
    with cine_file.open("rb") as fh:
        r = client.post(
            "/sono/live/source",
            files={"file": ("cine.dcm", fh, "application/dicom")},
            follow_redirects=False,
        )
    assert r.status_code == 303
    status = client.get("/sono/live/status").json()
    assert status["source"] == "dicom:cine.dcm"
    assert "cine.dcm" in client.get("/sono/live").text
    assert client.post("/sono/live/source", data={"source": "dicom:cine.dcm"}).status_code == 200
