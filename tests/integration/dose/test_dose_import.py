"""Import service on a real database: idempotency, quarantine, zip and folder input, fuzzed batches."""

from __future__ import annotations

import random
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from painguide.dose.generator import Quirks, ct_report, fluoro_report, write_report
from painguide.dose.rdsr import read_dose_report
from painguide.dose.service import collect_sources, get_stored, import_sources, list_stored
from painguide.errors import NotFoundError
from painguide.store.dose_repository import reports_near
from painguide.store.dose_tables import DoseEventRow, DoseReportRow
from painguide.store.tables import AuditEntry
from painguide.store.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


def _import(paths: list[Path], uow_factory: UowFactory, quarantine_dir: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    sources, problems = collect_sources(paths)
    summary = import_sources(sources, uow_factory=uow_factory, quarantine_dir=quarantine_dir, **kwargs)  # type: ignore[arg-type]
    summary.outcomes[:0] = problems
    return summary


def _count(uow_factory: UowFactory, table: type) -> int:
    with uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


def test_import_stores_reports_and_events_once(
    corpus: list[Path], uow_factory: UowFactory, quarantine_dir: Path
) -> None:
    first = _import(corpus, uow_factory, quarantine_dir)
    second = _import(corpus, uow_factory, quarantine_dir)
    assert (first.imported, first.duplicates, first.quarantined) == (6, 0, 0)
    assert (second.imported, second.duplicates, second.quarantined) == (0, 6, 0)
    assert _count(uow_factory, DoseReportRow) == 6
    assert _count(uow_factory, DoseEventRow) == 18
    with uow_factory() as uow:
        actions = list(uow.session.scalars(select(AuditEntry.action)))
    assert actions.count("dose.import") == 6


def test_stored_values_equal_the_parsed_report(
    corpus: list[Path], uow_factory: UowFactory, quarantine_dir: Path
) -> None:
    _import(corpus[:1], uow_factory, quarantine_dir)
    parsed = read_dose_report(corpus[0])
    (listed,) = list_stored(uow_factory)
    stored = get_stored(uow_factory, listed.id)
    assert stored.report.totals == parsed.totals
    assert stored.report.events == parsed.events
    assert stored.report.patient == parsed.patient
    assert stored.report.device == parsed.device
    assert stored.procedure_type == "lumbar-tfesi"
    assert stored.source == str(corpus[0])


def test_duplicate_inside_one_batch_is_counted_once(
    corpus: list[Path], uow_factory: UowFactory, quarantine_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.dcm"
    copy.write_bytes(corpus[0].read_bytes())
    summary = _import([corpus[0], copy], uow_factory, quarantine_dir)
    assert (summary.imported, summary.duplicates) == (1, 1)


def test_bad_files_are_quarantined_with_their_reason(
    corpus: list[Path], uow_factory: UowFactory, quarantine_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a dicom file " * 20)
    summary = _import([bad, *corpus[:2], tmp_path / "missing.dcm"], uow_factory, quarantine_dir)
    assert (summary.imported, summary.quarantined) == (2, 2)
    reasons = list(quarantine_dir.glob("*.reason.txt"))
    assert len(reasons) == 1
    text = reasons[0].read_text()
    assert "notes.txt" in text and "SOP Class UID" in text
    copy = reasons[0].with_name(reasons[0].name.removesuffix(".reason.txt"))
    assert copy.read_bytes() == bad.read_bytes()
    missing = [o for o in summary.outcomes if o.label.endswith("missing.dcm")]
    assert missing[0].reason == "no such file or folder"


def test_folders_and_zip_archives_are_read_recursively(
    corpus: list[Path], uow_factory: UowFactory, quarantine_dir: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "nested" / "deeper" / "batch.zip"
    archive.parent.mkdir(parents=True)
    ct = write_report(ct_report(seed=5, quirks=Quirks(enhanced_sr=True)), tmp_path / "ct.dcm")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(ct, "inner/ct.dcm")
        zf.writestr("inner/readme.txt", "hello")
    summary = _import([corpus[0].parent, tmp_path / "nested"], uow_factory, quarantine_dir)
    assert (summary.imported, summary.quarantined) == (7, 1)
    refused = next(o for o in summary.outcomes if o.status == "quarantined")
    assert refused.label.endswith("batch.zip!inner/readme.txt")


def test_corrupt_zip_is_quarantined(uow_factory: UowFactory, quarantine_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("a.dcm", b"x")
    archive.write_bytes(good.read_bytes()[:-30])
    summary = _import([archive], uow_factory, quarantine_dir)
    assert summary.quarantined == 1 and summary.imported == 0


def test_non_dose_sr_is_quarantined_with_the_reason(
    uow_factory: UowFactory, quarantine_dir: Path, tmp_path: Path
) -> None:
    dataset = fluoro_report(seed=1, events=1)
    dataset.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.68"
    path = write_report(dataset, tmp_path / "radiopharm.dcm")
    summary = _import([path], uow_factory, quarantine_dir)
    assert summary.quarantined == 1
    assert "Radiopharmaceutical" in (summary.outcomes[0].reason or "")


def _mangle(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return data[: rng.randrange(0, len(data))]
    mutable = bytearray(data)
    for _ in range(rng.randrange(1, 20)):
        mutable[rng.randrange(132, len(mutable))] = rng.randrange(256)
    return bytes(mutable)


@pytest.mark.parametrize("seed", range(6))
def test_fuzzed_files_never_crash_and_never_lose_a_good_file(
    seed: int, uow_factory: UowFactory, quarantine_dir: Path, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    good, bad, interleaved = [], [], []
    for index in range(8):
        path = write_report(fluoro_report(seed=seed * 100 + index, events=3), tmp_path / f"good{index}.dcm")
        other = write_report(
            fluoro_report(seed=seed * 100 + 50 + index, events=3), tmp_path / f"src{index}.dcm"
        )
        mangled = tmp_path / f"bad{index}.dcm"
        mangled.write_bytes(_mangle(other.read_bytes(), rng))
        good.append(path)
        bad.append(mangled)
        interleaved += [mangled, path]
    summary = _import(interleaved, uow_factory, quarantine_dir, batch_size=5)
    good_labels = {str(p) for p in good}
    outcomes = {o.label: o for o in summary.outcomes}
    assert all(outcomes[label].status == "imported" for label in good_labels)
    assert len(summary.outcomes) == 16
    for label in (str(p) for p in bad):
        assert outcomes[label].status in ("imported", "duplicate", "quarantined")
    assert _count(uow_factory, DoseReportRow) == summary.imported


def test_list_filters_by_patient_and_study(
    corpus: list[Path], uow_factory: UowFactory, quarantine_dir: Path
) -> None:
    _import(corpus, uow_factory, quarantine_dir)
    assert len(list_stored(uow_factory, patient_id="P0")) == 3
    some = list_stored(uow_factory)[0]
    by_study = list_stored(uow_factory, study_instance_uid=some.report.study_instance_uid)
    assert [s.id for s in by_study] == [some.id]
    assert list_stored(uow_factory, patient_id="nobody") == []


def test_reports_near_finds_a_procedures_reports(
    corpus: list[Path], uow_factory: UowFactory, quarantine_dir: Path
) -> None:
    _import(corpus, uow_factory, quarantine_dir)
    target = list_stored(uow_factory, patient_id="P1")[0]
    assert target.report.study_datetime is not None
    with uow_factory() as uow:
        found = reports_near(
            uow.session, patient_id="P1", around=target.report.study_datetime + timedelta(hours=1)
        )
        by_accession = reports_near(
            uow.session,
            patient_id="P1",
            around=target.report.study_datetime + timedelta(days=400),
            accession_number=target.report.accession_number,
        )
    assert target.id in [f.id for f in found]
    assert [f.id for f in by_accession] == [target.id]


def test_get_stored_unknown_id_raises(uow_factory: UowFactory) -> None:
    with pytest.raises(NotFoundError, match="dose report 999: not found"):
        get_stored(uow_factory, 999)


def test_real_sample_imports(shared_rdsr: Path, uow_factory: UowFactory, quarantine_dir: Path) -> None:
    summary = _import([shared_rdsr], uow_factory, quarantine_dir)
    assert summary.imported == 1
    (stored,) = list_stored(uow_factory)
    full = get_stored(uow_factory, stored.id)
    assert full.report.totals == read_dose_report(shared_rdsr).totals
    assert len(full.report.events) == full.report.totals.event_count
