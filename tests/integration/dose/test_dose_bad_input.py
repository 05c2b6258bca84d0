"""Damaged dose reports: refused with the reason or read with a warning, never silently counted."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from painguide.cli import main
from painguide.dose.generator import Quirks, ct_report, damaged_variants, fluoro_report, write_report
from painguide.dose.rdsr import read_dose_report
from painguide.dose.service import collect_sources, import_sources, list_stored
from painguide.store.dose_tables import DosePatientTallyRow
from painguide.store.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


def _import(paths: list[Path], uow_factory: UowFactory, quarantine_dir: Path):  # type: ignore[no-untyped-def]
    sources, _ = collect_sources(paths)
    return import_sources(sources, uow_factory=uow_factory, quarantine_dir=quarantine_dir)


def _bytes(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")
def test_invalid_sop_instance_uid_is_quarantined_with_the_reason(
    tmp_path: Path, uow_factory: UowFactory, quarantine_dir: Path
) -> None:
    dataset = fluoro_report(seed=21, events=3)
    dataset.SOPInstanceUID = dataset.SOPInstanceUID[:-3] + "x7a"
    path = write_report(dataset, tmp_path / "bad-uid.dcm")
    summary = _import([path], uow_factory, quarantine_dir)
    (outcome,) = summary.outcomes
    assert outcome.status == "quarantined"
    assert outcome.reason is not None and "is not a valid DICOM UID" in outcome.reason
    assert outcome.quarantined_as is not None and outcome.quarantined_as.exists()
    assert "not a valid DICOM UID" in Path(f"{outcome.quarantined_as}.reason.txt").read_text()


def test_copy_with_a_flipped_uid_digit_does_not_double_the_dose(
    tmp_path: Path, uow_factory: UowFactory, quarantine_dir: Path
) -> None:
    original = write_report(fluoro_report(seed=22, events=4, patient_id="TWIN"), tmp_path / "a.dcm")
    data = bytearray(original.read_bytes())
    uid = read_dose_report(bytes(data)).sop_instance_uid.encode()
    at = bytes(data).rindex(uid) + len(uid) - 1  # the dataset's SOP Instance UID (after the file meta copy)
    data[at] ^= 0x01  # one bit: '4' <-> '5', still a valid UID
    copy = tmp_path / "b.dcm"
    copy.write_bytes(bytes(data))
    assert read_dose_report(copy).sop_instance_uid != uid.decode()
    summary = _import([original, copy], uow_factory, quarantine_dir)
    assert [o.status for o in summary.outcomes] == ["imported", "quarantined"]
    assert "same study, study time and dose totals" in (summary.outcomes[1].reason or "")
    again = _import([copy], uow_factory, quarantine_dir)  # a later run checks the stored reports
    assert again.outcomes[0].status == "quarantined" and "stored report" in (again.outcomes[0].reason or "")
    (stored,) = list_stored(uow_factory, patient_id="TWIN")
    with uow_factory() as uow:  # the quarantined copies left the maintained tallies alone
        tally = uow.session.get(DosePatientTallyRow, "TWIN")
        assert tally is not None
        assert tally.dap_sum_gy_cm2 == pytest.approx(abs(stored.report.totals.dap_total_gy_cm2 or 0.0))


def test_mostly_zeroed_file_is_refused(tmp_path: Path, uow_factory: UowFactory, quarantine_dir: Path) -> None:
    data = bytearray(_bytes(fluoro_report(seed=23, events=12)))
    keep = 900  # file meta and the start of the header
    for position in range(keep, len(data)):
        if position % 25:  # 96 % of the rest zeroed
            data[position] = 0
    path = tmp_path / "zeroed.dcm"
    path.write_bytes(bytes(data))
    summary = _import([path], uow_factory, quarantine_dir)
    assert summary.imported == 0 and summary.quarantined == 1


def test_content_tree_without_most_events_is_flagged() -> None:
    dataset = fluoro_report(seed=24, events=10)
    dataset.ContentSequence = list(dataset.ContentSequence)[:-7]  # the totals stay, seven events are gone
    report = read_dose_report(_bytes(dataset))
    assert len(report.events) == 3
    missing = [w.message for w in report.warnings if w.kind == "missing"]
    assert any("irradiation events may be missing or damaged" in m for m in missing), report.warnings


def test_zeroed_numeric_value_is_a_warning_not_a_silent_gap() -> None:
    dataset = fluoro_report(seed=25, events=2)
    event = dataset.ContentSequence[-1]
    dap = next(i for i in event.ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "122130")
    text = dap.MeasuredValueSequence[0].NumericValue
    data = _bytes(dataset).replace(str(text).encode(), b"\x00" * len(str(text)), 1)
    report = read_dose_report(data)
    assert report.events[-1].dap_gy_cm2 is None
    assert any("numeric value is empty" in w.message for w in report.warnings)


def _inspect(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """``report``, ``refused`` or ``exit N`` of ``painguide dose inspect`` through ``main()``."""
    with pytest.raises(SystemExit) as exit_:
        main(["dose", "inspect", str(path), "--json", "--no-skin-dose"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if exit_.value.code not in (0, 3):
        return f"exit {exit_.value.code}"
    (result,) = json.loads(captured.out)
    return "refused" if "error" in result else "report"


@pytest.mark.slow
def test_fuzzed_reports_never_give_a_traceback(
    tmp_path: Path, uow_factory: UowFactory, quarantine_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bases = {
        "fluoro": _bytes(fluoro_report(seed=31, events=6)),
        "implicit-undefined": _bytes(
            fluoro_report(
                seed=32, events=4, detailed=True, quirks=Quirks(implicit_vr=True, undefined_lengths=True)
            )
        ),
        "ct": _bytes(ct_report(seed=33, events=2)),
    }
    folder = tmp_path / "fuzz"
    folder.mkdir()
    inspected: Counter[str] = Counter()
    for name, data in damaged_variants(120, 5, bases):
        path = folder / name
        path.write_bytes(data)
        inspected[_inspect(path, capsys)] += 1
    assert set(inspected) <= {"report", "refused"} and sum(inspected.values()) == 120, inspected
    assert inspected["refused"] > 0  # the damage is real
    summary = _import([folder], uow_factory, quarantine_dir)
    unexpected = [o.reason for o in summary.outcomes if "unexpected error" in (o.reason or "")]
    assert not unexpected
    assert summary.quarantined >= inspected["refused"]
    imported = {o.sop_instance_uid for o in summary.outcomes if o.status == "imported"}
    assert all(uid and json.dumps(uid) for uid in imported)
