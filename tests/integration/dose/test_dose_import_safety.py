"""Import safety: a database outage stops the run and quarantines nothing; zip limits; kill -9 and rerun."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.integration.dose.test_dose_import import UowFactory

from painguide.dose.generator import fluoro_report, write_report
from painguide.dose.service import ZipLimits, collect_sources, import_dataset, import_sources
from painguide.errors import DatabaseUnavailableError
from painguide.services import open_uow
from painguide.store.db import session_factory
from painguide.store.dose_tables import DoseReportRow
from painguide.store.tables import AuditEntry
from painguide.store.uow import UnitOfWork


def test_a_database_outage_stops_the_import_and_quarantines_nothing(
    corpus: list[Path], uow_factory: UowFactory, quarantine_dir: Path, tmp_path: Path
) -> None:
    broken = session_factory(f"sqlite:///file:{tmp_path / 'gone' / 'x.db'}?mode=ro&uri=true")
    calls = []

    def failing_after_first_batch() -> UnitOfWork:
        calls.append(1)
        return uow_factory() if len(calls) == 1 else UnitOfWork(broken)

    sources, _ = collect_sources(corpus)
    with pytest.raises(
        DatabaseUnavailableError, match=r"cannot store dose reports \(OperationalError"
    ) as err:
        import_sources(
            sources, uow_factory=failing_after_first_batch, quarantine_dir=quarantine_dir, batch_size=2
        )
    assert "2 reports of this run were stored" in str(err.value) and "run the same import again" in str(
        err.value
    )
    assert err.value.exit_code == 75
    assert not quarantine_dir.exists() or not any(quarantine_dir.iterdir())
    again = import_sources(sources, uow_factory=uow_factory, quarantine_dir=quarantine_dir)
    assert (again.imported, again.duplicates, again.quarantined) == (4, 2, 0)


def _bomb(path: Path, megabytes: int) -> Path:
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("report.dcm", "w", force_zip64=True) as member,
    ):
        block = bytes(1024 * 1024)
        for _ in range(megabytes):
            member.write(block)
    return path


def test_a_zip_bomb_is_refused_unread_with_the_reason(
    corpus: list[Path], uow_factory: UowFactory, quarantine_dir: Path, tmp_path: Path
) -> None:
    bomb = _bomb(tmp_path / "bomb.zip", 60)  # below the size limit: refused for its ratio
    assert bomb.stat().st_size < 100_000
    tracemalloc.start()
    sources, problems = collect_sources([bomb, corpus[0]], quarantine_dir=quarantine_dir)
    summary = import_sources(sources, uow_factory=uow_factory, quarantine_dir=quarantine_dir)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20_000_000, f"{peak / 1e6:.0f} MB allocated"
    assert summary.imported == 1 and len(problems) == 1
    (refused,) = problems
    assert refused.label.endswith("bomb.zip!report.dcm") and "PAINGUIDE_ZIP_MAX_RATIO" in (
        refused.reason or ""
    )
    assert refused.quarantined_as is not None and refused.quarantined_as.read_bytes() == bomb.read_bytes()
    assert (
        "zip bomb"
        in refused.quarantined_as.with_name(refused.quarantined_as.name + ".reason.txt").read_text()
    )


def test_zip_member_count_and_size_limits(corpus: list[Path], tmp_path: Path) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, path in enumerate(corpus):
            zf.write(path, f"r{i}.dcm")
    sources, problems = collect_sources([archive], limits=ZipLimits(members=len(corpus) - 1))
    assert sources == [] and "holds 6 files, above the limit of 5" in (problems[0].reason or "")
    sizes = [p.stat().st_size for p in corpus]
    sources, problems = collect_sources([archive], limits=ZipLimits(member_bytes=min(sizes) - 1))
    assert (
        sources == [] and len(problems) == 6 and "PAINGUIDE_ZIP_MAX_MEMBER_MB" in (problems[0].reason or "")
    )
    sources, problems = collect_sources([archive], limits=ZipLimits(member_bytes=max(sizes)))
    assert len(sources) == 6 and problems == []


def test_exports_neutralise_formulas_from_a_received_report(
    demo_client: TestClient, sign_in: Callable[[TestClient, str], None], tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from painguide.settings import get_settings

    dataset = fluoro_report(seed=77, events=2, patient_id='=HYPERLINK("http://evil.example","id")')
    dataset.PatientName = '=HYPERLINK("http://evil.example","name")'
    dataset.PerformingPhysicianName = '=HYPERLINK("http://evil.example","op")'
    dataset.OperatorsName = dataset.PerformingPhysicianName
    outcome = import_dataset(
        dataset, label="dicom:EVIL", uow_factory=open_uow, quarantine_dir=get_settings().quarantine_dir
    )
    assert outcome.status == "imported"
    sign_in(demo_client, "rpo")
    text = demo_client.get("/dose/export.csv").text
    line = next(row for row in text.splitlines() if "evil.example" in row)
    assert "'=HYPERLINK" in line and ",=HYPERLINK" not in line and ',"=HYPERLINK' not in line
    workbook = load_workbook(io.BytesIO(demo_client.get("/dose/export.xlsx").content))
    cells = [c for row in workbook.active.iter_rows() for c in row if "evil.example" in str(c.value)]
    assert len(cells) == 2  # patient id and operator
    assert all(c.data_type == "s" and str(c.value).startswith("'=HYPERLINK") for c in cells)
    with open_uow() as uow:
        exports = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "dose.export")).all()
    assert [(e.actor, e.detail["format"]) for e in exports] == [("rpo", "csv"), ("rpo", "xlsx")]  # type: ignore[index]


def _stored(url_path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(url_path) as db:
        reports = db.execute("SELECT count(*), count(DISTINCT sop_instance_uid) FROM dose_report").fetchone()
        audited = db.execute("SELECT count(*) FROM audit_log WHERE action = 'dose.import'").fetchone()
    return int(reports[0]), int(reports[1]), int(audited[0])


def test_kill_9_during_import_then_rerun_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    for i in range(40):
        write_report(fluoro_report(seed=900 + i, events=3), folder / f"r{i:02d}.dcm")
    data = tmp_path / "data"
    env = os.environ | {"PAINGUIDE_DATA_DIR": str(data), "PAINGUIDE_DOSE_IMPORT_BATCH_SIZE": "4"}
    command = [str(Path(sys.executable).with_name("painguide")), "dose", "import", str(folder), "--json"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    database = data / "painguide.sqlite3"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if _stored(database)[0] >= 4:
                break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    assert process.poll() is None, "the import ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    between = _stored(database)
    assert 4 <= between[0] < 40 and between[0] == between[1] == between[2]
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert _stored(database) == (40, 40, 40)
    with UnitOfWork(session_factory(f"sqlite:///{database}")) as uow:
        assert uow.session.scalar(select(func.count()).select_from(DoseReportRow)) == 40


def test_a_migration_that_fails_halfway_leaves_nothing_behind(tmp_path: Path) -> None:
    """A first import killed while the schema is created must not leave half a schema (SQLite DDL)."""
    from painguide.store.db import upgrade

    database = tmp_path / "half.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE sono_analysis (x INTEGER)")  # makes a later revision fail
    with pytest.raises(Exception, match="sono_analysis"):
        upgrade(f"sqlite:///{database}")
    with sqlite3.connect(database) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"sono_analysis"}
