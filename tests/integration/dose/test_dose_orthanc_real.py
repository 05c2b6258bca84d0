"""`painguide dose import-orthanc` against a real Orthanc server (Debian package `orthanc`) on loopback.

The server is started by the fixture with its own storage folder, HTTP port and authentication, and fed
through its own REST API. Skipped where Orthanc is not installed, unless ``PAINGUIDE_REQUIRE_ORTHANC=1``
(set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from painguide.cli import main
from painguide.dose.generator import ct_report, fluoro_report, write_report
from painguide.dose.service import list_stored
from painguide.services import open_uow

USER, PASSWORD = "painguide", "orthanc-test-password"


def _orthanc_binary() -> str | None:
    return shutil.which("Orthanc") or ("/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").is_file() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[str]:
    """A real Orthanc on loopback with basic authentication; yields its URL."""
    binary = _orthanc_binary()
    if binary is None:
        if os.environ.get("PAINGUIDE_REQUIRE_ORTHANC") == "1":
            pytest.fail("Orthanc not installed (apt-get install orthanc)")
        pytest.skip("Orthanc not installed")
    http_port, dicom_port = _free_port(), _free_port()
    config = {
        "Name": "painguide-test",
        "StorageDirectory": str(tmp_path / "storage"),
        "IndexDirectory": str(tmp_path / "storage"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: PASSWORD},
        "Plugins": [],
        "HttpServerEnabled": True,
        "DicomServerEnabled": False,
    }
    config_path = tmp_path / "orthanc.json"
    config_path.write_text(json.dumps(config))
    log = (tmp_path / "orthanc.log").open("wb")
    process = subprocess.Popen([binary, str(config_path)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/system", auth=(USER, PASSWORD), timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Orthanc did not start: {(tmp_path / 'orthanc.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _upload(url: str, path: Path) -> None:
    response = httpx.post(f"{url}/instances", content=path.read_bytes(), auth=(USER, PASSWORD), timeout=10)
    assert response.status_code == 200, response.text


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err.strip()


def test_import_from_a_real_orthanc_is_idempotent(
    orthanc: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = [
        fluoro_report(seed=11, procedure="lumbar-tfesi"),
        fluoro_report(seed=12, procedure="caudal-esi"),
        ct_report(seed=13),
    ]
    for index, dataset in enumerate(reports):
        _upload(orthanc, write_report(dataset, tmp_path / f"r{index}.dcm"))
    uids = {str(d.SOPInstanceUID) for d in reports}

    code, out, err = _run(
        capsys, "dose", "import-orthanc", orthanc, "--user", USER, "--password", PASSWORD, "--json"
    )
    assert code == 0, err
    first = json.loads(out)
    assert (first["imported"], first["duplicates"], first["quarantined"]) == (3, 0, 0)
    stored = list_stored(open_uow)
    assert {s.report.sop_instance_uid for s in stored} == uids
    assert all(s.source.startswith(f"orthanc:{orthanc}/instances/") for s in stored)

    code, out, err = _run(
        capsys, "dose", "import-orthanc", orthanc, "--user", USER, "--password", PASSWORD, "--json"
    )
    again = json.loads(out)
    assert code == 0 and (again["imported"], again["duplicates"]) == (0, 3)
    assert len(list_stored(open_uow)) == 3


def test_wrong_password_names_the_option(orthanc: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run(capsys, "dose", "import-orthanc", orthanc, "--user", USER, "--password", "wrong")
    assert code == 2 and "Traceback" not in err
    assert err.startswith("error: --user/--password:") and "HTTP 401" in err
