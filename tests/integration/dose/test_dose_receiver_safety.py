"""Safe defaults of the DICOM receiver: loopback unless told, named callers outside demo, optional TLS."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from painguide.cli import main
from painguide.dose.generator import fluoro_report, write_report
from painguide.dose.receiver import TlsFiles, receiver_config, start_receiver
from painguide.dose.service import ImportOutcome, list_stored
from painguide.store.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    return int(info.value.code or 0), capsys.readouterr().err.strip()


def test_outside_demo_mode_the_callers_must_be_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "dicom", "listen", "--port", str(_free_port()))
    assert code == 2 and "Traceback" not in err
    assert err.startswith("error: --allow: name the calling AE titles") and "--accept-any" in err


def test_allow_and_accept_any_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "dicom", "listen", "--allow", "CARM01", "--accept-any")
    assert code == 2 and err.startswith("error: --accept-any: give either")


def test_a_port_in_use_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, err = _run(capsys, "dicom", "listen", "--accept-any", "--port", str(port))
    assert code == 2 and err.startswith(f"error: --host/--port: cannot listen on 127.0.0.1:{port}")


def test_listen_binds_loopback_by_default(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PAINGUIDE_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from painguide.cli import main; main()", "dicom", "listen", "--accept-any",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert f"on 127.0.0.1:{port}" in first and "accepting any caller" in first


@pytest.fixture
def certificates(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _send_tls(port: int, path: Path, context: ssl.SSLContext | None) -> int | None:
    """C-STORE one file from a pynetdicom SCU; the status, or None when no association was made."""
    from pydicom import dcmread
    from pynetdicom import AE

    dataset = dcmread(path)
    ae = AE(ae_title="CARM01")
    ae.add_requested_context(dataset.SOPClassUID, dataset.file_meta.TransferSyntaxUID)
    tls_args = (context, "localhost") if context is not None else None
    assoc = ae.associate("127.0.0.1", port, ae_title="PAINGUIDE", tls_args=tls_args)
    if not assoc.is_established:
        return None
    try:
        status = assoc.send_c_store(dataset)
        return int(status.Status) if status else None
    finally:
        assoc.release()


def test_tls_receiver_accepts_tls_and_refuses_plain_associations(
    certificates: tuple[Path, Path], uow_factory: UowFactory, quarantine_dir: Path, tmp_path: Path
) -> None:
    cert, key = certificates
    config = receiver_config(
        host="127.0.0.1", port=_free_port(), ae_title="PAINGUIDE", allowed_callers=["CARM01"],
        accept_any=False, demo=False, quarantine_dir=quarantine_dir, strict=False, tls=TlsFiles(cert, key),
    )  # fmt: skip
    outcomes: list[ImportOutcome] = []
    server = start_receiver(config, uow_factory, on_outcome=outcomes.append)
    try:
        path = write_report(fluoro_report(seed=31, events=2, patient_id="TLS1"), tmp_path / "r.dcm")
        client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cert))
        assert _send_tls(config.port, path, client) == 0x0000
        assert _send_tls(config.port, path, None) is None  # plain DICOM gets no association
    finally:
        server.shutdown()
    assert [o.status for o in outcomes] == ["imported"]
    assert [s.report.patient.patient_id for s in list_stored(uow_factory)] == ["TLS1"]


def test_missing_tls_file_is_named(quarantine_dir: Path, tmp_path: Path) -> None:
    from painguide.errors import ValidationError

    (tmp_path / "cert.pem").write_text("not checked before the key exists")
    with pytest.raises(ValidationError, match=r"--tls-key: .*key\.pem is not a readable file"):
        receiver_config(
            host="127.0.0.1", port=11112, ae_title="PAINGUIDE", allowed_callers=["CARM01"], accept_any=False,
            demo=False, quarantine_dir=quarantine_dir, strict=False,
            tls=TlsFiles(tmp_path / "cert.pem", tmp_path / "key.pem"),
        )  # fmt: skip
