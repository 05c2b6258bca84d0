"""DICOM ultrasound input and output, including the real cines shipped with pydicom and pydicom-data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from painguide.errors import DicomError, NotFoundError
from painguide.sono.dicom import read_dicom_cine, write_dicom_cine
from painguide.sono.evaluate import REAL_NEEDLE_FREE, real_needle_free_files
from painguide.sono.pipeline import GuidancePipeline
from painguide.sono.simulate import SimulatedCine


@pytest.mark.parametrize(("compression", "tolerance"), [("none", 0), ("rle", 0), ("jpeg", 12)])
def test_round_trip(cine: SimulatedCine, tmp_path: Path, compression: str, tolerance: int) -> None:
    path = write_dicom_cine(cine.frames[:6], tmp_path / f"{compression}.dcm", compression=compression)  # type: ignore[arg-type]
    back = read_dicom_cine(path)
    assert len(back.frames) == 6
    for original, read in zip(cine.frames[:6], back.frames, strict=True):
        assert read.shape == original.shape
        assert np.abs(read.pixels.astype(int) - original.pixels).max() <= tolerance
        assert read.col_spacing_mm == pytest.approx(original.col_spacing_mm)
        assert read.row_spacing_mm == pytest.approx(original.row_spacing_mm)
        assert read.time_s == pytest.approx(original.time_s, abs=1e-6)


def test_written_file_carries_ultrasound_regions_in_cm(cine_file: Path, cine: SimulatedCine) -> None:
    ds = pydicom.dcmread(cine_file)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.3.1"
    region = ds.SequenceOfUltrasoundRegions[0]
    assert region.PhysicalUnitsXDirection == 3
    assert float(region.PhysicalDeltaX) == pytest.approx(cine.frames[0].col_spacing_mm / 10)
    assert float(ds.FrameTime) == pytest.approx(50.0)
    assert int(ds.NumberOfFrames) == len(cine.frames)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such file"):
        read_dicom_cine(tmp_path / "absent.dcm")


def test_not_dicom(tmp_path: Path) -> None:
    path = tmp_path / "note.dcm"
    path.write_text("not an image")
    with pytest.raises(DicomError, match="not a readable DICOM file"):
        read_dicom_cine(path)


def test_uncalibrated_file_needs_spacing() -> None:
    path = get_testdata_file("US1_UNCR.dcm", download=False)
    if path is None:
        pytest.skip("pydicom-data is not installed")
    with pytest.raises(DicomError, match=r"Sequence of Ultrasound Regions \(0018,6011\)"):
        read_dicom_cine(str(path))
    assert read_dicom_cine(str(path), spacing_mm=0.1).frames[0].shape == (480, 640)


def test_pydicom_example_cine_is_read_with_spacing_and_timing() -> None:
    cine = read_dicom_cine(str(get_testdata_file("examples_ybr_color.dcm", download=False)))
    assert len(cine.frames) == 30
    assert cine.frames[0].col_spacing_mm == pytest.approx(0.5105, abs=1e-3)  # 0.05105 cm
    assert cine.frame_time_s == pytest.approx(0.0333, abs=1e-3)
    assert cine.frames[5].pixels.std() > 5


def test_real_needle_free_cines_report_no_needle() -> None:
    paths = real_needle_free_files()
    assert paths, f"none of {REAL_NEEDLE_FREE} found offline"
    for path in paths:
        pipeline = GuidancePipeline()
        visible = [pipeline(f).needle.visible for f in read_dicom_cine(path).frames]
        assert not any(visible), path
