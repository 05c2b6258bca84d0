"""Ultrasound pages over HTTP: review stores a summary; the live page streams and takes a signal."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def test_the_same_cine_uploaded_again_with_the_same_result_is_not_stored_twice(
    client: TestClient, cine_file: Path
) -> None:
    """A second click, or the same clip sent again: one analysis, the repeat audited and said on the page.
    Another injection start is another analysis."""
    from painguide.services import open_uow
    from painguide.store.audit import list_audit

    def upload(injection_at: str) -> str:
        with cine_file.open("rb") as fh:
            r = client.post(
                "/sono/review",
                files={"file": ("again.dcm", fh, "application/dicom")},
                data={"injection_at": injection_at, "study_instance_uid": "1.2.826.0.1.77"},
                follow_redirects=False,
            )
        assert r.status_code == 303, r.text
        return str(r.headers["location"])

    first, second, later = upload("0.9"), upload("0.9"), upload("1.2")
    analysis = first.rsplit("/", 1)[1]
    assert second == f"{first}?repeated=1"
    assert later != first and "repeated" not in later
    assert "nothing new was stored" in client.get(second).text
    assert "nothing new was stored" not in client.get(first).text
    page = client.get("/sono/review").text
    assert page.count("1.2.826.0.1.77") == 2  # two analyses of that study, not three
    with open_uow() as uow:
        entries = sorted(
            (e for e in list_audit(uow.session, limit=500) if e.object_id == analysis), key=lambda e: e.id
        )
    assert [e.action for e in entries if e.action.startswith("sono.analysis.")] == [
        "sono.analysis.add",
        "sono.analysis.repeat",
    ]


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
    assert "Injection start (s, optional): expected seconds from the first frame" in r.text


def test_upload_with_an_injection_time_after_the_cine_names_the_field_and_its_range(
    client: TestClient, cine_file: Path
) -> None:
    with cine_file.open("rb") as fh:
        r = client.post(
            "/sono/review",
            files={"file": ("cine.dcm", fh, "application/dicom")},
            data={"injection_at": "500"},
        )
    assert r.status_code == 422 and "Traceback" not in r.text
    assert "Injection start (s, optional): 500.0 s lies after the cine&#39;s last frame" in r.text
    assert "give a time from 0 to" in r.text
    assert "Stored analyses" in r.text  # the page, with the upload form to try again


def _start(client: TestClient, source: str = "simulated", **files: object) -> str:
    """Start the signed-in user's live session; returns its id."""
    r = client.post("/sono/live/source", data={"source": source}, follow_redirects=False, **files)  # type: ignore[arg-type]
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("=", 1)[1]


def test_live_page_and_injection_signal(client: TestClient, live_reset: None) -> None:
    page = client.get("/sono/live").text
    assert "Live ultrasound guidance" in page and 'name="source"' in page
    assert "You have no live session" in page
    session = _start(client)
    assert client.post(f"/sono/live/{session}/injection").json() == {"injection": "started"}
    status = client.get(f"/sono/live/{session}/status").json()
    assert {"source", "running", "error", "frames", "warnings", "alerts", "unacknowledged"} <= set(status)
    assert {"injection_started", "time_s", "needle", "spread", "warning_details", "sessions"} <= set(status)
    assert status["source"] == "simulated" and status["owner"] == "physician" and status["can_control"]
    assert status["injection_started"] is True


def _status_once(client: TestClient, session: str, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The session's status once ``ready`` holds, or after 20 s (the simulated source runs in real time;
    a bounded wait for its frames, not a speed check)."""
    status: dict[str, Any] = {}
    for _ in range(400):
        status = client.get(f"/sono/live/{session}/status").json()
        if ready(status):
            break
        time.sleep(0.05)
    return status


def test_live_status_reports_the_latest_tip_and_spread(client: TestClient, live_reset: None) -> None:
    session = _start(client)
    status = _status_once(client, session, lambda s: s["needle"] is not None)
    needle_keys = {"visible", "tip_x_mm", "tip_z_mm", "angle_deg", "length_mm", "confidence"}
    assert set(status["needle"]) == needle_keys
    assert set(status["spread"]) == {"visible", "area_mm2"}
    assert status["time_s"] >= 0


def test_live_page_has_the_side_panel(client: TestClient, live_reset: None) -> None:
    session = _start(client)
    page = client.get(f"/sono/live?session={session}").text
    for element in ('id="tip-z"', 'id="spread"', 'class="sono-inject"', 'id="warnings" class="sono-banner"'):
        assert element in page
    assert f"/sono/live/{session}/stream" in page and "/static/sono-live.js" in page
    # drawn by the page's script onto a canvas; without scripts the stream is an image
    assert '<canvas id="stream"' in page and f'data-src="/sono/live/{session}/stream"' in page
    assert f'<noscript><img src="/sono/live/{session}/stream"' in page and 'id="stream-stale"' in page
    # the source form says it is working while an upload is sent (static/painguide.js, form[data-busy])
    assert 'data-busy="Starting the source: %(seconds)s s so far."' in page and "data-busy-note" in page


def test_each_stream_part_carries_its_length(client: TestClient, live_reset: None) -> None:
    """A reader cuts a part out by its Content-Length as soon as its bytes are in (sono-live.js)."""
    session = _start(client)
    _status_once(client, session, lambda s: s["frames"] >= 3)
    with client.stream("GET", f"/sono/live/{session}/stream?images=2") as stream:
        body = stream.read()
    head = rb"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: (\d+)\r\nX-Painguide-Warnings: 0\r\n\r\n"
    parts = re.findall(head, body)
    assert len(parts) == 2
    rest = body
    for length in parts:
        start = rest.index(b"\r\n\r\n") + 4
        jpeg = rest[start : start + int(length)]
        assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"  # exactly one whole JPEG
        rest = rest[start + int(length) :]
        assert rest.startswith(b"\r\n")
    assert rest == b"\r\n"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("usb", "Source: expected dicom:FILE, video:PATH_OR_INDEX, igtl:HOST:PORT or simulated"),
        ("igtl:localhost", "Source: expected igtl:HOST:PORT"),
        ("dicom:/etc/passwd", "must name a file you uploaded on this page"),
        ("video:clip.mp4", "must name a file you uploaded on this page"),
        ("igtl:10.0.0.7:18944", "is not allowed (allowed: 127.0.0.0/8"),
    ],
)
def test_bad_live_source_is_named_on_the_page(
    client: TestClient, live_reset: None, source: str, message: str
) -> None:
    r = client.post("/sono/live/source", data={"source": source})
    assert r.status_code == 422
    assert message in r.text and "Traceback" not in r.text
    assert 'role="alert"' in r.text


def test_unreachable_openigtlink_source_is_refused_with_the_reason(
    client: TestClient, live_reset: None
) -> None:
    import socket

    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = client.post("/sono/live/source", data={"source": f"igtl:127.0.0.1:{port}"})
    assert r.status_code == 502
    assert f"igtl:127.0.0.1:{port}: cannot connect (Connection refused)" in r.text


def test_allowed_hosts_setting_admits_a_listed_network(
    client: TestClient, live_reset: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from painguide.settings import get_settings

    monkeypatch.setenv("PAINGUIDE_IGTL_ALLOWED_HOSTS", "10.0.0.0/24")
    get_settings.cache_clear()
    r = client.post("/sono/live/source", data={"source": "igtl:127.0.0.1:18944"})
    assert r.status_code == 422 and "is not allowed (allowed: 10.0.0.0/24)" in r.text


def test_video_device_without_pixel_size_is_refused(client: TestClient, live_reset: None) -> None:
    r = client.post("/sono/live/source", data={"source": "video:0"})
    assert r.status_code == 422
    assert "Pixel size (mm, video only): video sources carry no calibration" in r.text


@pytest.mark.parametrize("value", ["-1", "nan", "0"])
def test_a_pixel_size_that_cannot_be_right_is_refused(
    client: TestClient, live_reset: None, value: str
) -> None:
    """Also for the simulated source, which does not use it: a mistyped value is named, never ignored."""
    r = client.post("/sono/live/source", data={"source": "simulated", "spacing_mm": value})
    assert r.status_code == 422
    assert "Pixel size (mm, video only): expected a positive pixel size in mm such as 0.1, got" in r.text
    assert client.get("/sono/live/sessions").json()["sessions"] == []  # nothing was started


def test_uploaded_cine_becomes_the_live_source(client: TestClient, live_reset: None, cine_file: Path) -> None:
    with cine_file.open("rb") as fh:
        session = _start(client, "", files={"file": ("cine.dcm", fh, "application/dicom")})
    status = client.get(f"/sono/live/{session}/status").json()
    assert status["source"] == "dicom:cine.dcm"
    assert "cine.dcm" in client.get("/sono/live").text
    again = client.post("/sono/live/source", data={"source": "dicom:cine.dcm"}, follow_redirects=False)
    assert again.status_code == 303
    # one session per operator: the second source replaced the first in the same session
    assert [s["id"] for s in client.get("/sono/live/sessions").json()["sessions"]] == [session]
