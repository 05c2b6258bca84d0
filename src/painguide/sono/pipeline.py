"""The guidance pipeline: needle tracking, spread detection, injection timing and warnings per frame."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np

from painguide.errors import Param, ValidationError
from painguide.i18n.marks import N_
from painguide.sono.frames import Frame
from painguide.sono.needle import FloatArray, NeedleDetector, NeedleObservation, NeedleTracker
from painguide.sono.spread import SpreadDetector, SpreadObservation
from painguide.sono.vessel import Vessel, VesselDetector, fluid_overlap, path_distance

__all__ = ["EVENT_LABELS", "EVENT_TYPES", "WARNING_TYPES", "Event", "FrameResult", "GuidancePipeline"]

EVENT_TYPES = (
    "needle_visible",
    "needle_lost",
    "injection_start",
    "spread_onset",
    "no_visible_spread",
    "spread_away_from_tip",
    "vessel_near_path",
    "fluid_in_vessel",
    "cine_ended_without_spread",
)
"""Event types; see :data:`WARNING_TYPES` for the warnings."""

WARNING_TYPES = (
    "no_visible_spread",
    "spread_away_from_tip",
    "vessel_near_path",
    "fluid_in_vessel",
    "cine_ended_without_spread",
)
"""Event types that are warnings to show to the operator."""

EVENT_LABELS: dict[str, str] = {
    "needle_visible": N_("needle seen"),
    "injection_start": N_("injection start"),
    "spread_onset": N_("spread onset"),
    "no_visible_spread": N_("NO VISIBLE SPREAD"),
    "spread_away_from_tip": N_("SPREAD AWAY FROM TIP"),
    "vessel_near_path": N_("VESSEL NEAR PATH"),
    "fluid_in_vessel": N_("FLUID IN VESSEL"),
    "cine_ended_without_spread": N_("CINE ENDED WITHOUT SPREAD"),
}
"""The words shown for an event on the overlay, the timeline and the live page (to translate; warnings in
capitals); ``needle_lost`` is not shown."""

VESSEL_MARGIN_MM = 3.0
"""Default distance between the needle path and a vessel that raises ``vessel_near_path``: a convention
of this software (about the width of a small vessel's wall motion plus the tip's uncertainty), not a
clinical threshold; set it per site."""
PATH_AHEAD_MM = 10.0
"""Default length of the needle path extrapolated beyond the tip for ``vessel_near_path``."""
LOCAL_AHEAD_MM = 150.0
"""Default length of the needle's line beyond the tip along which fluid is local spread: past the depth of
any image, so the whole line on through the image (a convention of this software)."""


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened at a point in time.

    Attributes
    ----------
    time_s : float
        Time of the frame on which the event was raised.
    type : str
        One of :data:`EVENT_TYPES`.
    detail : str
        Human-readable detail, in English.
    text : str
        The English template of ``detail`` (marked with ``N_``), so a page can show it in its reader's
        language; empty for a detail written without one.
    params : Mapping
        The values filled into ``text`` (decimals rounded as shown).
    """

    time_s: float
    type: str
    detail: str
    text: str = ""
    params: Mapping[str, Param] = field(default_factory=dict, hash=False)

    @classmethod
    def templated(cls, time_s: float, kind: str, text: str, /, **params: Param) -> Event:
        """The event whose detail is the template ``text`` filled from ``params``."""
        return cls(time_s, kind, text % params, text, params)

    @property
    def is_warning(self) -> bool:
        """Whether the event is a warning to show to the operator."""
        return self.type in WARNING_TYPES

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (the ``sono analyze --json`` contract: ``time_s``, ``type``, ``detail``)."""
        return {"time_s": round(self.time_s, 3), "type": self.type, "detail": self.detail}

    def record(self) -> dict[str, object]:
        """The stored form: :meth:`as_dict` with ``text`` and ``params`` where the detail has a template,
        so a page can show it in its reader's language."""
        data = self.as_dict()
        if self.text:
            data.update(text=self.text, params=dict(self.params))
        return data


class NeedleJSON(TypedDict):
    """The needle of one frame in :meth:`FrameResult.as_dict` (millimetres and degrees; ``None`` unknown)."""

    visible: bool
    tip_x_mm: float | None
    tip_z_mm: float | None
    angle_deg: float | None
    length_mm: float | None
    confidence: float


class SpreadJSON(TypedDict):
    """The injectate of one frame in :meth:`FrameResult.as_dict`."""

    visible: bool
    area_mm2: float


class VesselJSON(TypedDict):
    """One vessel of a frame in :meth:`FrameResult.as_dict`."""

    x_mm: float
    z_mm: float
    area_mm2: float
    cue: str


class FrameJSON(TypedDict):
    """The per-frame JSON of ``painguide sono analyze --json`` (:meth:`FrameResult.as_dict`)."""

    index: int
    time_s: float
    needle: NeedleJSON
    spread: SpreadJSON
    processing_ms: float
    vessels: list[VesselJSON]


@dataclass(frozen=True, slots=True)
class FrameResult:
    """Everything the pipeline says about one frame.

    Attributes
    ----------
    index : int
        Frame index in its source.
    time_s : float
        Frame time.
    needle : NeedleObservation
        Tracked needle.
    spread : SpreadObservation
        Injectate.
    processing_ms : float
        Processing time of this frame.
    events : list of Event
        Events raised on this frame.
    vessels : list of Vessel
        Vessels seen on this frame.
    """

    index: int
    time_s: float
    needle: NeedleObservation
    spread: SpreadObservation
    processing_ms: float
    events: list[Event] = field(default_factory=list)
    vessels: list[Vessel] = field(default_factory=list)

    def as_dict(self) -> FrameJSON:
        """The per-frame JSON of ``painguide sono analyze --json``."""
        n = self.needle
        return {
            "index": self.index,
            "time_s": round(self.time_s, 4),
            "needle": {
                "visible": n.visible,
                "tip_x_mm": _num(n.tip_x_mm),
                "tip_z_mm": _num(n.tip_z_mm),
                "angle_deg": _num(n.angle_deg),
                "length_mm": _num(n.length_mm) if n.visible else None,
                "confidence": round(n.confidence, 3),
            },
            "spread": {"visible": self.spread.visible, "area_mm2": round(self.spread.area_mm2, 2)},
            "processing_ms": round(self.processing_ms, 3),
            "vessels": [
                {
                    "x_mm": round(v.x_mm, 2),
                    "z_mm": round(v.z_mm, 2),
                    "area_mm2": round(v.area_mm2, 1),
                    "cue": v.cue,
                }
                for v in self.vessels
            ],
        }


def distance_to_segment(
    outlines: list[FloatArray], start: tuple[float, float], end: tuple[float, float]
) -> float:
    """Shortest distance (mm) from the points of the outlines to the segment from ``start`` to ``end``
    (outlines traced pixel by pixel, as ``SpreadObservation.contours_mm``, so their points are dense).

    Examples
    --------
    >>> import numpy as np
    >>> corners = np.array([[10.0, 0.0], [12.0, 0.0], [12.0, 2.0], [10.0, 2.0]])
    >>> distance_to_segment([corners], (0.0, 2.0), (4.0, 2.0))
    6.0
    >>> distance_to_segment([corners], (12.0, 5.0), (12.0, 9.0))
    3.0
    >>> distance_to_segment([], (0.0, 0.0), (1.0, 0.0))
    inf
    """
    if not outlines:
        return math.inf
    points = np.concatenate(outlines)
    a, b = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    ab = b - a
    length2 = float(ab @ ab)
    along = np.zeros(len(points)) if length2 == 0 else np.clip((points - a) @ ab / length2, 0.0, 1.0)
    nearest = a[None, :] + along[:, None] * ab[None, :]
    return float(np.hypot(*(points - nearest).T).min())


def _shaft_direction(needle: NeedleObservation) -> tuple[float, float]:
    """Unit vector along the shaft towards the tip (``(0, 0)`` for a shaft of no length)."""
    dx, dz = needle.tip_x_mm - needle.start_x_mm, needle.tip_z_mm - needle.start_z_mm
    norm = math.hypot(dx, dz) or 1.0
    return dx / norm, dz / norm


def _plain(value: float) -> Param:
    """``value`` as a whole number where it is one (``4`` rather than ``4.0`` in a message)."""
    return int(value) if float(value).is_integer() else value


def _num(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


class GuidancePipeline:
    """Run needle tracking and spread detection on a stream of frames and raise events.

    Parameters
    ----------
    injection_at_s : float, optional
        Injection start on the cine's time axis, when known in advance (offline analysis).
    no_spread_timeout_s : float
        Warn "no visible spread" when no fluid is seen this long after the injection start.
    away_from_tip_mm : float
        Warn when new fluid is first seen farther than this from the needle tip. Fluid this far from the
        needle (its shaft, its tip and its line ``local_ahead_mm`` on beyond it), while the needle is seen, is
        not local spread: it does not stop the no-spread timer.
    wait_for_injection : bool
        Learn the dark-structure baseline until the injection start; when ``False`` (and no start is known)
        learning stops after the detector's ``baseline_s`` and any later fluid is reported.
    detector : NeedleDetector, optional
        Needle detector settings.
    spread : SpreadDetector, optional
        Spread detector settings.
    vessels : VesselDetector, optional
        Vessel detector settings.
    vessel_margin_mm : float
        Warn ``vessel_near_path`` when the tip or its extrapolated path comes this close to a vessel
        (:data:`VESSEL_MARGIN_MM`, a convention).
    path_ahead_mm : float
        Length of the extrapolated path beyond the tip (``vessel_near_path``).
    local_ahead_mm : float
        Fluid within ``away_from_tip_mm`` of the needle's line on beyond the tip, up to this length, is local
        spread (it stops the no-spread timer). A steep or faint needle's distal part may not be seen, so the
        tracked tip can lie far short of the true one on the same line, and the injectate comes out at the
        true tip (development `steep_deep` 677: tip reported 28 mm short; `vessel_doppler` 981: 29 mm). By
        default the whole line through the image. The onset still raises ``spread_away_from_tip`` when the
        fluid lies farther than ``away_from_tip_mm`` from the tip reported.
    onset_frames : int
        Consecutive frames with fluid that confirm the spread onset.
    strong_spread_mm2 : float
        Fluid at least this large confirms the onset on its first frame.
    still_seen_s : float
        At the timeout (or at the end of a shorter cine) the local spread must have been seen this recently:
        fluid that came and went before (a moving probe can make a lumen near the tip look like fluid for a
        while) does not silence the warning. A convention of this software.
    grown_ratio : float
        At the timeout the local spread must also have grown to this many times the area it had when first
        seen: injectate spreads while it is injected, a dark patch beside the needle that the moving probe or
        the speckle makes into a region keeps its size (development `intravascular_moving` cine 65: 1.9-2.2
        mm² for 5 s). Not asked at the end of a cine shorter than the timeout, which may end before the
        fluid had time to grow. 0 turns it off. A convention of this software, chosen on development cines.
    grown_mm2 : float
        ... and its largest area must have reached at least this: a false local patch beside a tip in a
        vessel, with the probe moving, stays small but may double (development `intravascular_moving` 629:
        1.3 → 3.4 mm², just after its timeout; 781: 1.1 → 2.1 mm²; 411: 1.5 → 2.25 mm² for 4 s; the largest
        seen, 394: 3.8 → 5.1 mm², gone before its timeout), while injectate covers far more by then
        (development cines 300-334 of the eleven families with fluid, 385 cines run on to 4.6 s after the
        injection start: at least 16 mm² at the timeout, a thin `fascial_spread` layer; every other at least
        21 mm²). Asked with ``grown_ratio``, not at the end of a shorter cine. 0 turns it off. A convention
        of this software, chosen on development cines.
    lumen_window_s : float
        For this long after the first fluid seen after the injection start, ``fluid_in_vessel`` is also
        raised when at least half of the fluid lies within 1 mm of a dark structure of the learned floor that
        the tracked tip lies in or within 2 mm of (:meth:`SpreadDetector.lumen_share`): injectate that goes
        into a vein first fills and swells it, also where the vein, squeezed flat or filled by the needle's
        echo, was never found as a vessel by its pulsation. Only the first fluid is asked: a pool growing at
        the tip soon reaches beyond any dark structure near it. 0 turns it off. A convention of this
        software, chosen on development cines.
    vessel_before_injection : bool
        After the injection start, report (draw, warn about, ask ``fluid_in_vessel`` of) only the vessels
        that were there before it: a Doppler vessel, a B-mode vessel whose anechoic blob has been followed
        since the start or before (:attr:`Vessel.seen_since_s`), or one that lies, at least half of it, on
        a dark structure of the learned floor (:meth:`SpreadDetector.lumen_share` of its outline around its
        centre): a vein that became anechoic enough to be followed only once it swelled. A pool of
        injectate in tissue is itself an anechoic blob that appears after the start, over tissue that was
        not dark, and its growing area, jittered by the speckle and the needle's echoes, can swing enough
        to be called ``compressible`` or ``pulsatile``, the more likely the longer the injection lasts; it
        is drawn as a vessel and raises ``vessel_near_path`` (the tip lies in it) and ``fluid_in_vessel``.
        But a vein the needle lies in may become anechoic enough to be followed only as it swells, away
        from any dark structure of the floor, and looks the same. Off by default, so that no injection into
        such a vein goes unwarned: on development cines run on to 5.5 s after the injection start it took
        the false ``fluid_in_vessel`` warnings from 40 to 6 of 150 cines with local spread, but also the
        warned vein injections from 26 to 20 of 30 (docs/sono.md, *Events*). ``False`` reports every vessel.
    """

    def __init__(
        self,
        *,
        injection_at_s: float | None = None,
        no_spread_timeout_s: float = 4.0,
        away_from_tip_mm: float = 8.0,
        wait_for_injection: bool = False,
        detector: NeedleDetector | None = None,
        spread: SpreadDetector | None = None,
        vessels: VesselDetector | None = None,
        vessel_margin_mm: float = VESSEL_MARGIN_MM,
        path_ahead_mm: float = PATH_AHEAD_MM,
        local_ahead_mm: float = LOCAL_AHEAD_MM,
        onset_frames: int = 2,
        strong_spread_mm2: float = 3.0,
        still_seen_s: float = 1.0,
        grown_ratio: float = 2.0,
        grown_mm2: float = 8.0,
        lumen_window_s: float = 0.3,
        vessel_before_injection: bool = False,
    ) -> None:
        if no_spread_timeout_s <= 0:
            raise ValidationError("no_spread_timeout_s", "must be a positive number of seconds")
        if still_seen_s < 0:
            raise ValidationError("still_seen_s", "must be zero or a positive number of seconds")
        if grown_ratio < 0:
            raise ValidationError("grown_ratio", "must be zero or a positive ratio of areas")
        if grown_mm2 < 0:
            raise ValidationError("grown_mm2", "must be zero or a positive area in mm²")
        if local_ahead_mm < 0:
            raise ValidationError("local_ahead_mm", "must be zero or a positive length in mm")
        self.injection_at_s = injection_at_s
        self.no_spread_timeout_s = no_spread_timeout_s
        self.away_from_tip_mm = away_from_tip_mm
        self.wait_for_injection = wait_for_injection
        self.tracker = NeedleTracker(detector=detector)
        self.spread = spread if spread is not None else SpreadDetector()
        self._injection_started: float | None = None
        self._pending_start: float | None = injection_at_s
        self._needle_visible = False
        self._spread_streak = 0
        self._onset: float | None = None
        self._local_streak = 0
        self._local: float | None = None
        self._last_local: float | None = None
        self._local_first_mm2 = math.nan  # area of the fluid on the first frame it was local
        self._local_most_mm2 = 0.0  # largest local fluid since
        self._warned = False
        self._settled = False
        self._last_tip: tuple[float, float] | None = None
        self.vessels = vessels if vessels is not None else VesselDetector()
        self.vessel_margin_mm = vessel_margin_mm
        self.path_ahead_mm = path_ahead_mm
        self.local_ahead_mm = local_ahead_mm
        self.onset_frames = onset_frames
        self.strong_spread_mm2 = strong_spread_mm2
        self.still_seen_s = still_seen_s
        self.grown_ratio = grown_ratio
        self.grown_mm2 = grown_mm2
        self.lumen_window_s = lumen_window_s
        self.vessel_before_injection = vessel_before_injection
        self._near_vessel = False
        self._fluid_in_vessel = False
        self._first_fluid_s: float | None = None  # the first frame with fluid after the injection start

    @property
    def injection_time_s(self) -> float | None:
        """When the injection started (``None`` before)."""
        return self._injection_started

    @property
    def spread_onset_s(self) -> float | None:
        """Time of the first frame of confirmed spread (``None`` before)."""
        return self._onset

    @property
    def local_spread_s(self) -> float | None:
        """Time of the first frame of confirmed local spread: fluid within ``away_from_tip_mm`` of the
        needle (shaft, tip or its line ahead), or any fluid while the needle is not seen (``None``
        before)."""
        return self._local

    @property
    def awaiting_spread(self) -> bool:
        """Whether the injection has started (or been signalled) and the check at the timeout is still to
        come: neither the warning nor local spread seen at the timeout."""
        started = self._injection_started is not None or self._pending_start is not None
        return started and not self._warned and not self._settled

    def _settle_at(self, time_s: float, *, grown: bool = True) -> bool:
        """Make the check at ``time_s``: settled (no warning, now or later) when local spread was confirmed
        and seen within ``still_seen_s`` before it and, with ``grown``, has grown (see ``grown_ratio``).
        Returns whether it settled."""
        if self._local is not None and self._last_local is not None:
            recent = time_s - self._last_local <= self.still_seen_s
            self._settled = recent and (not grown or self._grown())
        return self._settled

    def _grown(self) -> bool:
        """Whether the local fluid grew to ``grown_ratio`` times the area it had on the first frame it was
        local and to at least ``grown_mm2`` (each true when not asked, at 0)."""
        ratio = self.grown_ratio <= 0 or self._local_most_mm2 >= self.grown_ratio * self._local_first_mm2
        return ratio and self._local_most_mm2 >= self.grown_mm2

    def warn_no_spread(self, time_s: float, text: str, /, **params: Param) -> Event | None:
        """Raise ``no_visible_spread`` from outside the frame loop (the live wall-clock timer).

        Parameters
        ----------
        time_s : float
            Time on the frame time axis to stamp the event with.
        text : str
            Why the warning fires (for example that the stream stalled): a template marked with ``N_``.
        **params
            The values filled into ``text``.

        Returns
        -------
        Event or None
            The warning, or ``None`` when local spread is seen (within ``still_seen_s``) or the check at
            the timeout was already made.
        """
        if not self.awaiting_spread or self._settle_at(time_s):
            return None
        self._warned = True
        return Event.templated(time_s, "no_visible_spread", text, **params)

    def finish(self, end_time_s: float) -> list[Event]:
        """Events at the end of a recorded cine: warn when it ends after the injection start without spread.

        Parameters
        ----------
        end_time_s : float
            Time of the last frame.

        Returns
        -------
        list of Event
            ``cine_ended_without_spread`` when the injection started, the timeout had not yet passed and
            local spread was not seen in the last ``still_seen_s``; otherwise empty.
        """
        start = self._injection_started
        if start is None or not self.awaiting_spread or self._settle_at(end_time_s, grown=False):
            return []
        self._warned = True
        if self._onset is None:
            text = N_(
                "cine ended %(seconds)s s after the injection start with no visible spread (the warning "
                "waits %(timeout)s s): check the needle position (intravascular or out of plane?) or "
                "record longer after the injection"
            )
        else:
            text = N_(
                "cine ended %(seconds)s s after the injection start with no spread seen at the needle tip in "
                "its last %(recent)s s (the warning waits %(timeout)s s): check the needle position "
                "(intravascular or out of plane?) or record longer after the injection"
            )
        return [
            Event.templated(
                end_time_s,
                "cine_ended_without_spread",
                text,
                seconds=round(end_time_s - start, 1),
                timeout=_plain(self.no_spread_timeout_s),
                recent=_plain(self.still_seen_s),
            )
        ]

    def start_injection(self, time_s: float) -> None:
        """Signal the injection start (CLI option, API call or OpenIGTLink STRING).

        Parameters
        ----------
        time_s : float
            Time on the frame time axis; the start is applied on the first frame at or after it.
        """
        if self._injection_started is None:
            self._pending_start = time_s

    def __call__(self, frame: Frame) -> FrameResult:
        """Process one frame.

        Parameters
        ----------
        frame : Frame
            The next frame, in time order.

        Returns
        -------
        FrameResult
            Needle, spread, processing time and the events raised on this frame.
        """
        started = time.perf_counter()
        events: list[Event] = []
        t = frame.time_s
        if self._pending_start is not None and self._injection_started is None and t >= self._pending_start:
            self._injection_started = t
            events.append(
                Event.templated(t, "injection_start", N_("injection started at %(time)s s"), time=round(t, 2))
            )
        work = self.tracker.detector.working(frame)
        needle = self.tracker(frame, work=work)
        self._needle_events(needle, t, events)
        if needle.visible:
            self._last_tip = (needle.tip_x_mm, needle.tip_z_mm)
        free_running = not self.wait_for_injection and self._pending_start is None
        shared = work if self.spread.work_spacing_mm == self.tracker.detector.work_spacing_mm else None
        shaft = (
            (needle.start_x_mm, needle.start_z_mm, needle.tip_x_mm, needle.tip_z_mm)
            if needle.visible
            else None
        )
        spread = self.spread(
            frame,
            tip_mm=self._last_tip,
            shaft_mm=shaft,
            injecting=self._injection_started is not None,
            free_running=free_running,
            work=shared,
        )
        self._spread_events(spread, needle, t, events)
        vessels = self.vessels(frame, work=work)
        if self._injection_started is not None and self.vessel_before_injection:
            vessels = [v for v in vessels if self._was_there(v)]
        self._vessel_events(needle, spread, vessels, t, events)
        elapsed = (time.perf_counter() - started) * 1000.0
        return FrameResult(frame.index, t, needle, spread, elapsed, events, vessels)

    def _vessel_events(
        self,
        needle: NeedleObservation,
        spread: SpreadObservation,
        vessels: list[Vessel],
        t: float,
        events: list[Event],
    ) -> None:
        """``vessel_near_path`` once per approach (re-armed 1 mm farther out); ``fluid_in_vessel`` once."""
        if needle.visible and vessels:
            tip, direction = (needle.tip_x_mm, needle.tip_z_mm), _shaft_direction(needle)
            distance, nearest = min(
                ((path_distance(v, tip, direction, self.path_ahead_mm), v) for v in vessels),
                key=lambda d: d[0],
            )
            if distance <= self.vessel_margin_mm and not self._near_vessel:
                self._near_vessel = True
                events.append(
                    Event.templated(
                        t,
                        "vessel_near_path",
                        N_(
                            "needle path %(distance)s mm from a vessel (%(cue)s) at x=%(x)s mm, z=%(z)s mm: "
                            "check the trajectory"
                        ),
                        distance=round(distance, 1),
                        cue=nearest.cue,
                        x=round(nearest.x_mm, 1),
                        z=round(nearest.z_mm, 1),
                    )
                )
            elif distance > self.vessel_margin_mm + 1.0:
                self._near_vessel = False
        if not spread.visible or self._fluid_in_vessel or self._injection_started is None:
            return
        if self._first_fluid_s is None:
            self._first_fluid_s = t
        found = next((v for v in vessels if fluid_overlap(spread.contours_mm, v) >= 0.5), None)
        if found is not None:
            text = N_(
                "fluid appeared inside a vessel outline at x=%(x)s mm, z=%(z)s mm: stop and check for "
                "intravascular injection"
            )
            x, z = found.x_mm, found.z_mm
        elif (
            needle.visible
            and self.lumen_window_s > 0
            and t - self._first_fluid_s <= self.lumen_window_s
            and self.spread.lumen_share(spread, (needle.tip_x_mm, needle.tip_z_mm)) >= 0.5
        ):
            text = N_(
                "fluid appeared in the dark structure the needle tip lies in (a vein?) at x=%(x)s mm, "
                "z=%(z)s mm: stop and check for intravascular injection"
            )
            x, z = spread.centre_x_mm, spread.centre_z_mm
        else:
            return
        self._fluid_in_vessel = True
        events.append(Event.templated(t, "fluid_in_vessel", text, x=round(x, 1), z=round(z, 1)))

    def _was_there(self, vessel: Vessel) -> bool:
        """Whether ``vessel``, seen after the injection start, was there before it: followed since the start
        or before, or lying (at least half of it) on a dark structure of the learned floor, a lumen that
        only became anechoic enough to be followed once it swelled (``vessel_before_injection``)."""
        start = self._injection_started
        if start is not None and vessel.seen_since_s <= start:
            return True
        outline = SpreadObservation(True, vessel.area_mm2, vessel.x_mm, vessel.z_mm, 0.0, [vessel.outline_mm])
        return self.spread.lumen_share(outline, (vessel.x_mm, vessel.z_mm)) >= 0.5

    def _needle_events(self, needle: NeedleObservation, t: float, events: list[Event]) -> None:
        if needle.visible and not self._needle_visible:
            events.append(
                Event.templated(
                    t,
                    "needle_visible",
                    N_("tip at x=%(x)s mm, z=%(z)s mm"),
                    x=round(needle.tip_x_mm, 1),
                    z=round(needle.tip_z_mm, 1),
                )
            )
        elif self._needle_visible and not needle.visible:
            events.append(Event.templated(t, "needle_lost", N_("needle no longer visible in plane")))
        self._needle_visible = needle.visible

    def _confirmed(self, streak: int, spread: SpreadObservation) -> bool:
        """Whether fluid seen on ``streak`` consecutive frames (this one included) confirms an onset."""
        return streak >= self.onset_frames or (streak == 1 and spread.area_mm2 >= self.strong_spread_mm2)

    def _is_local(self, spread: SpreadObservation, needle: NeedleObservation) -> bool:
        """Fluid near the needle: its tip, its shaft (injectate left behind by a needle that moved on) or its
        line on beyond the tip, ``local_ahead_mm`` long (a tip the tracker placed short of the true one has
        the fluid on its line); any fluid while the needle is not seen in this frame (the last tip may be
        stale)."""
        if not spread.visible:
            return False
        if not needle.visible or spread.distance_to_tip_mm <= self.away_from_tip_mm:
            return True
        ux, uz = _shaft_direction(needle)
        start = (needle.start_x_mm, needle.start_z_mm)
        ahead = (needle.tip_x_mm + ux * self.local_ahead_mm, needle.tip_z_mm + uz * self.local_ahead_mm)
        return distance_to_segment(spread.contours_mm, start, ahead) <= self.away_from_tip_mm

    def _spread_events(
        self, spread: SpreadObservation, needle: NeedleObservation, t: float, events: list[Event]
    ) -> None:
        self._spread_streak = self._spread_streak + 1 if spread.visible else 0
        self._local_streak = self._local_streak + 1 if self._is_local(spread, needle) else 0
        if self._local_streak:
            self._last_local = t
            if math.isnan(self._local_first_mm2):
                self._local_first_mm2 = spread.area_mm2
            self._local_most_mm2 = max(self._local_most_mm2, spread.area_mm2)
            if self._local is None and self._confirmed(self._local_streak, spread):
                self._local = t
        if self._onset is None and self._spread_streak and self._confirmed(self._spread_streak, spread):
            self._onset = t
            area = round(spread.area_mm2, 1)
            if math.isfinite(spread.distance_to_tip_mm):
                events.append(
                    Event.templated(
                        t,
                        "spread_onset",
                        N_("fluid %(area)s mm², %(distance)s mm from the tip"),
                        area=area,
                        distance=round(spread.distance_to_tip_mm, 1),
                    )
                )
            else:
                events.append(Event.templated(t, "spread_onset", N_("fluid %(area)s mm²"), area=area))
            if spread.distance_to_tip_mm > self.away_from_tip_mm:
                events.append(
                    Event.templated(
                        t,
                        "spread_away_from_tip",
                        N_(
                            "fluid appeared %(distance)s mm from the needle tip: check the needle position "
                            "(intravascular or wrong plane?)"
                        ),
                        distance=round(spread.distance_to_tip_mm, 1),
                    )
                )
        start = self._injection_started
        if (
            start is not None
            and self.awaiting_spread
            and t - start >= self.no_spread_timeout_s
            and not self._settle_at(t)
        ):
            self._warned = True
            if self._onset is None:
                text = N_(
                    "no visible spread %(seconds)s s after injection start: stop and check the needle "
                    "position (intravascular or out of plane?)"
                )
            else:
                text = N_(
                    "no spread seen at the needle tip in the last %(recent)s s, %(seconds)s s after "
                    "injection start (the fluid seen lies away from the needle or has gone): stop and check "
                    "the needle position (intravascular or out of plane?)"
                )
            events.append(
                Event.templated(
                    t,
                    "no_visible_spread",
                    text,
                    seconds=round(t - start, 1),
                    recent=_plain(self.still_seen_s),
                )
            )
