"""DICOM ultrasound input and output: single and multi-frame, native, RLE or JPEG-family compressed.

Reading takes the physical spacing from the Sequence of Ultrasound Regions (0018,6011) in centimetres and
converts it to millimetres, crops each frame to that region, and times frames from Frame Time (0018,1063),
the Frame Time Vector (0018,1065) or the Cine Rate (0018,0040). JPEG, JPEG-LS lossless and JPEG 2000 frames
that pydicom cannot decode without extra plugins are decoded with OpenCV.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.errors import DicomError, NotFoundError, ValidationError
from painguide.i18n.marks import N_
from painguide.sono.frames import Frame, check_spacing_mm

if TYPE_CHECKING:  # pydicom loads only when a file is read (start-up time)
    from pydicom.dataset import Dataset

__all__ = ["DicomCine", "read_dicom_cine", "write_dicom_cine"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

_CM_UNITS = 3  # PhysicalUnitsXDirection code 3 = cm (PS3.3 C.8.5.5.1.15)
_TISSUE = 1  # RegionDataType 1 = tissue
_TWO_D = 1  # RegionSpatialFormat 1 = 2D
_MAX_SIDE = 8192
_MAX_FRAMES = 20_000
_MAX_PIXELS = 1_500_000_000  # grey bytes of all frames

Compression = Literal["none", "rle", "jpeg"]


@dataclass(frozen=True, slots=True)
class DicomCine:
    """Frames of one DICOM ultrasound object and where they came from.

    Attributes
    ----------
    path : str
        The file.
    frames : list of Frame
        Grey frames cropped to the image region.
    region : tuple of int
        ``(row0, col0, row1, col1)`` of the region in the stored image, end exclusive.
    frame_time_s : float
        Nominal interval between frames.
    """

    path: str
    frames: list[Frame]
    region: tuple[int, int, int, int]
    frame_time_s: float


def _pick_region(ds: Dataset, rows: int, cols: int) -> tuple[tuple[int, int, int, int], float, float] | None:
    """Largest 2-D tissue region of the Sequence of Ultrasound Regions: box and (row, col) spacing in mm."""
    best = None
    for item in ds.get("SequenceOfUltrasoundRegions", []):
        if int(item.get("RegionSpatialFormat", 0)) != _TWO_D:
            continue
        if int(item.get("RegionDataType", _TISSUE)) != _TISSUE:
            continue
        units = (int(item.get("PhysicalUnitsXDirection", 0)), int(item.get("PhysicalUnitsYDirection", 0)))
        if units != (_CM_UNITS, _CM_UNITS):
            continue
        box = (
            int(item.RegionLocationMinY0),
            int(item.RegionLocationMinX0),
            int(item.RegionLocationMaxY1) + 1,
            int(item.RegionLocationMaxX1) + 1,
        )
        area = (box[2] - box[0]) * (box[3] - box[1])
        if best is None or area > best[0]:
            best = (area, box, 10.0 * abs(float(item.PhysicalDeltaY)), 10.0 * abs(float(item.PhysicalDeltaX)))
    if best is None:
        return None
    _, box, row_mm, col_mm = best
    clipped = (max(0, box[0]), max(0, box[1]), min(rows, box[2]), min(cols, box[3]))
    if clipped != box:
        log.warning("ultrasound region %s exceeds the %dx%d image; clipped to %s", box, rows, cols, clipped)
    if clipped[2] - clipped[0] < 8 or clipped[3] - clipped[1] < 8:
        return None
    return clipped, row_mm, col_mm


def _spacing(
    ds: Dataset, path: str, spacing_mm: float | None
) -> tuple[tuple[int, int, int, int], float, float]:
    rows, cols = int(ds.Rows), int(ds.Columns)
    picked = _pick_region(ds, rows, cols)
    if picked is not None:
        return picked
    full = (0, 0, rows, cols)
    if "PixelSpacing" in ds:
        row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
        return full, row_mm, col_mm
    if spacing_mm is not None:
        return full, spacing_mm, spacing_mm
    raise DicomError(
        f"{path}: no 2-D tissue region in cm in the Sequence of Ultrasound Regions (0018,6011) and no "
        "Pixel Spacing (0028,0030); pass the pixel size explicitly (--spacing-mm)."
    )


def _frame_time(ds: Dataset, path: str, n_frames: int) -> NDArray[np.float64]:
    """Acquisition time of each frame in seconds from the first."""
    if n_frames == 1:
        return np.zeros(1, dtype=np.float64)
    if "FrameTime" in ds and float(ds.FrameTime) > 0:
        return np.arange(n_frames, dtype=np.float64) * (float(ds.FrameTime) / 1000.0)
    if "FrameTimeVector" in ds:
        steps = np.asarray([float(v) for v in ds.FrameTimeVector]) / 1000.0
        if steps.size == n_frames:
            return np.asarray(np.cumsum(steps) - steps[0], dtype=np.float64)
    for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
        if keyword in ds and float(ds[keyword].value) > 0:
            return np.arange(n_frames) / float(ds[keyword].value)
    raise DicomError(
        f"{path}: multi-frame object without Frame Time (0018,1063), Frame Time Vector (0018,1065) or "
        "Cine Rate (0018,0040); frame timing is needed for spread onset and warnings."
    )


def _to_grey(pixels: NDArray[np.generic], photometric: str, ds: Dataset) -> NDArray[np.uint8]:
    """Convert one decoded frame of shape (rows, cols) or (rows, cols, 3) to uint8 grey."""
    from pydicom.pixels.processing import apply_color_lut

    if photometric == "PALETTE COLOR":
        pixels = apply_color_lut(pixels, ds)
    if pixels.dtype != np.uint8:
        top = float(pixels.max()) or 1.0
        pixels = (pixels.astype(np.float32) * (255.0 / top)).astype(np.uint8)
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    if photometric == "MONOCHROME1":
        pixels = 255 - pixels
    return np.ascontiguousarray(pixels, dtype=np.uint8)


def _decode_with_opencv(ds: Dataset, path: str, n_frames: int) -> list[NDArray[np.uint8]]:
    from pydicom.encaps import generate_frames

    out = []
    for index, data in enumerate(generate_frames(ds.PixelData, number_of_frames=n_frames)):
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_GRAYSCALE)
        if decoded is None:
            raise DicomError(
                f"{path}: frame {index} cannot be decoded ({ds.file_meta.TransferSyntaxUID.name}); "
                "convert the file to an uncompressed transfer syntax."
            )
        out.append(_to_grey(decoded, "MONOCHROME2", ds))
    return out


def _decode(ds: Dataset, path: str, n_frames: int) -> list[NDArray[np.uint8]]:
    syntax = ds.file_meta.TransferSyntaxUID
    photometric = str(ds.PhotometricInterpretation)
    if syntax.is_compressed and syntax.name != "RLE Lossless":
        return _decode_with_opencv(ds, path, n_frames)
    try:
        array = ds.pixel_array
    except (ValueError, RuntimeError, NotImplementedError) as exc:
        raise DicomError(
            f"{path}: Pixel Data (7FE0,0010) cannot be decoded ({exc}); the file is damaged or its image "
            "attributes (0028,xxxx) are wrong: export the clip again from the scanner"
        ) from exc
    samples = int(ds.get("SamplesPerPixel", 1))
    if n_frames == 1:
        array = array[None]
    if photometric.startswith("YBR") and samples == 3:
        photometric = "RGB"  # pydicom converts YBR to RGB when decoding
    return [_to_grey(array[i], photometric, ds) for i in range(n_frames)]


def read_dicom_cine(
    path: str | Path, *, spacing_mm: float | None = None, name: str | None = None
) -> DicomCine:
    """Read a DICOM ultrasound image or cine as grey frames in physical units.

    Parameters
    ----------
    path : str or Path
        The DICOM file.
    spacing_mm : float, optional
        Pixel size to use when the file carries neither ultrasound regions nor Pixel Spacing.
    name : str, optional
        Name of the file in error messages (an upload's original name); the path by default.

    Returns
    -------
    DicomCine
        Frames cropped to the image region, with spacing in mm and time in seconds.

    Raises
    ------
    NotFoundError
        The file does not exist.
    DicomError
        The file is not DICOM, is damaged, has no pixel data, no usable spacing or undecodable frames.
    """
    path = str(path)
    label = name or path
    check_spacing_mm(spacing_mm)
    if Path(path).is_dir():
        raise ValidationError(
            label, N_("is a folder, not a file; give the path of one DICOM ultrasound file")
        )
    if not Path(path).is_file():
        raise NotFoundError(f"{label}: no such file; check the path of the DICOM ultrasound file.")
    try:
        return _read(path, label, spacing_mm)
    except (DicomError, ValidationError):
        raise
    except Exception as exc:  # untrusted input: any parser failure becomes a refusal naming the file
        raise DicomError(
            f"{label}: cannot be read as a DICOM ultrasound cine ({type(exc).__name__}: {str(exc)[:200]}); "
            "the file is damaged or incomplete: export the clip again from the scanner"
        ) from exc


def _checked_size(ds: Dataset, label: str) -> int:
    """Number of frames, after checking the image size is plausible (refuses memory bombs)."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    if not (1 <= rows <= _MAX_SIDE and 1 <= cols <= _MAX_SIDE and 1 <= n_frames <= _MAX_FRAMES):
        raise DicomError(
            f"{label}: implausible image size ({rows} rows, {cols} columns, {n_frames} frames); "
            f"expected at most {_MAX_SIDE}x{_MAX_SIDE} and {_MAX_FRAMES} frames: export the clip again"
        )
    if rows * cols * n_frames > _MAX_PIXELS:
        raise DicomError(
            f"{label}: {n_frames} frames of {rows}x{cols} are too large to analyse at once; "
            "export a shorter clip"
        )
    return n_frames


def _read(path: str, label: str, spacing_mm: float | None) -> DicomCine:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, EOFError) as exc:
        raise DicomError(
            f"{label}: not a readable DICOM file ({exc}); choose a DICOM ultrasound file (.dcm)."
        ) from exc
    if "PixelData" not in ds:
        raise DicomError(f"{label}: no Pixel Data (7FE0,0010); is this an image object?")
    n_frames = _checked_size(ds, label)
    region, row_mm, col_mm = _spacing(ds, label, spacing_mm)
    if not all(math.isfinite(v) and v > 0 for v in (row_mm, col_mm)):
        raise DicomError(
            f"{label}: pixel spacing {row_mm!r} x {col_mm!r} mm is not a positive number; "
            "check Physical Delta X/Y (0018,602C/602E) or Pixel Spacing, or pass --spacing-mm"
        )
    times = _frame_time(ds, label, n_frames)
    if not np.all(np.isfinite(times)):
        raise DicomError(f"{label}: frame times are not finite numbers; check Frame Time (0018,1063).")
    images = _decode(ds, label, n_frames)
    if not images:
        raise DicomError(f"{label}: Pixel Data (7FE0,0010) holds no frame; export the clip again.")
    r0, c0, r1, c1 = region
    source_id = f"dicom:{path}"
    frames = [
        Frame(np.ascontiguousarray(img[r0:r1, c0:c1]), row_mm, col_mm, float(times[i]), i, source_id)
        for i, img in enumerate(images[:n_frames])
    ]
    step = float(times[1] - times[0]) if n_frames > 1 else 0.0
    return DicomCine(path, frames, region, step)


def _base_dataset(rows: int, cols: int, n_frames: int, frame_time_ms: float) -> Dataset:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, UltrasoundMultiFrameImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UltrasoundMultiFrameImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = UltrasoundMultiFrameImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "US"
    ds.PatientName = "SIMULATED^PHANTOM"
    ds.PatientID = "SIM-0001"
    ds.Manufacturer = "painguide simulator"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = n_frames
    ds.FrameTime = f"{frame_time_ms:.10g}"
    ds.CineRate = max(1, round(1000.0 / frame_time_ms))
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    return ds


def _region_item(frame: Frame, origin: tuple[int, int]) -> Dataset:
    from pydicom.dataset import Dataset

    rows, cols = frame.shape
    item = Dataset()
    item.RegionSpatialFormat = _TWO_D
    item.RegionDataType = _TISSUE
    item.RegionFlags = 0
    item.RegionLocationMinX0 = origin[1]
    item.RegionLocationMinY0 = origin[0]
    item.RegionLocationMaxX1 = origin[1] + cols - 1
    item.RegionLocationMaxY1 = origin[0] + rows - 1
    item.ReferencePixelX0 = 0
    item.ReferencePixelY0 = 0
    item.PhysicalUnitsXDirection = _CM_UNITS
    item.PhysicalUnitsYDirection = _CM_UNITS
    item.PhysicalDeltaX = frame.col_spacing_mm / 10.0
    item.PhysicalDeltaY = frame.row_spacing_mm / 10.0
    return item


def write_dicom_cine(
    frames: Sequence[Frame],
    path: str | Path,
    *,
    compression: Compression = "none",
    border: tuple[int, int] = (24, 16),
) -> Path:
    """Write frames as one Ultrasound Multi-frame Image with its Sequence of Ultrasound Regions.

    Parameters
    ----------
    frames : sequence of Frame
        Frames of equal shape ``(rows, cols)`` and spacing, in time order.
    path : str or Path
        Output file.
    compression : {"none", "rle", "jpeg"}
        Explicit VR Little Endian, RLE Lossless or JPEG Baseline (lossy).
    border : tuple of int
        ``(rows, cols)`` of the dark band above and left of the image region, as scanners store.

    Returns
    -------
    Path
        The written file.
    """
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit, RLELossless

    if not frames:
        raise ValidationError("frames", "at least one frame is needed to write a cine")
    rows, cols = frames[0].shape
    if any(f.shape != (rows, cols) for f in frames):
        raise ValidationError("frames", "all frames of a cine must have the same shape")
    step = frames[1].time_s - frames[0].time_s if len(frames) > 1 else 0.05
    full = np.zeros((len(frames), rows + border[0], cols + border[1]), dtype=np.uint8)
    for i, frame in enumerate(frames):
        full[i, border[0] :, border[1] :] = frame.pixels
    ds = _base_dataset(full.shape[1], full.shape[2], len(frames), 1000.0 * step)
    ds.SequenceOfUltrasoundRegions = [_region_item(frames[0], border)]
    if compression == "jpeg":
        encoded = [cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes() for img in full]
        ds.PixelData = encapsulate(encoded)
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
        ds.LossyImageCompression = "01"
    else:
        ds.PixelData = full.tobytes()
        if compression == "rle":
            ds.compress(RLELossless, full, generate_instance_uid=False)
    out = Path(path)
    ds.save_as(out, enforce_file_format=True)
    return out
