"""`painguide dose import-orthanc` against a small fake Orthanc REST server on a loopback port."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from painguide.cli import main
from painguide.commands.dose import app
from painguide.dose.generator import ct_report, fluoro_report, write_report
from painguide.dose.service import list_stored
from painguide.services import open_uow

KOS = "1.2.840.10008.5.1.4.1.1.88.59"  # Key Object Selection: an SR-modality object that is not a dose report


@dataclass
class FakeOrthanc:
    """Instances by Orthanc id: (SOP Instance UID, SOP class, study date, file bytes)."""

    instances: dict[str, tuple[str, str, str, bytes]]
    password: str | None = None
    requests: list[str] = field(default_factory=list)


def _handler(state: FakeOrthanc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep the test output clean
            pass

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self) -> bool:
            if state.password is None:
                return True
            expected = "Basic " + base64.b64encode(f"orthanc:{state.password}".encode()).decode()
            if self.headers.get("Authorization") == expected:
                return True
            self._send(401, b"")
            return False

        def do_POST(self) -> None:
            state.requests.append(f"POST {self.path}")
            if not self._authorised():
                return
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert query["Level"] == "Instance" and query["Query"]["Modality"] == "SR"
            since = query["Query"].get("StudyDate", "-").rstrip("-")
            found = [
                {"ID": key, "Type": "Instance", "MainDicomTags": {"SOPInstanceUID": uid}}
                for key, (uid, _cls, day, _data) in state.instances.items()
                if day >= since
            ]
            self._send(200, json.dumps(found).encode())

        def do_GET(self) -> None:
            state.requests.append(f"GET {self.path}")
            if not self._authorised():
                return
            parts = self.path.strip("/").split("/")
            if len(parts) >= 3 and parts[0] == "instances" and parts[1] in state.instances:
                _uid, sop_class, _day, data = state.instances[parts[1]]
                if parts[2:] == ["metadata", "SopClassUid"]:
                    return self._send(200, sop_class.encode(), "text/plain")
                if parts[2:] == ["file"]:
                    return self._send(200, data, "application/dicom")
            self._send(404, b"{}")

    return Handler


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[tuple[str, FakeOrthanc]]:
    reports = {
        "a1": fluoro_report(seed=1, study_datetime=None),
        "a2": fluoro_report(seed=2, procedure="caudal-esi"),
        "a3": ct_report(seed=3),
    }
    instances = {}
    for key, dataset in reports.items():
        data = write_report(dataset, tmp_path / f"{key}.dcm").read_bytes()
        instances[key] = (str(dataset.SOPInstanceUID), str(dataset.SOPClassUID), str(dataset.StudyDate), data)
    instances["kos"] = ("1.2.3.4", KOS, "20240101", b"not fetched")
    instances["bad"] = ("1.2.3.5", "1.2.840.10008.5.1.4.1.1.88.67", "20240101", b"DICM broken")
    state = FakeOrthanc(instances)
    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_import_from_orthanc_is_idempotent_and_quarantines(orthanc: tuple[str, FakeOrthanc]) -> None:
    url, state = orthanc
    runner = CliRunner()
    first = runner.invoke(app, ["import-orthanc", url, "--json"])
    assert first.exit_code == 3, first.output  # the broken instance was quarantined
    payload = json.loads(first.stdout)
    assert (payload["imported"], payload["duplicates"], payload["quarantined"]) == (3, 0, 1)
    assert payload["skipped_not_dose"] == 1
    assert (
        payload["refused"][0]["source"].endswith("/instances/bad")
        and Path(payload["refused"][0]["copy"]).is_file()
    )
    assert "GET /instances/kos/file" not in state.requests
    stored = list_stored(open_uow)
    assert {s.procedure_type for s in stored} == {"lumbar-tfesi", "caudal-esi", "lumbar-prt"}
    assert all(s.source.startswith(f"orthanc:{url}/instances/") for s in stored)

    state.requests.clear()
    again = runner.invoke(app, ["import-orthanc", url, "--json"])
    assert json.loads(again.stdout)["duplicates"] == 3 and json.loads(again.stdout)["imported"] == 0
    assert not any(r.endswith("/file") and "/bad/" not in r for r in state.requests)  # stored: not downloaded


def test_since_limits_the_query_to_later_studies(orthanc: tuple[str, FakeOrthanc]) -> None:
    url, state = orthanc
    state.instances = {k: v for k, v in state.instances.items() if k in ("a1", "a2")}
    later = max(v[2] for v in state.instances.values())
    since = f"{later[:4]}-{later[4:6]}-{later[6:]}"
    result = CliRunner().invoke(app, ["import-orthanc", url, "--since", since, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 1


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the whole CLI, which maps painguide errors to a one-line message and an exit code."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    return int(info.value.code or 0), capsys.readouterr().err.strip()


def test_credentials_are_sent_and_a_refusal_names_the_option(
    orthanc: tuple[str, FakeOrthanc], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = orthanc
    state.password = "secret"
    runner = CliRunner()
    code, err = _main(capsys, "dose", "import-orthanc", url, "--user", "orthanc", "--password", "wrong")
    assert code == 2
    assert err.startswith("error: --user/--password:") and "HTTP 401" in err and "Traceback" not in err
    state.instances.pop("bad")
    accepted = runner.invoke(app, ["import-orthanc", url, "--user", "orthanc", "--password", "secret"])
    assert accepted.exit_code == 0, accepted.output
    assert "imported 3" in accepted.stdout


def test_unreachable_server_names_the_url_and_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    code, err = _main(capsys, "dose", "import-orthanc", url)
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"error: URL: cannot reach Orthanc at {url}") and "default http://host:8042" in err
