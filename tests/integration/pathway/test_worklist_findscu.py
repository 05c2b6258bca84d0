"""The Modality Worklist server against dcmtk's findscu, the real peer a C-arm or CT stands in for."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.integration.pathway.conftest import Schedule, UowFactory

from painguide.auth import User
from painguide.pathway.worklist_scp import start_worklist, worklist_config
from painguide.store.tables import AuditEntry

pytestmark = pytest.mark.skipif(shutil.which("findscu") is None, reason="dcmtk's findscu is not installed")
ZURICH = ZoneInfo("Europe/Zurich")
OPERATOR = User("rpo", "RPO", frozenset({"rpo"}))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def worklist(pathway_uow: UowFactory, schedule: Schedule) -> Iterator[int]:
    """A worklist on loopback for CARM01 and CT01, with five procedures over three local days."""
    schedule("P-1", at=datetime(2026, 3, 16, 7, 30, tzinfo=UTC), name="Anna Müller", location="CARM01",
             patient={"weight_kg": 64, "height_cm": 168, "pregnancy": "not_pregnant",
                      "pregnancy_asked_on": "2026-03-01"})  # fmt: skip
    schedule("P-2", at=datetime(2026, 3, 17, 13, 0, tzinfo=UTC))
    schedule("P-3", at=datetime(2026, 3, 17, 23, 30, tzinfo=UTC))  # 00:30 on the 18th in Zurich
    schedule("P-4", at=datetime(2026, 3, 17, 9, 0, tzinfo=UTC), modality="ct")
    schedule("P-5", at=datetime(2026, 3, 17, 10, 0, tzinfo=UTC), modality="landmark")
    config = worklist_config(
        host="127.0.0.1", port=_free_port(), ae_title="PAINGUIDE", allowed_callers=["CARM01", "CT01"],
        accept_any=False, demo=False,
    )  # fmt: skip
    server = start_worklist(config, pathway_uow, OPERATOR, zone=ZURICH)
    try:
        yield config.port
    finally:
        server.shutdown()


def findscu(port: int, *keys: str, caller: str = "CARM01") -> subprocess.CompletedProcess[str]:
    args = ["findscu", "-v", "-W", "-aet", caller, "-aec", "PAINGUIDE", "-to", "10", "127.0.0.1", str(port)]
    for key in keys:
        args += ["-k", key]
    return subprocess.run(args, capture_output=True, encoding="latin-1", timeout=60, check=False)


def responses(output: str) -> list[str]:
    """The data sets of the pending responses, one string each (values unpadded: ``[P-1 ]`` → ``[P-1]``)."""
    parts = output.replace(" ]", "]").split("Find Response:")[1:]
    return [p for p in parts if "(Pending)" in p.splitlines()[0]]


SPS = "ScheduledProcedureStepSequence[0]"
RETURN_KEYS = (
    "AccessionNumber", "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientWeight",
    "PregnancyStatus", "StudyInstanceUID", "RequestedProcedureID", "RequestedProcedureDescription",
    "ReferringPhysicianName", f"{SPS}.ScheduledStationAETitle", f"{SPS}.ScheduledProcedureStepStartTime",
    f"{SPS}.ScheduledProcedureStepDescription", f"{SPS}.ScheduledProcedureStepID",
)  # fmt: skip


def test_date_range_and_modality(worklist: int, pathway_uow: UowFactory) -> None:
    done = findscu(worklist, f"{SPS}.Modality=RF", f"{SPS}.ScheduledProcedureStepStartDate=20260316-20260317",
                   *RETURN_KEYS)  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = responses(done.stdout + done.stderr)
    assert sorted(r.split("PatientID")[0].rsplit("[", 1)[1].split("]")[0] for r in found) == ["P-1", "P-2"], (
        found
    )
    assert len(found) == 2  # P-1 and P-2; P-3 is on the 18th locally, P-4 is CT, P-5 needs no imaging
    first = next(r for r in found if "[P-1]" in r)
    assert "[PG" in first and "AccessionNumber" in first
    assert "(0010,0030) DA (no value available)" in first  # only the birth year is known
    assert "[F]" in first and "[64]" in first and "PregnancyStatus" in first and "US 1" in first
    assert "[083000]" in first  # 07:30 UTC is 08:30 in Zurich
    assert "[CARM01]" in first and "ScheduledStationAETitle" in first
    assert "[2.25." in first and "Lumbar transforaminal" in first
    assert "ReferringPhysicianName" in first  # a key painguide does not keep is answered empty
    assert "(0010,1020)" not in first  # a key not asked for (Patient's Size) is not answered
    with pathway_uow() as uow:
        audits = list(uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "worklist.query")))
    assert len(audits) == 1 and audits[0].actor == "dicom:CARM01"
    assert audits[0].detail is not None and audits[0].detail["answers"] == 2


def test_ct_and_a_single_local_day(worklist: int) -> None:
    done = findscu(worklist, f"{SPS}.Modality=CT", f"{SPS}.ScheduledProcedureStepStartDate=20260317",
                   "PatientID", caller="CT01")  # fmt: skip
    found = responses(done.stdout + done.stderr)
    assert len(found) == 1 and "[P-4]" in found[0] and "[CT]" in found[0]
    done = findscu(
        worklist, f"{SPS}.ScheduledProcedureStepStartDate=20260318", "PatientID", f"{SPS}.Modality"
    )
    found = responses(done.stdout + done.stderr)
    assert len(found) == 1 and "[P-3]" in found[0] and "[RF]" in found[0]


def test_patient_id_and_accession_number_keys(worklist: int) -> None:
    done = findscu(worklist, "PatientID=P-2", "AccessionNumber", f"{SPS}.Modality=XA")
    found = responses(done.stdout + done.stderr)
    assert len(found) == 1 and "[XA]" in found[0]  # the code asked for is the code answered
    accession = found[0].split("AccessionNumber")[0].rsplit("[", 1)[1].split("]")[0]
    done = findscu(worklist, f"AccessionNumber={accession}", "PatientID")
    again = responses(done.stdout + done.stderr)
    assert len(again) == 1 and "[P-2]" in again[0]


def test_empty_result(worklist: int) -> None:
    done = findscu(worklist, f"{SPS}.Modality=US", f"{SPS}.ScheduledProcedureStepStartDate=20260316-20260318",
                   "PatientID")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert responses(done.stdout + done.stderr) == []
    assert "Success" in done.stdout + done.stderr


def test_unknown_calling_ae_title_is_refused(worklist: int, pathway_uow: UowFactory) -> None:
    done = findscu(worklist, f"{SPS}.Modality=RF", "PatientID", caller="INTRUDER")
    output = done.stdout + done.stderr
    assert "Association Rejected" in output and "Calling AE Title Not Recognized" in output
    assert responses(output) == []
    with pathway_uow() as uow:
        assert uow.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "worklist.query")) is None


def test_malformed_date_answers_a_failure_status(worklist: int) -> None:
    done = findscu(worklist, f"{SPS}.ScheduledProcedureStepStartDate=2026-03-16", "PatientID")
    output = done.stdout + done.stderr
    assert responses(output) == []
    assert "Failed: UnableToProcess" in output


def test_query_file_built_with_dump2dcm(worklist: int, tmp_path: Path) -> None:
    if shutil.which("dump2dcm") is None:
        pytest.skip("dump2dcm not installed")
    dump = tmp_path / "query.dump"
    dump.write_text(
        "(0008,0005) CS [ISO_IR 100]\n(0008,0050) SH []\n(0010,0010) PN []\n(0010,0020) LO []\n"
        "(0040,0100) SQ (Sequence with explicit length #=1)\n"
        "  (fffe,e000) na (Item with explicit length #=1)\n"
        "    (0008,0060) CS [RF]\n    (0040,0002) DA [20260316]\n"
        "  (fffe,e00d) na (ItemDelimitationItem for re-encoding)\n"
        "(fffe,e0dd) na (SequenceDelimitationItem for re-encoding)\n",
        encoding="utf-8",
    )
    query = tmp_path / "query.wl"
    subprocess.run(["dump2dcm", str(dump), str(query)], check=True, capture_output=True)
    args = ["findscu", "-W", "-aet", "CARM01", "-aec", "PAINGUIDE", "127.0.0.1", str(worklist), str(query)]
    done = subprocess.run(args, capture_output=True, encoding="latin-1", timeout=60, check=False)
    found = responses(done.stdout + done.stderr)
    assert len(found) == 1 and "[P-1]" in found[0]
    assert "ISO_IR 100" in found[0]  # the name has an umlaut: sent in Latin-1
