"""The Storage SCP with dcmtk's storescu as the real client: reports land in the database."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from painguide.dose.generator import Quirks, ct_report, fluoro_report, write_report
from painguide.dose.receiver import ReceiverConfig, start_receiver
from painguide.dose.service import ImportOutcome, list_stored
from painguide.store.uow import UnitOfWork

STORESCU = shutil.which("storescu")
pytestmark = pytest.mark.skipif(
    STORESCU is None, reason="dcmtk's storescu is not on PATH (apt-get install dcmtk)"
)
UowFactory = Callable[[], UnitOfWork]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def receiver(
    uow_factory: UowFactory, quarantine_dir: Path
) -> Iterator[tuple[ReceiverConfig, list[ImportOutcome]]]:
    config = ReceiverConfig(
        host="127.0.0.1",
        port=_free_port(),
        ae_title="PAINGUIDE",
        allowed_callers=("CARM01", "CT01"),
        quarantine_dir=quarantine_dir,
    )
    outcomes: list[ImportOutcome] = []
    server = start_receiver(config, uow_factory, on_outcome=outcomes.append)
    try:
        yield config, outcomes
    finally:
        server.shutdown()


def _send(config: ReceiverConfig, calling: str, *files: Path) -> subprocess.CompletedProcess[str]:
    args = [str(STORESCU), "-aet", calling, "-aec", config.ae_title, config.host, str(config.port)]
    return subprocess.run([*args, *map(str, files)], capture_output=True, text=True, timeout=60, check=False)


def test_storescu_sends_fluoro_and_enhanced_ct_reports(
    receiver: tuple[ReceiverConfig, list[ImportOutcome]], uow_factory: UowFactory, tmp_path: Path
) -> None:
    config, outcomes = receiver
    fluoro = write_report(fluoro_report(seed=1, events=5, patient_id="NET1"), tmp_path / "f.dcm")
    ct = write_report(
        ct_report(seed=2, patient_id="NET1", quirks=Quirks(enhanced_sr=True)), tmp_path / "c.dcm"
    )
    result = _send(config, "CARM01", fluoro, ct)
    assert result.returncode == 0, result.stderr
    stored = list_stored(uow_factory, patient_id="NET1")
    assert sorted(s.report.kind.value for s in stored) == ["ct", "fluoro"]
    assert {s.source for s in stored} == {"dicom:CARM01"}
    assert [o.status for o in outcomes] == ["imported", "imported"]


def test_resending_is_idempotent(
    receiver: tuple[ReceiverConfig, list[ImportOutcome]], uow_factory: UowFactory, tmp_path: Path
) -> None:
    config, outcomes = receiver
    path = write_report(fluoro_report(seed=3, events=2), tmp_path / "f.dcm")
    assert _send(config, "CARM01", path).returncode == 0
    assert _send(config, "CARM01", path).returncode == 0
    assert [o.status for o in outcomes] == ["imported", "duplicate"]
    assert len(list_stored(uow_factory)) == 1


def test_unknown_calling_ae_is_rejected(
    receiver: tuple[ReceiverConfig, list[ImportOutcome]], uow_factory: UowFactory, tmp_path: Path
) -> None:
    config, outcomes = receiver
    path = write_report(fluoro_report(seed=4, events=2), tmp_path / "f.dcm")
    result = _send(config, "INTRUDER", path)
    assert result.returncode != 0
    assert "reject" in result.stderr.lower()
    assert outcomes == [] and list_stored(uow_factory) == []


def test_refused_report_is_quarantined_and_the_sender_told(
    receiver: tuple[ReceiverConfig, list[ImportOutcome]],
    uow_factory: UowFactory,
    quarantine_dir: Path,
    tmp_path: Path,
) -> None:
    config, outcomes = receiver
    dataset = fluoro_report(seed=5, events=1)
    dataset.ContentSequence = [item for item in dataset.ContentSequence if item.ValueType != "CONTAINER"]
    path = write_report(dataset, tmp_path / "empty.dcm")
    result = _send(config, "CARM01", path)
    assert result.returncode != 0  # storescu exits non-zero when a C-STORE answers with a failure status
    assert [o.status for o in outcomes] == ["quarantined"]
    assert "DCM 113702" in (outcomes[0].reason or "")
    assert len(list(quarantine_dir.glob("*.reason.txt"))) == 1
    assert list_stored(uow_factory) == []


def test_real_sample_over_the_network(
    shared_rdsr: Path, receiver: tuple[ReceiverConfig, list[ImportOutcome]], uow_factory: UowFactory
) -> None:
    config, outcomes = receiver
    result = _send(config, "CARM01", shared_rdsr)
    assert result.returncode == 0, result.stderr
    assert [o.status for o in outcomes] == ["imported"]
    (stored,) = list_stored(uow_factory)
    assert stored.report.totals.event_count > 0
