"""Services that combine analysis with storage: analyse a DICOM cine, keep it, and prepare its review.

The uploaded cine is kept under ``data_dir/sono`` with a generated name, so the review page can render
key frames with the overlay later. The per-frame series of the review chart are stored with the summary.
"""

from __future__ import annotations

import math
import re
import tempfile
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from painguide.errors import NotFoundError, ValidationError
from painguide.sono.analysis import AnalysisReport, analyze_frames
from painguide.sono.pipeline import WARNING_TYPES, FrameResult

__all__ = [
    "MAX_UPLOAD_BYTES",
    "KeyFrame",
    "Review",
    "analyse_and_add",
    "analyse_and_store",
    "cine_dir",
    "get_review",
    "key_frame_jpeg",
    "key_frames",
    "timeline_of",
]

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
THUMBNAIL_WIDTH = 640
"""Width (pixels) at which key frames are drawn, so the overlay labels stay legible on small cines."""
_CINE_NAME = re.compile(r"^[0-9a-f]{32}\.dcm$")
_KEY_LABELS = {
    "needle_visible": "Needle first seen",
    "injection_start": "Injection start",
    "spread_onset": "Spread onset",
    "no_visible_spread": "No visible spread",
    "spread_away_from_tip": "Spread away from the tip",
    "vessel_near_path": "Vessel near the needle path",
    "fluid_in_vessel": "Fluid inside a vessel",
    "cine_ended_without_spread": "Cine ended without spread",
}


@dataclass(frozen=True, slots=True)
class KeyFrame:
    """A moment of the cine worth a thumbnail.

    Attributes
    ----------
    index : int
        Frame index in the cine.
    time_s : float
        Frame time.
    label : str
        What happened ("Injection start").
    warning : bool
        Whether the moment is a warning.
    """

    index: int
    time_s: float
    label: str
    warning: bool = False


@dataclass(frozen=True, slots=True)
class Review:
    """Everything the review page of one stored analysis shows.

    Attributes
    ----------
    row : SonoAnalysisRow
        The stored analysis.
    key_frames : list of KeyFrame
        Thumbnail moments (empty without a stored timeline).
    cine_kept : bool
        Whether the analysed cine is still on disk (thumbnails can be drawn).
    """

    row: Any
    key_frames: list[KeyFrame]
    cine_kept: bool


def cine_dir() -> Path:
    """Folder of the kept cines, ``data_dir/sono`` (created on first use)."""
    from painguide.settings import get_settings

    folder = get_settings().data_dir / "sono"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def timeline_of(results: list[FrameResult]) -> dict[str, list[Any]]:
    """Per-frame series of an analysis, as stored for the review chart.

    Parameters
    ----------
    results : list of FrameResult
        Per-frame results of the pipeline.

    Returns
    -------
    dict of lists
        ``time_s``, ``visible``, ``confidence``, ``tip_x_mm``, ``tip_z_mm``, ``angle_deg`` and ``area_mm2``,
        one value per frame; tip values are ``None`` where the needle is not visible.
    """

    def num(value: float, visible: bool) -> float | None:
        return round(value, 2) if visible and math.isfinite(value) else None

    return {
        "time_s": [round(r.time_s, 3) for r in results],
        "visible": [r.needle.visible for r in results],
        "confidence": [round(r.needle.confidence, 3) for r in results],
        "tip_x_mm": [num(r.needle.tip_x_mm, r.needle.visible) for r in results],
        "tip_z_mm": [num(r.needle.tip_z_mm, r.needle.visible) for r in results],
        "angle_deg": [num(r.needle.angle_deg, r.needle.visible) for r in results],
        "area_mm2": [round(r.spread.area_mm2, 2) for r in results],
    }


def analyse_and_add(
    uow: Any,
    data: bytes,
    *,
    name: str,
    actor: str,
    injection_at_s: float | None = None,
    study_instance_uid: str | None = None,
) -> tuple[int, AnalysisReport]:
    """Analyse a DICOM cine, keep the file, add the summary and its audit entry (the caller commits).

    Parameters
    ----------
    uow : UnitOfWork
        Unit of work (not committed here).
    data : bytes
        The DICOM file content.
    name : str
        Original file name (shown on the pages; the kept file gets a generated name).
    actor : str
        User name for the record and the audit trail.
    injection_at_s : float, optional
        Injection start on the cine's time axis.
    study_instance_uid : str, optional
        Study to attach the analysis to (defaults to the file's Study Instance UID).

    Returns
    -------
    tuple of (int, AnalysisReport)
        Stored id and the full report.
    """
    import pydicom

    from painguide.sono.dicom import read_dicom_cine
    from painguide.store.audit import record_audit
    from painguide.store.sono_repository import add_analysis

    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError("file", "the cine is larger than 200 MB; export a shorter clip")
    if injection_at_s is not None and not (math.isfinite(injection_at_s) and injection_at_s >= 0):
        raise ValidationError("injection_at", f"expected seconds from the first frame, got {injection_at_s}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.dcm"
        path.write_bytes(data)
        cine = read_dicom_cine(path)
        header = pydicom.dcmread(path, stop_before_pixels=True)
    study = study_instance_uid or header.get("StudyInstanceUID")
    report = analyze_frames(cine.frames, name=name, injection_at_s=injection_at_s)
    kept = cine_dir() / f"{uuid.uuid4().hex}.dcm"
    kept.write_bytes(data)
    try:
        row = add_analysis(
            uow.session,
            report.as_dict(),
            actor=actor,
            study_instance_uid=str(study) if study else None,
            sop_instance_uid=str(header.get("SOPInstanceUID", "")) or None,
            timeline=timeline_of(report.results),
            cine_file=kept.name,
        )
        record_audit(uow.session, actor, "sono.analysis.add", "sono_analysis", str(row.id), {"file": name})
    except Exception:
        kept.unlink(missing_ok=True)
        raise
    return row.id, report


def analyse_and_store(
    uow: Any,
    data: bytes,
    *,
    name: str,
    actor: str,
    injection_at_s: float | None = None,
    study_instance_uid: str | None = None,
) -> tuple[int, AnalysisReport]:
    """Analyse an uploaded DICOM cine, keep it, store the summary, audit it and commit.

    Parameters are those of :func:`analyse_and_add`.

    Returns
    -------
    tuple of (int, AnalysisReport)
        Stored id and the full report.
    """
    analysis_id, report = analyse_and_add(
        uow,
        data,
        name=name,
        actor=actor,
        injection_at_s=injection_at_s,
        study_instance_uid=study_instance_uid,
    )
    uow.commit()
    return analysis_id, report


def _frame_at(times: list[float], time_s: float) -> int:
    """Index of the first frame at or after ``time_s`` (the last frame when none is)."""
    return next((i for i, t in enumerate(times) if t >= time_s - 1e-6), len(times) - 1)


def key_frames(
    timeline: dict[str, list[Any]] | None, events: list[dict[str, Any]], *, limit: int = 6
) -> list[KeyFrame]:
    """Moments worth a thumbnail: first needle, injection start, spread onset, warnings, largest spread.

    Parameters
    ----------
    timeline : dict of lists, optional
        Stored per-frame series (see :func:`timeline_of`); without it there are no key frames.
    events : list of dict
        Stored events (``time_s``, ``type``, ``detail``).
    limit : int
        Most thumbnails returned.

    Returns
    -------
    list of KeyFrame
        In time order, one per frame, at least three when the cine has three frames.

    Examples
    --------
    >>> tl = {"time_s": [0.0, 0.5, 1.0, 1.5], "area_mm2": [0, 0, 2.0, 5.0]}
    >>> [k.label for k in key_frames(tl, [{"time_s": 0.5, "type": "injection_start"}])]
    ['First frame', 'Injection start', 'Largest spread (5 mm²)']
    """
    times = [float(t) for t in (timeline or {}).get("time_s", [])]
    if not times:
        return []
    chosen: dict[int, KeyFrame] = {}
    for event in events:
        label = _KEY_LABELS.get(str(event.get("type")))
        if label is None or (event["type"] == "needle_visible" and "Needle first seen" in _labels(chosen)):
            continue
        index = _frame_at(times, float(event["time_s"]))
        warning = event["type"] in WARNING_TYPES
        if index not in chosen or warning:
            chosen[index] = KeyFrame(index, times[index], label, warning)
    areas = [float(a or 0.0) for a in timeline.get("area_mm2", [])] if timeline else []
    if areas and max(areas) > 0:
        peak = areas.index(max(areas))
        chosen.setdefault(peak, KeyFrame(peak, times[peak], f"Largest spread ({max(areas):.0f} mm²)"))
    for index, label in ((0, "First frame"), (len(times) - 1, "Last frame"), (len(times) // 2, "Middle")):
        if len(chosen) >= 3:
            break
        chosen.setdefault(index, KeyFrame(index, times[index], label))
    ordered = [chosen[i] for i in sorted(chosen)]
    if len(ordered) > limit:  # keep warnings first, then the earliest moments
        keep = sorted(ordered, key=lambda k: (not k.warning, k.index))[:limit]
        ordered = sorted(keep, key=lambda k: k.index)
    return ordered


def _labels(chosen: dict[int, KeyFrame]) -> set[str]:
    return {k.label for k in chosen.values()}


def _kept_cine(row: Any) -> Path | None:
    name = row.cine_file
    if not name or not _CINE_NAME.match(name):
        return None
    path = cine_dir() / name
    return path if path.is_file() else None


def get_review(uow: Any, analysis_id: int) -> Review:
    """The stored analysis with its key frames; raises :class:`NotFoundError` for an unknown id."""
    from painguide.store.sono_repository import get_analysis

    row = get_analysis(uow.session, analysis_id)
    return Review(row, key_frames(row.timeline, list(row.events)), _kept_cine(row) is not None)


def key_frame_jpeg(uow: Any, analysis_id: int, index: int) -> bytes:
    """A key frame of a stored analysis with the overlay, as JPEG, drawn from the kept cine.

    Raises
    ------
    NotFoundError
        Unknown analysis, cine not kept, or ``index`` is not one of the analysis' key frames.
    """
    review = get_review(uow, analysis_id)
    indices = tuple(k.index for k in review.key_frames)
    path = _kept_cine(review.row)
    if path is None:
        raise NotFoundError(
            f"ultrasound analysis {analysis_id}: the cine was not kept, so no frame can be drawn; "
            "upload it again to review its frames"
        )
    if index not in indices:
        raise NotFoundError(
            f"frame {index} is not a key frame of ultrasound analysis {analysis_id}; "
            f"use one of {', '.join(map(str, indices))}"
        )
    start = review.row.injection_start_s
    # the stored start is rounded to 1 ms: replay from just before it so the same frame starts it
    return _render(str(path), None if start is None else start - 1e-3, indices)[index]


@lru_cache(maxsize=16)
def _render(path: str, injection_at_s: float | None, indices: tuple[int, ...]) -> dict[int, bytes]:
    """Replay the pipeline over the kept cine and draw the overlay on the key frames (cached)."""
    import cv2

    from painguide.sono.dicom import read_dicom_cine
    from painguide.sono.overlay import draw_overlay
    from painguide.sono.pipeline import GuidancePipeline

    frames = read_dicom_cine(path).frames
    pipeline = GuidancePipeline(injection_at_s=injection_at_s)
    wanted = set(indices)
    warnings: list[str] = []
    out: dict[int, bytes] = {}
    for position, frame in enumerate(frames[: max(indices) + 1]):
        result = pipeline(frame)
        ended = pipeline.finish(frame.time_s) if position == len(frames) - 1 else []
        warnings.extend(e.type.replace("_", " ").upper() for e in [*result.events, *ended] if e.is_warning)
        if position in wanted:
            image = draw_overlay(_enlarged(frame), result, warnings=warnings)
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
            if ok:
                out[position] = encoded.tobytes()
    return out


def _enlarged(frame: Any) -> Any:
    """The frame scaled up to :data:`THUMBNAIL_WIDTH` (same millimetres, finer spacing) for legible labels."""
    import cv2

    from painguide.sono.frames import Frame

    rows, cols = frame.shape
    if cols >= THUMBNAIL_WIDTH:
        return frame
    factor = THUMBNAIL_WIDTH / cols
    pixels = cv2.resize(frame.pixels, (THUMBNAIL_WIDTH, round(rows * factor)), interpolation=cv2.INTER_LINEAR)
    return Frame(
        pixels,
        frame.row_spacing_mm * rows / pixels.shape[0],
        frame.col_spacing_mm / factor,
        frame.time_s,
        frame.index,
        frame.source_id,
    )
