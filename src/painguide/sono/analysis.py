"""Offline analysis of a recorded cine: the service behind ``painguide sono analyze`` and the review page."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.sono.frames import Frame
from painguide.sono.overlay import VideoWriter, draw_overlay
from painguide.sono.pipeline import Event, FrameResult, GuidancePipeline

__all__ = ["AnalysisReport", "analyze_frames", "same_result", "summarise"]


@dataclass(frozen=True, slots=True)
class AnalysisReport:
    """Per-frame results and events of one cine.

    Attributes
    ----------
    file : str
        The analysed file (or source id).
    results : list of FrameResult
        One per frame.
    events : list of Event
        All events in time order.
    summary : dict
        Headline numbers (see :func:`summarise`).
    """

    file: str
    results: list[FrameResult] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    summary: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The JSON document of ``painguide sono analyze --json``."""
        return {
            "file": self.file,
            "frames": [r.as_dict() for r in self.results],
            "events": [e.as_dict() for e in self.events],
            "summary": self.summary,
        }

    def record(self) -> dict[str, object]:
        """The stored form: :meth:`as_dict` with each event (and each warning of the summary) as
        :meth:`Event.record`, so a page can show the details in its reader's language."""
        warnings = [e.record() for e in self.events if e.is_warning]
        return {
            **self.as_dict(),
            "events": [e.record() for e in self.events],
            "summary": {**self.summary, "warnings": warnings},
        }


def summarise(results: list[FrameResult], events: list[Event]) -> dict[str, object]:
    """Headline numbers of an analysis, as stored per study.

    Parameters
    ----------
    results : list of FrameResult
        Per-frame results.
    events : list of Event
        Events.

    Returns
    -------
    dict
        ``frames``, ``duration_s``, ``needle_visible_fraction``, ``final_tip_x_mm``/``_z_mm``,
        ``final_angle_deg``, ``injection_start_s``, ``spread_onset_s``, ``max_spread_area_mm2``, ``warnings``,
        ``median_processing_ms``.
    """
    visible = [r for r in results if r.needle.visible]
    last = visible[-1].needle if visible else None

    def first(kind: str) -> float | None:
        return next((round(e.time_s, 3) for e in events if e.type == kind), None)

    return {
        "frames": len(results),
        "duration_s": round(results[-1].time_s - results[0].time_s, 3) if results else 0.0,
        "needle_visible_fraction": round(len(visible) / len(results), 3) if results else 0.0,
        "final_tip_x_mm": round(last.tip_x_mm, 2) if last else None,
        "final_tip_z_mm": round(last.tip_z_mm, 2) if last else None,
        "final_angle_deg": round(last.angle_deg, 2) if last else None,
        "injection_start_s": first("injection_start"),
        "spread_onset_s": first("spread_onset"),
        "max_spread_area_mm2": round(max((r.spread.area_mm2 for r in results), default=0.0), 2),
        "warnings": [e.as_dict() for e in events if e.is_warning],
        "median_processing_ms": round(statistics.median(r.processing_ms for r in results), 3)
        if results
        else 0.0,
    }


def same_result(
    summary: Mapping[str, object], events: Sequence[object], record: Mapping[str, object]
) -> bool:
    """Whether a stored analysis (its ``summary`` and ``events``) has the result of ``record``
    (:meth:`AnalysisReport.record` of a new run): every figure and event the same, the processing time
    aside. The same cine analysed the same way again is then the same analysis, not a new one.

    Examples
    --------
    >>> new = {"summary": {"frames": 2, "median_processing_ms": 8.1}, "events": [{"type": "x", "time_s": 1}]}
    >>> same_result({"frames": 2, "median_processing_ms": 7.2}, [{"type": "x", "time_s": 1}], new)
    True
    >>> same_result({"frames": 2}, [{"type": "x", "time_s": 1.05}], new)
    False
    """
    stored = json.loads(json.dumps({"summary": dict(summary), "events": list(events)}))
    fresh = json.loads(json.dumps({"summary": record["summary"], "events": record["events"]}))
    for side in (stored, fresh):
        side["summary"].pop("median_processing_ms", None)
    return bool(stored == fresh)


def check_injection_at(frames: Sequence[Frame] | None, injection_at_s: float | None) -> None:
    """Refuse an injection start that lies off the cine's time axis (before 0 or after its last frame; only
    the first when ``frames`` is ``None``, a stream whose end is not known).

    An injection start after the last frame would never be applied: the cine would be analysed as one
    without an injection, with no injection start and no "no visible spread" check, and nothing would say so.

    Raises
    ------
    ValidationError
        ``injection_at``, naming the cine's time range.
    """
    if injection_at_s is None:
        return
    if not (math.isfinite(injection_at_s) and injection_at_s >= 0):
        raise ValidationError(
            "injection_at", N_("expected seconds from the first frame, got %(value)s"), value=injection_at_s
        )
    if frames is None:
        return
    last = max((f.time_s for f in frames), default=0.0)
    if injection_at_s > last:
        raise ValidationError(
            "injection_at",
            N_("%(value)s s lies after the cine's last frame (%(last)s s); give a time from 0 to %(last)s s"),
            value=injection_at_s,
            last=round(last, 2),
        )


def analyze_frames(
    frames: Iterable[Frame],
    *,
    name: str,
    injection_at_s: float | None = None,
    no_spread_timeout_s: float = 4.0,
    overlay_path: str | Path | None = None,
    fps: float = 20.0,
    progress: Callable[[int], None] | None = None,
) -> AnalysisReport:
    """Run the guidance pipeline over frames, optionally writing the annotated video.

    Parameters
    ----------
    frames : iterable of Frame
        Frames in time order.
    name : str
        File or source name for the report.
    injection_at_s : float, optional
        Injection start on the cine's time axis.
    no_spread_timeout_s : float
        Delay after the injection start before warning "no visible spread".
    overlay_path : str or Path, optional
        Where to write the annotated video (``.mp4`` or ``.avi``).
    fps : float
        Frame rate of the annotated video.
    progress : callable, optional
        Called with the number of frames done.

    Returns
    -------
    AnalysisReport
        Results, events and summary.
    """

    pipeline = GuidancePipeline(injection_at_s=injection_at_s, no_spread_timeout_s=no_spread_timeout_s)
    writer = VideoWriter(overlay_path, fps=fps) if overlay_path is not None else None
    results: list[FrameResult] = []
    events: list[Event] = []
    warnings: list[str] = []
    try:
        for i, frame in enumerate(frames):
            result = pipeline(frame)
            results.append(result)
            events.extend(result.events)
            warnings.extend(e.type for e in result.events if e.is_warning)
            if writer is not None:
                writer.write(draw_overlay(frame, result, warnings=warnings))
            if progress is not None:
                progress(i + 1)
        if results:
            events.extend(pipeline.finish(results[-1].time_s))
    finally:
        if writer is not None:
            writer.close()
    return AnalysisReport(name, results, events, summarise(results, events))


def frame_rate(frames: list[Frame]) -> float:
    """Frames per second from frame times (20 when unknown)."""
    if len(frames) < 2 or frames[-1].time_s <= frames[0].time_s:
        return 20.0
    rate = (len(frames) - 1) / (frames[-1].time_s - frames[0].time_s)
    return rate if math.isfinite(rate) else 20.0
