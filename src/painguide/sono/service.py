"""Services that combine analysis with storage: analyse a DICOM cine, keep it, and prepare its review.

The uploaded cine is kept under ``data_dir/sono`` with a generated name, so the review page can render
key frames with the overlay later. The per-frame series of the review chart are stored with the summary.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

import cv2

from painguide.auth import User
from painguide.errors import DicomError, NotFoundError, PainguideError, PermissionDeniedError, ValidationError
from painguide.i18n.marks import N_
from painguide.i18n.text import ENGLISH, Texts
from painguide.settings import get_settings
from painguide.sono.analysis import AnalysisReport, analyze_frames, check_injection_at, same_result
from painguide.sono.dicom import DicomCine, read_dicom_cine
from painguide.sono.frames import Frame
from painguide.sono.live import Acknowledgement, LiveEntry, LiveRegistry
from painguide.sono.overlay import draw_overlay
from painguide.sono.pipeline import WARNING_TYPES, FrameResult, GuidancePipeline, NeedleJSON, SpreadJSON

if TYPE_CHECKING:  # the store (SQLAlchemy) loads with the first database use, not with this module
    from pydicom.dataset import Dataset

    from painguide.store.sono_tables import SonoAnalysisRow
    from painguide.store.uow import UnitOfWork

__all__ = [
    "MAX_UPLOAD_BYTES",
    "KeyFrame",
    "Review",
    "StoredAnalysis",
    "acknowledge_live_warning",
    "analyse_and_add",
    "analyse_and_store",
    "cine_dir",
    "get_review",
    "key_frame_jpeg",
    "key_frames",
    "live_sessions",
    "live_status",
    "mark_live_injection",
    "may_control",
    "recent_analyses",
    "record_live_view",
    "shows_identity",
    "start_live_source",
    "stop_live_session",
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
    area_mm2 : float or None
        The spread's area, for the moment of the largest spread.
    """

    index: int
    time_s: float
    label: str
    warning: bool = False
    area_mm2: float | None = None


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

    row: SonoAnalysisRow
    key_frames: list[KeyFrame]
    cine_kept: bool


def cine_dir() -> Path:
    """Folder of the kept cines, ``data_dir/sono`` (created on first use)."""

    folder = get_settings().data_dir / "sono"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def timeline_of(results: list[FrameResult]) -> dict[str, list[object]]:
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


class StoredAnalysis(NamedTuple):
    """What an upload gave: the analysis's id, the report of this run, and whether the analysis was stored
    before (the same cine, filed under the same study, with the same result: nothing new was added)."""

    analysis_id: int
    report: AnalysisReport
    repeated: bool = False


def analyse_and_add(
    uow: UnitOfWork,
    data: bytes | Path,
    *,
    name: str,
    actor: str,
    injection_at_s: float | None = None,
    study_instance_uid: str | None = None,
) -> StoredAnalysis:
    """Analyse a DICOM cine, keep the file, add the summary and its audit entry (the caller commits).

    The same cine (SOP Instance UID) uploaded again for the same study, with a result the same in every
    figure and event, is not added twice: the analysis stored before is returned (``repeated``) and the
    repeat is audited (``sono.analysis.repeat``). A different injection start, or a version of the software
    that analyses it differently, gives a new analysis.

    Parameters
    ----------
    uow : UnitOfWork
        Unit of work (not committed here).
    data : bytes or Path
        The DICOM file content, or the file (an upload saved to disk); it is copied to the kept cines.
    name : str
        Original file name (shown on the pages and in error messages; the kept file gets a generated name).
    actor : str
        User name for the record and the audit trail.
    injection_at_s : float, optional
        Injection start on the cine's time axis.
    study_instance_uid : str, optional
        Study to attach the analysis to (defaults to the file's Study Instance UID).

    Returns
    -------
    StoredAnalysis
        Stored id, the full report, and whether it was stored before.
    """
    check_injection_at(None, injection_at_s)  # before the upload is read; its range once it is
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(data, bytes):
            if len(data) > MAX_UPLOAD_BYTES:
                raise ValidationError(
                    "file", N_("%(name)s: the cine is larger than 200 MB; export a shorter clip"), name=name
                )
            path = Path(tmp) / "upload.dcm"
            path.write_bytes(data)
        else:
            path = data
        cine, header = _read_upload(path, name)
        study = study_instance_uid or header.get("StudyInstanceUID")
        check_injection_at(cine.frames, injection_at_s)
        report = analyze_frames(cine.frames, name=name, injection_at_s=injection_at_s)
        record = report.record()
        study_uid = str(study)[:64] if study else None
        sop_uid = str(header.get("SOPInstanceUID", ""))[:64] or None
        earlier = uow.sono.of_instance(sop_uid, study_uid) if sop_uid else []
        same = next((r for r in earlier if same_result(r.summary, r.events, record)), None)
        if same is not None:
            uow.audit.record(actor, "sono.analysis.repeat", "sono_analysis", str(same.id), {"file": name})
            return StoredAnalysis(same.id, report, repeated=True)
        kept = cine_dir() / f"{uuid.uuid4().hex}.dcm"
        shutil.copyfile(path, kept)
    try:
        row = uow.sono.add(
            record,
            actor=actor,
            study_instance_uid=study_uid,
            sop_instance_uid=sop_uid,
            timeline=timeline_of(report.results),
            cine_file=kept.name,
        )
        uow.audit.record(actor, "sono.analysis.add", "sono_analysis", str(row.id), {"file": name})
    except Exception:
        kept.unlink(missing_ok=True)
        raise
    return StoredAnalysis(row.id, report)


def _read_upload(path: Path, name: str) -> tuple[DicomCine, Dataset]:
    """The frames and the header of an uploaded cine; errors name the uploaded file, not the saved copy."""
    import pydicom

    try:
        cine = read_dicom_cine(path, name=name)
        header = pydicom.dcmread(path, stop_before_pixels=True)
    except PainguideError:
        raise
    except Exception as exc:  # untrusted input: any parser failure becomes a clear refusal
        raise DicomError(
            f"{name}: cannot be read as a DICOM ultrasound cine ({type(exc).__name__}); "
            "export the clip again from the scanner as DICOM (Ultrasound Multi-frame Image)"
        ) from exc
    return cine, header


def analyse_and_store(
    uow: UnitOfWork,
    data: bytes | Path,
    *,
    name: str,
    actor: str,
    injection_at_s: float | None = None,
    study_instance_uid: str | None = None,
) -> StoredAnalysis:
    """Analyse an uploaded DICOM cine, keep it, store the summary, audit it and commit.

    Parameters are those of :func:`analyse_and_add`.

    Returns
    -------
    StoredAnalysis
        Stored id, the full report, and whether it was stored before (then it is not linked again).
    """
    stored = analyse_and_add(
        uow,
        data,
        name=name,
        actor=actor,
        injection_at_s=injection_at_s,
        study_instance_uid=study_instance_uid,
    )
    uow.commit()
    if not stored.repeated:
        _link_to_procedure(uow, stored.analysis_id, actor)
    return stored


def _link_to_procedure(uow: UnitOfWork, analysis_id: int, actor: str) -> None:
    """Link a stored analysis to its procedure (after the commit: a failure leaves it for manual linking)."""

    from painguide.pathway.link_service import link_sono_analysis

    try:
        link_sono_analysis(uow, analysis_id, actor=actor)
    except Exception:  # the analysis stands; it stays in the unlinked list
        uow.rollback()
        logging.getLogger(__name__).exception("linking ultrasound analysis %s failed", analysis_id)


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
    ['First frame', 'Injection start', 'Largest spread']
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
        chosen.setdefault(peak, KeyFrame(peak, times[peak], "Largest spread", area_mm2=max(areas)))
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


def _kept_cine(row: SonoAnalysisRow) -> Path | None:
    name = row.cine_file
    if not name or not _CINE_NAME.match(name):
        return None
    path = cine_dir() / name
    return path if path.is_file() else None


def recent_analyses(uow: UnitOfWork, limit: int = 100) -> list[SonoAnalysisRow]:
    """The most recent stored analyses, newest first (the review page's list)."""
    return uow.sono.recent(limit=limit)


def get_review(uow: UnitOfWork, analysis_id: int) -> Review:
    """The stored analysis with its key frames; raises :class:`NotFoundError` for an unknown id."""
    row = uow.sono.get(analysis_id)
    return Review(row, key_frames(row.timeline, list(row.events)), _kept_cine(row) is not None)


def key_frame_jpeg(uow: UnitOfWork, analysis_id: int, index: int, tr: Texts = ENGLISH) -> bytes:
    """A key frame of a stored analysis with the overlay, as JPEG, drawn from the kept cine; the overlay's
    words in ``tr``'s language.

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
    return _render(str(path), None if start is None else start - 1e-3, indices, tr)[index]


@lru_cache(maxsize=16)
def _render(path: str, injection_at_s: float | None, indices: tuple[int, ...], tr: Texts) -> dict[int, bytes]:
    """Replay the pipeline over the kept cine and draw the overlay on the key frames (cached; the web
    layer's translators are equal for equal languages, so each language is drawn once)."""

    frames = read_dicom_cine(path).frames
    pipeline = GuidancePipeline(injection_at_s=injection_at_s)
    wanted = set(indices)
    warnings: list[str] = []
    out: dict[int, bytes] = {}
    for position, frame in enumerate(frames[: max(indices) + 1]):
        result = pipeline(frame)
        ended = pipeline.finish(frame.time_s) if position == len(frames) - 1 else []
        warnings.extend(e.type for e in [*result.events, *ended] if e.is_warning)
        if position in wanted:
            image = draw_overlay(_enlarged(frame), result, warnings=warnings, tr=tr)
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
            if ok:
                out[position] = encoded.tobytes()
    return out


def _enlarged(frame: Any) -> Any:
    """The frame scaled up to :data:`THUMBNAIL_WIDTH` (same millimetres, finer spacing) for legible labels."""

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


# --- live sessions: one per operator; owner or supervisor controls; every control action audited ----------

SUPERVISOR_ROLES = ("physician", "admin")
"""Roles that may control any operator's live session (besides its owner)."""
IDENTITY_ROLES = ("admin", "physician", "rpo", "trainee")
"""Roles that see patient identity (file names, study identifiers); viewers do not."""


def shows_identity(user: User) -> bool:
    """Whether ``user`` may see patient identity (the viewer role sees none)."""
    return bool(user.has_any(*IDENTITY_ROLES))


def may_control(user: User, entry: LiveEntry) -> bool:
    """Whether ``user`` may switch the source, mark the injection, acknowledge or stop ``entry``."""
    return bool(user.username == entry.owner or user.has_any(*SUPERVISOR_ROLES))


_REFUSALS = {
    "source": N_(
        "live session %(session)s belongs to %(owner)s: only its owner or a supervisor "
        "(%(supervisors)s) may switch its source; %(user)s may watch"
    ),
    "injection": N_(
        "live session %(session)s belongs to %(owner)s: only its owner or a supervisor "
        "(%(supervisors)s) may mark the injection in it; %(user)s may watch"
    ),
    "acknowledge": N_(
        "live session %(session)s belongs to %(owner)s: only its owner or a supervisor "
        "(%(supervisors)s) may acknowledge its warnings; %(user)s may watch"
    ),
    "stop": N_(
        "live session %(session)s belongs to %(owner)s: only its owner or a supervisor "
        "(%(supervisors)s) may stop it; %(user)s may watch"
    ),
}
"""What a watcher is told when trying to control another operator's live session, by action (filled with
``session``, ``owner``, ``supervisors`` and ``user``)."""


def _controlled(registry: LiveRegistry, user: User, session_id: str, action: str) -> LiveEntry:
    """The session ``session_id`` if ``user`` may control it; else the refusal of ``action`` (a key of
    :data:`_REFUSALS`; a page shows it in its reader's language)."""
    entry = registry.get(session_id)
    if not may_control(user, entry):
        raise PermissionDeniedError.templated(
            _REFUSALS[action],
            session=session_id,
            owner=entry.owner,
            supervisors=", ".join(sorted(SUPERVISOR_ROLES)),
            user=user.username,
        )
    return entry


def start_live_source(
    uow: UnitOfWork,
    registry: LiveRegistry,
    user: User,
    spec: str,
    *,
    label: str,
    spacing_mm: float | None = None,
    session_id: str | None = None,
    tr: Texts = ENGLISH,
) -> LiveEntry:
    """Start the user's live session on ``spec``, or switch the source of ``session_id``; audited.

    Parameters
    ----------
    uow : UnitOfWork
        Unit of work for the audit entry (committed here).
    registry : LiveRegistry
        The server's live sessions.
    user : User
        The signed-in user.
    spec : str
        Resolved source specification (server paths only from the user's own uploads).
    label : str
        The source as typed (shown on the page and audited).
    spacing_mm : float, optional
        Pixel size for video sources.
    session_id : str, optional
        Another operator's session to switch (owner or supervisor only).
    tr : Texts
        Language of the words burned into the overlay (the user's; other viewers get their own).

    Returns
    -------
    LiveEntry
        The session now running the source.
    """

    if session_id:
        _controlled(registry, user, session_id, "source")
    entry, old = registry.start(
        user.username, spec, label=label, spacing_mm=spacing_mm, session_id=session_id, tr=tr
    )
    if old is not None:
        old.stop()
    detail = {"owner": entry.owner, "source": label}
    uow.audit.record(user.username, "sono.live.source", "sono_live_session", entry.id, detail)
    uow.commit()
    return entry


def mark_live_injection(uow: UnitOfWork, registry: LiveRegistry, user: User, session_id: str) -> LiveEntry:
    """Mark the injection start in a live session now (owner or supervisor); audited."""

    entry = _controlled(registry, user, session_id, "injection")
    session = entry.runner.session
    already = session.injection_signalled
    session.signal_injection()
    detail = {"owner": entry.owner, "time_s": round(session.last_time_s, 3), "already_marked": already}
    uow.audit.record(user.username, "sono.live.injection", "sono_live_session", entry.id, detail)
    uow.commit()
    return entry


def acknowledge_live_warning(
    uow: UnitOfWork, registry: LiveRegistry, user: User, session_id: str, index: int
) -> Acknowledgement:
    """Acknowledge warning ``index`` of a live session (owner or supervisor); audited with the warning.

    Raises
    ------
    ValidationError
        ``index`` is not one of the session's warnings.
    """

    entry = _controlled(registry, user, session_id, "acknowledge")
    warnings = list(entry.runner.session.warning_events)
    if not 0 <= index < len(warnings):
        raise ValidationError(
            "warning",
            N_("expected the index of one of the %(n)s warnings of the session, got %(index)s"),
            n=len(warnings),
            index=index,
        )
    if index in entry.acknowledged:
        return entry.acknowledged[index]
    warning = warnings[index]
    ack = Acknowledgement(user.username, datetime.now(UTC))
    detail = {
        "owner": entry.owner,
        "index": index,
        "warning": warning.type,
        "detail": warning.detail,
        "time_s": round(warning.time_s, 3),
    }
    uow.audit.record(user.username, "sono.live.acknowledge", "sono_live_session", entry.id, detail)
    uow.commit()
    entry.acknowledged[index] = ack
    return ack


def stop_live_session(uow: UnitOfWork, registry: LiveRegistry, user: User, session_id: str) -> LiveEntry:
    """Stop a live session's source (owner or supervisor); the session stays listed as ended; audited."""

    entry = _controlled(registry, user, session_id, "stop")
    entry.runner.stop()
    detail = {"owner": entry.owner, "frames": entry.runner.session.frames}
    uow.audit.record(user.username, "sono.live.stop", "sono_live_session", entry.id, detail)
    uow.commit()
    return entry


def record_live_view(uow: UnitOfWork, user: User, entry: LiveEntry) -> None:
    """Audit that ``user`` opened a live session's images (a read of patient data)."""

    uow.audit.record(user.username, "sono.live.view", "sono_live_session", entry.id, {"owner": entry.owner})
    uow.commit()


class SessionRow(TypedDict):
    """One live session as a user may see it (see :func:`live_sessions`); ``source`` is ``None`` for
    viewers."""

    id: str
    owner: str
    source: str | None
    running: bool
    started_at: str
    frames: int
    unacknowledged: int
    can_control: bool


def _session_row(user: User, entry: LiveEntry) -> SessionRow:
    session = entry.runner.session
    open_warnings = len(session.warning_events) - len(entry.acknowledged)
    return {
        "id": entry.id,
        "owner": entry.owner,
        "source": entry.label if shows_identity(user) else None,
        "running": entry.runner.running,
        "started_at": entry.started_at.isoformat(timespec="seconds"),
        "frames": session.frames,
        "unacknowledged": open_warnings,
        "can_control": may_control(user, entry),
    }


def live_sessions(registry: LiveRegistry, user: User) -> list[SessionRow]:
    """Every live session as the user may see it (no source names for viewers)."""
    return [_session_row(user, e) for e in registry.entries()]


class LiveStatus(TypedDict):
    """The status poll of one live session (see :func:`live_status`); the values are JSON-ready."""

    session: str
    owner: str
    can_control: bool
    source: str | None
    running: bool
    error: str | None
    frames: int
    warnings: list[str]
    warning_details: list[str]
    alerts: list[dict[str, object]]
    unacknowledged: int
    injection_started: bool
    time_s: float | None
    needle: NeedleJSON | None
    spread: SpreadJSON | None
    sessions: list[SessionRow]


def live_status(registry: LiveRegistry, user: User, session_id: str) -> LiveStatus:
    """The status poll of one live session: source, frames, warnings and their acknowledgement, tip, spread.

    Returns
    -------
    dict
        ``session``, ``owner``, ``can_control``, ``source`` (``None`` for viewers), ``running``, ``error``,
        ``frames``, ``warnings``, ``warning_details``, ``alerts`` (each warning with ``index``, ``type``,
        ``detail``, ``time_s``, ``acknowledged``, ``acknowledged_by``, ``acknowledged_at``),
        ``unacknowledged``, ``injection_started``, ``time_s``, ``needle``, ``spread`` and ``sessions``.
    """
    entry = registry.get(session_id)
    session = entry.runner.session
    events = list(session.warning_events)
    alerts: list[dict[str, object]] = []
    for index, event in enumerate(events):
        ack = entry.acknowledged.get(index)
        alerts.append(
            {
                **event.record(),
                "index": index,
                "acknowledged": ack is not None,
                "acknowledged_by": ack.by if ack else None,
                "acknowledged_at": ack.at.isoformat(timespec="seconds") if ack else None,
            }
        )
    latest = session.latest_result
    frame = latest.as_dict() if latest is not None else None
    row = _session_row(user, entry)
    return {
        "session": entry.id,
        "owner": entry.owner,
        "can_control": row["can_control"],
        "source": row["source"],
        "running": row["running"],
        "error": entry.runner.error,
        "frames": session.frames,
        "warnings": [e.type.replace("_", " ").upper() for e in events],
        "warning_details": [e.detail for e in events],
        "alerts": alerts,
        "unacknowledged": row["unacknowledged"],
        "injection_started": session.injection_signalled,
        "time_s": frame["time_s"] if frame else None,
        "needle": frame["needle"] if frame else None,
        "spread": frame["spread"] if frame else None,
        "sessions": live_sessions(registry, user),
    }
