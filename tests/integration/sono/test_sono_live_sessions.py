"""Live sessions per operator: ownership, supervisors, watchers, viewers, audited actions, acknowledgement."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.integration.pages import PageClient

from painguide.demo import DEMO_PASSWORD


def _start(client: TestClient, source: str = "simulated", **kwargs: Any) -> str:
    r = client.post("/sono/live/source", data={"source": source}, follow_redirects=False, **kwargs)
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("=", 1)[1]


def _audit(action: str) -> list[Any]:
    from painguide.services import open_uow
    from painguide.store.audit import list_audit

    with open_uow() as uow:
        return [e for e in list_audit(uow.session, limit=500) if e.action == action]


@pytest.fixture
def other(demo_client: TestClient) -> Callable[[str], TestClient]:
    """A second browser (its own cookies) on the same app, signed in as ``username``."""

    def make(username: str) -> TestClient:
        second = PageClient(demo_client.app)  # sends the CSRF token, as the pages do
        form = {"username": username, "password": DEMO_PASSWORD, "next": "/"}
        r = second.post("/login", data=form, follow_redirects=False)
        assert r.status_code == 303
        return second

    return make


def test_watcher_may_not_control_another_operators_session(
    client: TestClient, live_reset: None, other: Callable[[str], TestClient]
) -> None:
    session = _start(client)
    trainee = other("trainee")
    status = trainee.get(f"/sono/live/{session}/status").json()
    assert status["owner"] == "physician" and status["can_control"] is False
    page = trainee.get(f"/sono/live?session={session}").text
    assert "you are watching" in page and 'id="inject"' not in page
    for path in ("injection", "stop"):
        r = trainee.post(f"/sono/live/{session}/{path}")
        assert r.status_code == 403
        assert "belongs to physician: only its owner or a supervisor" in r.json()["detail"]
    r = trainee.post("/sono/live/source", data={"source": "simulated", "session": session})
    assert r.status_code == 403
    assert _audit("sono.live.injection") == []  # (the simulated source marks its own start after 3.4 s)


def test_several_operators_run_sessions_and_a_supervisor_controls_any(
    client: TestClient, live_reset: None, other: Callable[[str], TestClient]
) -> None:
    mine = _start(client)
    trainee = other("trainee")
    theirs = _start(trainee)
    assert mine != theirs
    listed = {s["id"]: s["owner"] for s in client.get("/sono/live/sessions").json()["sessions"]}
    assert listed == {mine: "physician", theirs: "trainee"}
    page = client.get("/sono/live").text
    assert f'href="/sono/live?session={theirs}"' in page
    # the physician supervises: marks the trainee's injection and stops the session
    assert client.post(f"/sono/live/{theirs}/injection").status_code == 200
    assert trainee.get(f"/sono/live/{theirs}/status").json()["injection_started"] is True
    assert client.post(f"/sono/live/{theirs}/stop").json() == {"running": False}
    stops = _audit("sono.live.stop")
    assert [(e.actor, e.object_id, e.detail["owner"]) for e in stops] == [("physician", theirs, "trainee")]
    marks = _audit("sono.live.injection")
    assert [(e.actor, e.object_id) for e in marks] == [("physician", theirs)]
    sources = {(e.actor, e.object_id, e.detail["source"]) for e in _audit("sono.live.source")}
    assert sources == {("physician", mine, "simulated"), ("trainee", theirs, "simulated")}


def test_viewer_watches_without_patient_identity(
    client: TestClient, live_reset: None, other: Callable[[str], TestClient], cine_file: Path
) -> None:
    from painguide.services import open_uow
    from painguide.store.users import create_user

    with open_uow() as uow:
        create_user(uow.session, "watcher", DEMO_PASSWORD, ["viewer"], actor="test")
        uow.commit()
    with cine_file.open("rb") as fh:
        session = _start(client, "", files={"file": ("Doe_John_2024.dcm", fh, "application/dicom")})
    viewer = other("watcher")
    status = viewer.get(f"/sono/live/{session}/status").json()
    assert status["source"] is None and status["sessions"][0]["source"] is None
    page = viewer.get(f"/sono/live?session={session}").text
    assert "Doe_John" not in page and "Upload a cine" not in page
    assert viewer.post(f"/sono/live/{session}/injection").status_code == 403
    assert viewer.get("/sono/review", headers={"accept": "application/json"}).status_code == 403
    assert client.get(f"/sono/live/{session}/status").json()["source"] == "dicom:Doe_John_2024.dcm"


def _raised_in_stream(client: TestClient, session: str) -> int:
    """The number of warnings raised so far, as the next image of the session's stream carries it."""
    with client.stream("GET", f"/sono/live/{session}/stream?images=1") as stream:
        body = stream.read()
    [count] = re.findall(rb"\r\nX-Painguide-Warnings: (\d+)\r\n", body)
    return int(count)


def test_warning_stays_until_acknowledged_and_the_acknowledgement_is_audited(
    client: TestClient, live_reset: None, other: Callable[[str], TestClient]
) -> None:
    from painguide.sono.demo import demo_cines

    name, _, data = next(c for c in demo_cines() if c[0] == "demo-no-visible-spread.dcm")
    session = _start(client, "", files={"file": (name, data, "application/dicom")})
    assert _raised_in_stream(client, session) == 0
    assert client.post(f"/sono/live/{session}/injection").status_code == 200
    status: dict[str, Any] = {}
    deadline = time.monotonic() + 20  # the warning needs 4 s of wall clock; bounded wait, not a speed check
    while time.monotonic() < deadline:
        status = client.get(f"/sono/live/{session}/status").json()
        if status["alerts"]:
            break
        time.sleep(0.2)
    [alert] = status["alerts"]
    assert alert["type"] == "no_visible_spread" and alert["acknowledged"] is False
    assert status["unacknowledged"] == 1
    assert _raised_in_stream(client, session) == 1  # the page asks for the words at once (sono-live.js)
    time.sleep(0.6)  # still there later: nothing clears it but an acknowledgement
    assert client.get(f"/sono/live/{session}/status").json()["unacknowledged"] == 1
    trainee = other("trainee")
    assert trainee.post(f"/sono/live/{session}/ack", data={"warning": "0"}).status_code == 403
    bad = client.post(f"/sono/live/{session}/ack", data={"warning": "3"})
    assert bad.status_code == 422
    [problem] = bad.json()["detail"]
    assert problem["field"] == "warning" and problem["message"].startswith(
        "expected the index of one of the 1"
    )
    ack = client.post(f"/sono/live/{session}/ack", data={"warning": "0"}).json()
    assert ack["acknowledged_by"] == "physician"
    after = client.get(f"/sono/live/{session}/status").json()
    assert after["unacknowledged"] == 0 and after["alerts"][0]["acknowledged_by"] == "physician"
    [entry] = _audit("sono.live.acknowledge")
    assert entry.actor == "physician" and entry.object_id == session
    assert entry.detail["warning"] == "no_visible_spread" and entry.detail["detail"] == alert["detail"]
    assert entry.at.tzinfo is not None and abs(entry.at.timestamp() - time.time()) < 60


def test_uploads_are_kept_per_user(
    client: TestClient, live_reset: None, other: Callable[[str], TestClient], cine_file: Path
) -> None:
    from painguide.settings import get_settings

    trainee = other("trainee")
    _start(trainee, "", files={"file": ("case.dcm", cine_file.read_bytes(), "application/dicom")})
    r = client.post("/sono/live/source", data={"source": "dicom:case.dcm"})
    assert r.status_code == 422 and "must name a file you uploaded on this page" in r.text
    _start(client, "", files={"file": ("case.dcm", cine_file.read_bytes(), "application/dicom")})
    root = get_settings().data_dir / "sono-live"
    assert (root / "trainee" / "case.dcm").is_file() and (root / "physician" / "case.dcm").is_file()
