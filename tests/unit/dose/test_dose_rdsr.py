"""The RDSR parser on synthetic reports (with vendor quirks) and on every real sample file."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset

from painguide.dose.generator import Quirks, ct_report, fluoro_report
from painguide.dose.models import ReportKind
from painguide.dose.rdsr import ENHANCED_SR, XRAY_DOSE_SR, parse_dataset, read_dose_report
from painguide.errors import DicomError, ImportRejectedError


def _to_bytes(dataset: Dataset) -> bytes:
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


_FUZZ_BASE = _to_bytes(fluoro_report(seed=99, events=3))


def _codes(report_warnings: Any) -> list[str]:
    return [w.kind for w in report_warnings]


def test_fluoro_report_totals_and_events_round_trip_through_a_file() -> None:
    report = read_dose_report(_to_bytes(fluoro_report(seed=7, events=12)))
    assert report.kind is ReportKind.FLUORO
    assert report.template_id == "10001"
    assert report.sop_class_uid == XRAY_DOSE_SR
    assert report.totals.event_count == len(report.events) == 12
    event_dap = sum(e.dap_gy_cm2 or 0.0 for e in report.events)
    assert report.totals.dap_total_gy_cm2 == pytest.approx(event_dap, rel=1e-6)
    fluoro_time = sum(e.duration_s or 0.0 for e in report.events if e.event_type == "fluoroscopy")
    assert report.totals.fluoro_time_s == pytest.approx(fluoro_time, rel=1e-6)
    assert report.operator == "Doe^Jane"
    assert report.study_description == "Lumbar TFESI"
    assert report.warnings == ()


def test_event_fields_are_read_in_canonical_units() -> None:
    event = parse_dataset(fluoro_report(seed=3, events=2)).events[0]
    assert event.event_type == "fluoroscopy"
    assert event.plane == "single"
    assert event.kvp is not None and 60 <= event.kvp <= 100
    assert event.tube_current_ma is not None and event.pulses is not None
    assert event.primary_angle_deg is not None and event.secondary_angle_deg is not None
    assert event.rp_dose_mgy is not None and event.dap_gy_cm2 is not None
    assert isinstance(event.started, datetime)
    assert event.uid is not None and event.target_region == "Lumbar spine"


def test_vendor_units_give_the_same_canonical_values_and_are_recorded() -> None:
    plain = parse_dataset(fluoro_report(seed=11, events=4))
    quirky = parse_dataset(fluoro_report(seed=11, events=4, quirks=Quirks(dap_unit="dGy.cm2", rp_unit="mGy")))
    assert quirky.totals.dap_total_gy_cm2 == pytest.approx(plain.totals.dap_total_gy_cm2, rel=1e-9)
    assert quirky.totals.rp_dose_total_mgy == pytest.approx(plain.totals.rp_dose_total_mgy, rel=1e-9)
    messages = " | ".join(str(w) for w in quirky.warnings)
    assert "'dGy.cm2'" in messages and "'mGy'" in messages
    assert "(4 items)" in messages  # one warning per quirk, counted, not one per event


def test_gym2_unit_quirk_is_normalised() -> None:
    report = parse_dataset(fluoro_report(seed=2, events=3, quirks=Quirks(dap_unit="Gym2")))
    plain = parse_dataset(fluoro_report(seed=2, events=3))
    assert report.totals.dap_total_gy_cm2 == pytest.approx(plain.totals.dap_total_gy_cm2, rel=1e-9)
    assert any("'Gym2'" in w.message for w in report.warnings)


def test_malformed_value_becomes_a_warning_and_the_rest_is_kept() -> None:
    report = parse_dataset(fluoro_report(seed=5, events=3, quirks=Quirks(malformed_current=True)))
    assert report.events[0].tube_current_ma is None
    assert report.events[1].tube_current_ma is not None
    malformed = [w for w in report.warnings if w.kind == "malformed"]
    assert len(malformed) == 1
    assert "DCM 113734" in malformed[0].message and "'10.50/ 15.00'" in malformed[0].message


def test_malformed_value_is_refused_in_strict_mode() -> None:
    dataset = fluoro_report(seed=5, events=3, quirks=Quirks(malformed_current=True))
    with pytest.raises(ImportRejectedError, match=r"'10\.50/ 15\.00' is not a number.*strict"):
        parse_dataset(dataset, strict=True)


def test_report_without_template_identifier_is_read_with_a_warning() -> None:
    report = read_dose_report(_to_bytes(fluoro_report(seed=9, events=2, quirks=Quirks(template_id=False))))
    assert report.template_id is None
    assert report.kind is ReportKind.FLUORO
    assert report.totals.dap_total_gy_cm2 is not None
    assert "template" in _codes(report.warnings)


def test_radiography_report_has_no_fluoroscopy() -> None:
    report = parse_dataset(fluoro_report(seed=4, events=2, acquisitions=2))
    assert report.kind is ReportKind.RADIOGRAPHY
    assert {e.event_type for e in report.events} == {"stationary"}


def test_ct_report_reads_ctdivol_dlp_length_and_phantom() -> None:
    report = read_dose_report(_to_bytes(ct_report(seed=1, events=3)))
    assert report.kind is ReportKind.CT
    assert report.template_id == "10011"
    assert report.totals.event_count == 3
    assert report.totals.dap_total_gy_cm2 is None
    event_dlp = sum(e.dlp_mgy_cm or 0.0 for e in report.events)
    assert report.totals.dlp_total_mgy_cm == pytest.approx(event_dlp, rel=1e-6)
    event = report.events[1]
    assert event.event_type == "spiral" and event.phantom == "body"
    assert event.ctdivol_mgy is not None and event.scan_length_mm is not None
    assert event.dlp_mgy_cm == pytest.approx(event.ctdivol_mgy * event.scan_length_mm / 10.0, rel=1e-6)
    assert event.kvp == 120.0 and event.tube_current_ma is not None


def test_enhanced_sr_ct_report_with_quirks_is_read() -> None:
    quirks = Quirks(dlp_unit="mGycm", enhanced_sr=True, template_id=False)
    plain = parse_dataset(ct_report(seed=8, events=2))
    report = read_dose_report(_to_bytes(ct_report(seed=8, events=2, quirks=quirks)))
    assert report.sop_class_uid == ENHANCED_SR
    assert report.kind is ReportKind.CT
    assert report.totals.dlp_total_mgy_cm == pytest.approx(plain.totals.dlp_total_mgy_cm, rel=1e-9)
    assert any("'mGycm'" in w.message for w in report.warnings)


def test_non_dose_sr_is_refused_with_the_reason() -> None:
    dataset = fluoro_report(seed=1, events=1)
    dataset.ConceptNameCodeSequence[0].CodeValue = "126000"
    dataset.ContentSequence = [item for item in dataset.ContentSequence if item.ValueType != "CONTAINER"]
    with pytest.raises(ImportRejectedError, match=r"DCM 126000, not DCM 113701"):
        parse_dataset(dataset)


def test_radiopharmaceutical_dose_sr_is_refused() -> None:
    dataset = fluoro_report(seed=1, events=1)
    dataset.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.68"
    with pytest.raises(ImportRejectedError, match="Radiopharmaceutical"):
        parse_dataset(dataset)


def test_image_object_is_refused() -> None:
    dataset = fluoro_report(seed=1, events=1)
    dataset.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage
    with pytest.raises(ImportRejectedError, match=r"4\.1\.1\.2 is not a structured report"):
        parse_dataset(dataset)


def test_dose_report_without_dose_containers_is_refused() -> None:
    dataset = fluoro_report(seed=1, events=1)
    dataset.ContentSequence = [item for item in dataset.ContentSequence if item.ValueType != "CONTAINER"]
    with pytest.raises(ImportRejectedError, match="DCM 113702"):
        parse_dataset(dataset)


def test_garbage_bytes_raise_a_dicom_error() -> None:
    with pytest.raises(DicomError, match=r"not a DICOM storage object"):
        read_dose_report(b"this is not a DICOM file at all" * 10)


def test_truncated_file_raises_a_dicom_error_instead_of_a_shorter_report() -> None:
    data = _to_bytes(fluoro_report(seed=1, events=6))
    with pytest.raises(DicomError, match="truncated"):
        read_dose_report(data[: len(data) // 2])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=len(_FUZZ_BASE) - 1))
def test_any_truncation_is_refused_never_crashes(cut: int) -> None:
    with pytest.raises(DicomError):
        read_dose_report(_FUZZ_BASE[:cut])


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_flipped_bytes_give_a_report_or_a_dicom_error(data: st.DataObject) -> None:
    corrupted = bytearray(_FUZZ_BASE)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(132, len(corrupted) - 1))
        corrupted[position] = data.draw(st.integers(0, 255))
    try:
        report = read_dose_report(bytes(corrupted))
    except DicomError:
        return
    assert report.sop_instance_uid


def test_study_datetime_falls_back_to_the_first_event() -> None:
    dataset = fluoro_report(seed=6, events=3)
    for keyword in ("StudyDate", "StudyTime", "ContentDate", "ContentTime"):
        delattr(dataset, keyword)
    report = parse_dataset(dataset)
    assert report.study_datetime == min(e.started for e in report.events if e.started)


def _plain_walk(path: Path) -> dict[str, Any]:
    """Independent oracle: DAP total and event count read with a minimal pydicom walk."""
    dataset = pydicom.dcmread(path)
    dap_total, events = 0.0, 0
    for item in dataset.ContentSequence:
        code = item.ConceptNameCodeSequence[0].CodeValue
        if code == "113706":
            events += 1
        if code != "113702":
            continue
        for child in item.ContentSequence:
            if child.ConceptNameCodeSequence[0].CodeValue == "113722":
                measured = child.MeasuredValueSequence[0]
                assert measured.MeasurementUnitsCodeSequence[0].CodeValue in ("Gy.m2", "Gym2")
                dap_total += float(measured.NumericValue) * 1e4
    return {"dap_total": dap_total, "events": events, "manufacturer": str(dataset.Manufacturer)}


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")
def test_real_sample_matches_a_plain_pydicom_walk(shared_rdsr: Path) -> None:
    expected = _plain_walk(shared_rdsr)
    report = read_dose_report(shared_rdsr)
    assert report.kind is ReportKind.FLUORO
    assert report.template_id == "10001"
    assert report.totals.dap_total_gy_cm2 == pytest.approx(expected["dap_total"], rel=1e-9)
    assert report.totals.event_count == expected["events"] == len(report.events)
    assert report.device.manufacturer == expected["manufacturer"]
    assert report.study_datetime is not None
    assert report.totals.fluoro_time_s is not None and report.totals.fluoro_time_s > 0
    assert all(e.dap_gy_cm2 is not None for e in report.events)
    assert not [w for w in report.warnings if w.kind == "malformed"]


def test_real_sample_fluoro_and_acquisition_dap_add_up_to_the_total(shared_rdsr: Path) -> None:
    totals = read_dose_report(shared_rdsr).totals
    assert totals.dap_total_gy_cm2 is not None
    assert totals.fluoro_dap_gy_cm2 is not None and totals.acquisition_dap_gy_cm2 is not None
    parts = totals.fluoro_dap_gy_cm2 + totals.acquisition_dap_gy_cm2
    assert parts == pytest.approx(totals.dap_total_gy_cm2, rel=1e-6)


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.99])
def test_real_sample_truncated_is_refused(shared_rdsr: Path, fraction: float) -> None:
    data = shared_rdsr.read_bytes()
    with pytest.raises(DicomError, match=r"DICOM|truncated|structure"):
        read_dose_report(data[: int(len(data) * fraction)])
