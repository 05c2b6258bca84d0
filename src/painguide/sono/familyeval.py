"""Per-family evaluation on the frozen test set (or development seeds): warning rates with Wilson intervals.

For every scene family of :mod:`painguide.sono.scenes` the pipeline runs over simulated cines and is
compared with the exact ground truth:

- needle: detection rate over frames with a visible shaft; tip error over frames where the tip itself is
  visible and the needle reported; angle error; false needle frames; frames on which the needle reported
  lies off the true one (its tip more than 5 mm from the true shaft's line back from the true tip)
  (``off_needle_frames`` of ``needle_reported_frames``, :data:`OFF_NEEDLE_MM`);
- spread: onset latency after the true first fluid, missed onsets, false spread frames (frames reported
  with fluid where the truth has none); and a second latency (``spread_latency_visible_s``) from when
  the fluid first shows in the image: the first frame on which, against the same cine simulated without
  the fluid, a 1 mm mean is more than :data:`SHOWN_DARKER` grey levels darker over at least
  :data:`SHOWN_AREA_MM2` (:func:`shown_onset_s`), and in cines where the injectate goes into a vessel
  not before the true vessel outline first reaches :data:`VISIBLE_GROWTH_MM` beyond its largest
  pre-injection outline (the first inflow only swells the lumen within its pulsation); and how many of
  the missed onsets had fluid that never showed in the image (``spread_missed_unshown``), and how many
  onsets reported fluid away from the true fluid or before it (``onsets_off_fluid``, :func:`on_fluid`;
  they still count in the latencies, as the user sees them), and the frames with true fluid in which a
  reported region lies off it (``fluid_frames_off`` of ``fluid_frames``, :func:`region_off_fluid`);
- warnings per cine: ``no_visible_spread`` (positive = intravascular cine; a cine that ends before the
  warning's wait with no spread seen counts as warned, as its report says so: ``cine_ended_without_spread``,
  so a missed onset in a cine with spread is a false warning; a cine whose fluid never shows in the image,
  by :func:`visible_onset_s`, is neither: there is no visible spread, so the warning is right to fire, and
  such cines are counted apart, ``unshown_cines`` and of them ``unshown_warned``; so is a cine with spread
  whose true tip lies inside a vessel lumen when the injection starts, :func:`tip_in_lumen_at_injection`:
  such an injection is intravascular in practice, whatever local pool the simulator draws, so the warning
  is a fair prompt there, ``lumen_cines`` and of them ``lumen_warned``), ``fluid_in_vessel``
  (positive = fluid goes into a vessel), ``vessel_near_path`` (positive = the true tip or its 10 mm
  extension passes within the margin of the true vessel), and ``intravascular_flag`` (any of
  :data:`INTRAVASCULAR_WARNINGS`; positive = an intravascular cine or fluid into a vessel), each as
  sensitivity and specificity with a 95 % Wilson score interval;
- vessels: share of frames with a true vessel in which a detected outline lies on it, and false vessel
  detections per frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from painguide.sono.frames import Frame, FrameTruth
from painguide.sono.needle import NeedleObservation
from painguide.sono.pipeline import PATH_AHEAD_MM, VESSEL_MARGIN_MM, FrameResult, GuidancePipeline
from painguide.sono.scenes import FAMILIES, run_on_past_the_wait, scene_params, seed_in, seed_set
from painguide.sono.simulate import SimulatedCine, SimulationParams, simulate_cine

__all__ = [
    "FamilyScore",
    "evaluate_families",
    "on_fluid",
    "region_off_fluid",
    "score_family_cine",
    "shown_onset_s",
    "tip_in_lumen_at_injection",
    "visible_onset_s",
    "wilson",
    "without_fluid",
]

WARNINGS = ("no_visible_spread", "fluid_in_vessel", "vessel_near_path", "intravascular_flag")

INTRAVASCULAR_WARNINGS = (
    "no_visible_spread",
    "cine_ended_without_spread",
    "fluid_in_vessel",
    "spread_away_from_tip",
)
"""The warnings that each ask the user to check for an intravascular injection: ``intravascular_flag`` counts
a cine as flagged when any of them fired (positive = an injection into a vessel: no local spread, or fluid
that swells a vein)."""

VISIBLE_GROWTH_MM = 0.25
"""How far a swelling vessel's true outline (either semi-axis) must reach beyond its largest
pre-injection outline before the fluid counts as visible: one 0.25 mm working pixel, a convention of
this evaluation."""

SHOWN_DARKER = 4.0
"""Grey levels by which a 1 mm mean of a frame must lie below the same frame simulated without the fluid
for the fluid to show in the image there: about the smallest change a 1 mm mean of speckle can carry, so
the fluid counts as shown early rather than late (a convention of this evaluation)."""

SHOWN_AREA_MM2 = 1.0
"""The area over which the fluid must show (:data:`SHOWN_DARKER`) in one frame."""

OFF_NEEDLE_MM = 5.0
"""A needle reported with its tip farther than this from the true needle (from its shaft line back from the
true tip, or from the tip where the report lies beyond it; in a cine with a needle, on a frame on which the
true tip lies somewhere, in the image or not yet in it) is off the needle: another structure taken for it.
Counted whether or not the true needle is visible, since a false track held while the true one is faint or
not yet in the plane is neither a false needle (there is a needle) nor a tip error (the needle is not
visible). A convention of the evaluation."""
ONSET_REACH_MM = 5.0
"""How far beyond the true fluid (its centre plus its largest semi-axis: the pool's ellipse, or the swelling
vessel's outline) the fluid reported with the onset may lie and still count as that fluid; an onset
farther away, or before the true fluid, counts in ``onsets_off_fluid`` (a convention of the
evaluation)."""


def wilson(successes: int, total: int, *, z: float = 1.959964) -> tuple[float, float] | None:
    """95 % Wilson score interval of a proportion (``None`` when ``total`` is 0).

    >>> wilson(0, 10)
    (0.0, 0.278)
    >>> wilson(9, 10)
    (0.596, 0.982)
    """
    if total == 0:
        return None
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)


@dataclass(slots=True)
class FamilyScore:
    """Counts and errors of one cine (summed over the cines of a family)."""

    family: str
    cines: int = 0
    frames: int = 0
    truth_visible: int = 0
    detected: int = 0
    false_needles: int = 0
    needle_reported: int = 0
    off_needle_frames: int = 0
    tip_errors_mm: list[float] = field(default_factory=list)
    angle_errors_deg: list[float] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    visible_latencies_s: list[float] = field(default_factory=list)
    vessel_warning_latencies_s: list[float] = field(default_factory=list)
    spread_missed: int = 0
    spread_missed_unshown: int = 0
    unshown_cines: int = 0
    unshown_warned: int = 0
    lumen_cines: int = 0
    lumen_warned: int = 0
    onsets_off_fluid: int = 0
    fluid_frames: int = 0
    fluid_frames_off: int = 0
    no_fluid_frames: int = 0
    false_spread_frames: int = 0
    vessel_frames: int = 0
    vessel_found: int = 0
    false_vessel_frames: int = 0
    warnings: dict[str, list[tuple[bool, bool]]] = field(default_factory=dict)
    processing_ms: list[float] = field(default_factory=list)

    def add(self, other: FamilyScore) -> None:
        """Add another cine's counts."""
        for name in self.__slots__:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, int):
                setattr(self, name, mine + theirs)
            elif isinstance(mine, list):
                mine.extend(theirs)
            elif isinstance(mine, dict):
                for key, value in theirs.items():
                    mine.setdefault(key, []).extend(value)

    def metrics(self) -> dict[str, object]:
        """JSON-ready figures of the family."""

        def pct(values: list[float], q: float) -> float | None:
            return round(float(np.percentile(values, q)), 3) if values else None

        out: dict[str, object] = {
            "cines": self.cines,
            "frames": self.frames,
            "detection_rate": round(self.detected / self.truth_visible, 3) if self.truth_visible else None,
            "detection_ci": wilson(self.detected, self.truth_visible),
            "visible_frames": self.truth_visible,
            "tip_error_mm": {"median": pct(self.tip_errors_mm, 50), "p90": pct(self.tip_errors_mm, 90)},
            "angle_error_deg": {
                "median": pct(self.angle_errors_deg, 50),
                "p90": pct(self.angle_errors_deg, 90),
            },
            "false_needle_frames": self.false_needles,
            "off_needle_frames": self.off_needle_frames,
            "needle_reported_frames": self.needle_reported,
            "spread_latency_s": {"median": pct(self.latencies_s, 50), "max": pct(self.latencies_s, 100)},
            "spread_latency_visible_s": {
                "median": pct(self.visible_latencies_s, 50),
                "max": pct(self.visible_latencies_s, 100),
            },
            "fluid_in_vessel_latency_s": {
                "median": pct(self.vessel_warning_latencies_s, 50),
                "max": pct(self.vessel_warning_latencies_s, 100),
            },
            "spread_missed": self.spread_missed,
            "spread_missed_unshown": self.spread_missed_unshown,
            "no_visible_spread_unshown": {"cines": self.unshown_cines, "warned": self.unshown_warned},
            "no_visible_spread_tip_in_lumen": {"cines": self.lumen_cines, "warned": self.lumen_warned},
            "onsets_off_fluid": self.onsets_off_fluid,
            "fluid_frames": self.fluid_frames,
            "fluid_frames_off": self.fluid_frames_off,
            "false_spread_frames": self.false_spread_frames,
            "no_fluid_frames": self.no_fluid_frames,
            "vessel_detection_rate": round(self.vessel_found / self.vessel_frames, 3)
            if self.vessel_frames
            else None,
            "vessel_frames": self.vessel_frames,
            "false_vessel_frames": self.false_vessel_frames,
            "processing_ms_median": pct(self.processing_ms, 50),
        }
        out["warnings"] = {name: warning_rates(self.warnings.get(name, [])) for name in WARNINGS}
        return out


def warning_rates(outcomes: list[tuple[bool, bool]]) -> dict[str, object]:
    """Sensitivity and specificity with Wilson intervals from ``(truth, fired)`` pairs, one per cine."""
    tp = sum(t and f for t, f in outcomes)
    pos = sum(t for t, _ in outcomes)
    tn = sum(not t and not f for t, f in outcomes)
    neg = len(outcomes) - pos
    return {
        "positives": pos,
        "negatives": neg,
        "sensitivity": round(tp / pos, 3) if pos else None,
        "sensitivity_ci": wilson(tp, pos),
        "specificity": round(tn / neg, 3) if neg else None,
        "specificity_ci": wilson(tn, neg),
    }


def _near_truth(cine: SimulatedCine) -> bool:
    """Whether the true tip or its extension comes within the margin of the true vessel in any frame."""
    for truth in cine.truth:
        if not truth.needle_visible or not truth.vessels:
            continue
        x, z, rx, rz = truth.vessels[0]
        a = math.radians(truth.angle_deg)
        d = np.array([math.copysign(math.cos(a), truth.angle_deg), abs(math.sin(a))])
        path = (
            np.array([truth.tip_x_mm, truth.tip_z_mm]) + np.arange(0, PATH_AHEAD_MM + 0.25, 0.25)[:, None] * d
        )
        r = np.hypot((path[:, 0] - x) / rx, (path[:, 1] - z) / rz)
        gap = np.min(np.hypot(path[:, 0] - x, path[:, 1] - z) * (1 - 1 / np.maximum(r, 1e-9)))
        if float(np.min(r)) <= 1.0 or gap <= VESSEL_MARGIN_MM:
            return True
    return False


def _off_needle_mm(needle: NeedleObservation, truth: FrameTruth) -> float:
    """Distance of the reported tip from the true needle: from its shaft line back from the true tip (a tip
    reported short on the needle's own line, its deep part faint, lies on it) or, ahead of the true tip, from
    the tip itself."""
    a = math.radians(truth.angle_deg) if math.isfinite(truth.angle_deg) else 0.0
    ahead = (math.copysign(math.cos(a), a), abs(math.sin(a)))  # the way the needle advances
    vx, vz = needle.tip_x_mm - truth.tip_x_mm, needle.tip_z_mm - truth.tip_z_mm
    back = -(vx * ahead[0] + vz * ahead[1])
    if back <= 0:
        return math.hypot(vx, vz)
    return math.hypot(vx + back * ahead[0], vz + back * ahead[1])


def score_needle(
    score: FamilyScore, needle: NeedleObservation, truth: FrameTruth, params: SimulationParams
) -> None:
    """Add one frame's needle figures to ``score``: detection where the needle is visible, tip and angle
    error where its tip is seen, a false needle where there is none (or it has not yet entered), and a
    needle reported off the true one (:data:`OFF_NEEDLE_MM`, :func:`_off_needle_mm`) whether or not the true
    one is visible."""
    if needle.visible and params.needle and math.isfinite(truth.tip_x_mm + truth.tip_z_mm):
        score.needle_reported += 1
        score.off_needle_frames += _off_needle_mm(needle, truth) > OFF_NEEDLE_MM
    if truth.needle_visible:
        score.truth_visible += 1
        score.detected += needle.visible
        if needle.visible and truth.tip_seen:
            score.tip_errors_mm.append(
                math.hypot(needle.tip_x_mm - truth.tip_x_mm, needle.tip_z_mm - truth.tip_z_mm)
            )
            score.angle_errors_deg.append(abs(needle.angle_deg - truth.angle_deg))
    elif needle.visible and (not params.needle or math.isnan(truth.tip_x_mm)):
        score.false_needles += 1


def score_family_cine(
    cine: SimulatedCine,
    *,
    observe: Callable[[Frame, FrameTruth, FrameResult], None] | None = None,
    quiet: SimulatedCine | None = None,
) -> FamilyScore:
    """Run the pipeline over one cine of a family and compare with its ground truth (``observe`` sees each
    frame, its truth and the pipeline's result, for a diagnosis without running the pipeline twice;
    ``quiet`` is the same cine without the fluid, :func:`without_fluid`, for the latency after the fluid
    shows in the image: without it that latency counts from the true onset or the vessel's growth)."""
    p = cine.params
    pipeline = GuidancePipeline(injection_at_s=p.injection_at_s)
    score = FamilyScore(p.family or "unnamed", cines=1, frames=len(cine.frames))
    onset: float | None = None
    vessel_warning: float | None = None
    fired: set[str] = set()
    for frame, truth in zip(cine.frames, cine.truth, strict=True):
        result = pipeline(frame)
        if observe is not None:
            observe(frame, truth, result)
        score.processing_ms.append(result.processing_ms)
        score_needle(score, result.needle, truth, p)
        if not truth.spread_visible and not p.vessel_distends:
            score.no_fluid_frames += 1
            score.false_spread_frames += result.spread.visible
        elif truth.spread_visible:
            score.fluid_frames += 1
            score.fluid_frames_off += region_off_fluid(result, truth, p)
        _score_vessels(score, result.vessels, truth.vessels, frame.time_s)
        fired.update(e.type for e in result.events)
        if onset is None and "spread_onset" in fired:
            onset = result.time_s
            score.onsets_off_fluid += cine.spread_onset_s is not None and not on_fluid(result, truth, p)
        if vessel_warning is None and "fluid_in_vessel" in fired:
            vessel_warning = result.time_s
    if cine.frames:  # a cine that ends before the timeout says so, as the no-spread warning would
        fired.update(e.type for e in pipeline.finish(cine.frames[-1].time_s))
    unshown = False
    if cine.spread_onset_s is not None:
        visible = visible_onset_s(cine, quiet)
        unshown = quiet is not None and visible is None
        if onset is None:
            score.spread_missed += 1
            score.spread_missed_unshown += unshown
        else:
            score.latencies_s.append(onset - cine.spread_onset_s)
            if visible is not None:
                score.visible_latencies_s.append(onset - visible)
        if p.vessel_distends and vessel_warning is not None and visible is not None:
            score.vessel_warning_latencies_s.append(vessel_warning - visible)
    truths = {
        "no_visible_spread": p.injection_at_s is not None and cine.spread_onset_s is None,
        "fluid_in_vessel": p.vessel_distends and cine.spread_onset_s is not None,
        "vessel_near_path": p.needle and p.vessel and _near_truth(cine),
        "intravascular_flag": cine.spread_onset_s is None or p.vessel_distends,
    }
    flagged = bool(fired & set(INTRAVASCULAR_WARNINGS))
    if "cine_ended_without_spread" in fired:  # the same warning, at the end of a cine shorter than its wait
        fired.add("no_visible_spread")
    if p.injection_at_s is not None:
        if unshown:  # no visible spread, though fluid went in: the warning is right, counted apart
            del truths["no_visible_spread"]
            score.unshown_cines += 1
            score.unshown_warned += "no_visible_spread" in fired
        elif tip_in_lumen_at_injection(cine):
            del truths["no_visible_spread"]  # injected into a lumen: the warning is fair there
            score.lumen_cines += 1
            score.lumen_warned += "no_visible_spread" in fired
        for name, expected in truths.items():
            score.warnings[name] = [
                (bool(expected), flagged if name == "intravascular_flag" else name in fired)
            ]
    return score


def tip_in_lumen_at_injection(cine: SimulatedCine) -> bool:
    """Whether, in a cine with local spread, the true tip lies inside a true vessel lumen (on or within its
    outline) on the first frame at or after the injection start. The simulator can put a vessel on the
    needle's way and still draw a local pool at the tip; in practice such an injection goes into the vessel,
    so the no-spread warning is a fair prompt there and the evaluation counts the cine apart. ``False`` for
    a cine without spread, for injectate that swells a vessel (``vessel_distends``: that is the
    ``fluid_in_vessel`` warning's case) and without a tip at that moment."""
    p = cine.params
    if cine.spread_onset_s is None or p.injection_at_s is None or p.vessel_distends:
        return False
    for frame, truth in zip(cine.frames, cine.truth, strict=True):
        if frame.time_s < p.injection_at_s:
            continue
        if not math.isfinite(truth.tip_x_mm + truth.tip_z_mm):
            return False
        return any(
            ((truth.tip_x_mm - x) / rx) ** 2 + ((truth.tip_z_mm - z) / rz) ** 2 <= 1.0
            for x, z, rx, rz in truth.vessels
        )
    return False


def without_fluid(params: SimulationParams) -> SimulationParams:
    """The parameters of the same cine without its injectate: the same frames until the fluid appears."""
    return replace(params, spread_visible=False, vessel_distends=False)


def on_fluid(result: FrameResult, truth: FrameTruth, params: SimulationParams) -> bool:
    """Whether the fluid the pipeline reports in this frame (the centre of its largest region) lies within
    :data:`ONSET_REACH_MM` of the true fluid: of its centre plus its largest semi-axis (a pool's ellipse of
    ``spread_aspect`` for its true area, or the swelling vessel's outline). ``False`` when the truth has no
    fluid in this frame or nothing is reported."""
    spread = result.spread
    if not truth.spread_visible or not spread.visible:
        return False
    distance = math.hypot(spread.centre_x_mm - truth.spread_x_mm, spread.centre_z_mm - truth.spread_z_mm)
    return math.isfinite(distance) and distance <= _reach_mm(truth, params)


def _reach_mm(truth: FrameTruth, params: SimulationParams) -> float:
    """How far from the true fluid's centre reported fluid may lie and count as it (:func:`on_fluid`)."""
    if params.vessel_distends and truth.vessels:
        semi = max(truth.vessels[0][2], truth.vessels[0][3])
    else:
        semi = math.sqrt(truth.spread_area_mm2 * max(1.0, params.spread_aspect) / math.pi)
    return semi + ONSET_REACH_MM


def region_off_fluid(result: FrameResult, truth: FrameTruth, params: SimulationParams) -> bool:
    """Whether, in a frame with true fluid, a region the pipeline reports lies off it: the true fluid's
    centre outside the region and farther from its outline than :func:`on_fluid` allows."""
    if not truth.spread_visible or not result.spread.visible:
        return False
    centre = (float(truth.spread_x_mm), float(truth.spread_z_mm))
    if not math.isfinite(centre[0] + centre[1]):
        return False
    reach = _reach_mm(truth, params)
    for outline in result.spread.contours_mm:
        if len(outline) == 0:
            continue
        points = np.asarray(outline, dtype=np.float32).reshape(-1, 1, 2)
        if cv2.pointPolygonTest(points, centre, True) < -reach:
            return True
    return False


def shown_onset_s(cine: SimulatedCine, quiet: SimulatedCine) -> float | None:
    """The first frame at or after the true onset on which the fluid shows in the image: against ``quiet``
    (the same cine without the fluid) a 1 mm mean is more than :data:`SHOWN_DARKER` grey levels darker over
    at least :data:`SHOWN_AREA_MM2`; ``None`` when it never does."""
    onset = cine.spread_onset_s
    if onset is None:
        return None
    for frame, plain in zip(cine.frames, quiet.frames, strict=True):
        if frame.time_s < onset:
            continue
        box = (max(1, round(1.0 / frame.col_spacing_mm)), max(1, round(1.0 / frame.row_spacing_mm)))
        fall = cv2.blur(plain.pixels.astype(np.float32) - frame.pixels.astype(np.float32), box)
        area = (
            cv2.countNonZero(np.asarray(fall > SHOWN_DARKER, np.uint8))
            * frame.col_spacing_mm
            * frame.row_spacing_mm
        )
        if area >= SHOWN_AREA_MM2:
            return frame.time_s
    return None


def visible_onset_s(cine: SimulatedCine, quiet: SimulatedCine | None = None) -> float | None:
    """When the true fluid becomes visible: the true onset, or for injectate that swells a vessel the first
    frame at or after it on which the vessel's outline reaches :data:`VISIBLE_GROWTH_MM` beyond its largest
    pre-injection outline; with ``quiet`` (the same cine without the fluid) not before the fluid shows in
    the image (:func:`shown_onset_s`). ``None`` when it never does."""
    outline = _outline_onset_s(cine)
    if quiet is None or outline is None:
        return outline
    shown = shown_onset_s(cine, quiet)
    return None if shown is None else max(outline, shown)


def _outline_onset_s(cine: SimulatedCine) -> float | None:
    onset, p = cine.spread_onset_s, cine.params
    if onset is None or not p.vessel_distends or p.injection_at_s is None:
        return onset
    before = [
        t.vessels[0]
        for f, t in zip(cine.frames, cine.truth, strict=True)
        if t.vessels and f.time_s < p.injection_at_s
    ]
    if not before:
        return onset
    rx0, rz0 = max(v[2] for v in before), max(v[3] for v in before)
    for frame, truth in zip(cine.frames, cine.truth, strict=True):
        if frame.time_s < onset or not truth.vessels:
            continue
        _, _, rx, rz = truth.vessels[0]
        if rx >= rx0 + VISIBLE_GROWTH_MM or rz >= rz0 + VISIBLE_GROWTH_MM:
            return frame.time_s
    return None


def _score_vessels(score: FamilyScore, found: list[Any], truths: tuple[Any, ...], t: float) -> None:
    hits = [
        v
        for v in found
        if any(math.hypot(v.x_mm - x, v.z_mm - z) <= max(rx, rz) + 1.0 for x, z, rx, rz in truths)
    ]
    if truths and t >= 1.0:  # pulsation needs about a second of frames
        score.vessel_frames += 1
        score.vessel_found += bool(hits)
    score.false_vessel_frames += len(found) > len(hits)


def evaluate_families(
    *,
    per_family: int = 8,
    families: tuple[str, ...] = FAMILIES,
    test_set: bool = True,
    rows: int = 480,
    cols: int = 640,
    n_frames: int = 60,
    progress: Callable[[int, int], None] | None = None,
    first: int = 0,
    confirmation: bool = False,
    run_on: bool = False,
) -> dict[str, FamilyScore]:
    """Score every family on the test seeds (or the development seeds).

    Parameters
    ----------
    per_family : int
        Cines per family.
    families : tuple of str
        Families to run.
    test_set : bool
        ``True`` for the frozen test seeds, ``False`` for development seeds.
    rows, cols, n_frames : int
        Cine size (intravascular cines are longer).
    progress : callable, optional
        Called with ``(done, total)`` after each cine.
    first : int
        Index of each family's first cine in its seed range (0: the frozen test set's cines; a later
        block is a confirmation set of cines never run before).
    confirmation : bool
        Run the confirmation seeds (:data:`~painguide.sono.scenes.CONFIRMATION_SEEDS`) instead of
        ``test_set``'s.
    run_on : bool
        Run every cine with an injection on to :data:`~painguide.sono.scenes.AFTER_INJECTION_S` after
        its start, as the intravascular cines are: past the no-spread warning's wait, so that its check at
        the timeout (not only the end-of-cine check of a shorter cine) is made on the cines with spread
        too. The longer cines draw their frames anew, so their figures are a set of their own.

    Returns
    -------
    dict of str to FamilyScore
        One summed score per family, plus ``"all"``.
    """
    _, seeds = seed_set(test_set=test_set, confirmation=confirmation)
    out: dict[str, FamilyScore] = {}
    total = per_family * len(families)
    done = 0
    for family in families:
        summed = FamilyScore(family)
        for i in range(first, first + per_family):
            params = scene_params(family, seed_in(seeds, family, i), rows=rows, cols=cols, n_frames=n_frames)
            if run_on and params.injection_at_s is not None:
                params = run_on_past_the_wait(params)
            cine = simulate_cine(params)
            quiet = simulate_cine(without_fluid(params)) if cine.spread_onset_s is not None else None
            summed.add(score_family_cine(cine, quiet=quiet))
            done += 1
            if progress is not None:
                progress(done, total)
        out[family] = summed
    overall = FamilyScore("all")
    for score in out.values():
        overall.add(score)
    out["all"] = overall
    return out
