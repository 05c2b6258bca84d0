"""In-plane needle detection and temporal tracking on B-mode frames.

Detection works in two stages. A coarse stage on a downsampled, isotropic working image finds candidate
lines: a Hessian ridge filter enhances thin bright lines, and an orientation-gated, weighted Hough vote
collects the ridge pixels along oblique lines (see :mod:`painguide.sono.ridge`). Candidates above an
acoustic shadow (bone, air) are dropped. A fine stage at full resolution fits the shaft line to sub-pixel
ridge maxima and finds the tip where the intensity profile along the shaft falls to half-way between
shaft and background. A candidate must be oblique, straight and long enough, stand out from the
background and enter from the side (or top) of the image, as an in-plane needle does.

Once a track is confirmed, the tracker first looks along the tracked line (a search band of about
1 mm) and accepts a fainter shaft there, without the shadow and entry tests (its shallow part may have
faded since it entered). A faint needle is found where it is expected, and a new needle must still meet
the strict test. A confirmed track that is lost is remembered for a while and taken up
again at once when the needle is found on it again.

Positions are in millimetres from the top-left pixel centre of the image region (``x_mm`` lateral,
``z_mm`` depth); the angle is to the horizontal, positive when the needle goes deeper to the right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.sono.frames import Frame
from painguide.sono.ridge import HoughLine, oriented_hough, ridge_response, shadow_mask, working_image

__all__ = ["NeedleDetector", "NeedleObservation", "NeedleTracker", "ShaftCandidate"]

FloatArray = NDArray[np.float64]

START_REACH_MM = 8.0
"""How far before a coarse line's shallow end the refined shaft may begin."""
DISTAL_MM = 10.0
"""Length of the distal shaft whose angle is reported (the trajectory an operator reads at the tip)."""
TIP_GUARD_MM = 1.5
"""The distal refit leaves out this much shaft before the tip (the bevel echo)."""
BEND_EVIDENCE_MM = 0.025
"""The distal ridge must lie this much farther (RMS, mm) from the straight fit than from its own line."""
BEND_RATIO = 1.1
"""... and this many times farther."""
MAX_BEND_DEG = 12.0
"""Largest difference between the distal and the whole-shaft angle that is followed."""
MAX_BEND_TIP_MM = 4.0
"""Largest tip movement by one round of the distal refit."""
TWO_PART_BREAKS = 12
"""Break points tried along a bent shaft's ridge (:meth:`_RidgeFit.two_part_rms`)."""
TWO_PART_MIN_MM = 3.0
"""Shortest part either side of a break (mm along the image axis the fit runs on)."""
PAST_BEND_AHEAD_MM = 5.0
"""How far beyond a straight shaft's end :func:`_past_bend` looks for the shaft going on at another angle."""
PAST_BEND_BACK_MM = 5.0
"""The shaft before the end whose ridge strength and contrast the part beyond must match."""
PAST_BEND_WEIGHT = 0.6
"""A ridge point beyond the end counts when its strength is at least this fraction of the shaft's median."""
PAST_BEND_MIN_MM = 1.5
"""Shortest run of such points (gaps under 0.5 mm bridged) that is followed."""
PAST_BEND_CONTINUATION = 0.2
"""Least :attr:`ShaftCandidate.continuation` (bright beyond the end, within 1 mm of the line) for which
:func:`_past_bend` looks further: a shaft turned by up to :data:`MAX_BEND_DEG` stays within 1 mm of the line
over the 4 mm that measure reads, and :data:`PAST_BEND_MIN_MM` of it fills a quarter of them."""
PAST_BEND_STEP_MM = 0.1
"""Largest step across the line between neighbouring ridge points (one pixel column or row apart) of that
run: the shaft goes on smoothly; a jump is another structure beside it."""
PAST_BEND_RMS_MM = 0.1
"""Largest RMS distance (mm) of those points from their own line: a shaft, not speckle."""
PAST_BEND_EXCESS = 0.5
"""Along the new line the image must stand above its flanks by at least this fraction of what the shaft
before the end does (0.1 mm on the line against 1-1.5 mm either side, as :data:`STILL_OFFSETS_MM`)."""


@dataclass(frozen=True, slots=True)
class ShaftCandidate:
    """A straight bright shaft found in one frame.

    Attributes
    ----------
    start_x_mm, start_z_mm : float
        Proximal (shallow) end of the visible shaft.
    tip_x_mm, tip_z_mm : float
        Distal (deep) end of the visible shaft: the tip.
    angle_deg : float
        Angle to the horizontal, positive when deeper to the right.
    contrast : float
        Shaft-to-background contrast in units of background standard deviation.
    residual_mm : float
        Root-mean-square distance of the ridge points to the fitted line.
    continuation : float
        Fraction of the 4 mm beyond the tip where a bright ridge goes on within 1 mm of the line: high for
        a gently curving fascia, low for a needle tip (1 when the tip is at the image border). For a shaft
        whose tip the bend refit moved, the larger of that at the straight fit's end and that at the tip
        (:func:`_follow_bend`).
    distal_angle_deg : float
        Angle of the distal part of the shaft (the last :data:`DISTAL_MM` before the tip), which differs
        from ``angle_deg`` when the needle bends; ``nan`` when it was not measured.
    weak : bool
        Found only by the weak rule (:meth:`NeedleDetector.weak`): below the contrast a new track needs.
    side : bool
        Found only from a line of the side vote (it had to meet :meth:`NeedleDetector._side_shaft` too).
    rough : bool
        Found only from a side line and only by the rough steep rule (:meth:`NeedleDetector.rough`): a
        track is confirmed with it only after :attr:`NeedleTracker.weak_frames` consistent detections,
        unless another fit of the same shaft in that frame meets the rules without it.
    short : bool
        Returned only as a needle that has just entered (shorter than the detector's ``min_length_mm``,
        or than its ``side_length_mm`` when found only from a side line; see ``entry_length_mm``): a track
        is confirmed with it only once the shaft grows.
    deep : bool
        Returned as just entered only because it begins deeper at the image side than the skin-distance
        convention allows (:meth:`NeedleDetector._entering_deep`; ``short`` is set too): the tracker confirms
        a track with it only in a frame in which it appeared (:meth:`NeedleTracker._appeared`), takes it only
        when no other candidate is there, and never lets it take the place of a track.
    end_samples : EndSamples or None
        The profile samples at the shaft's end kept for the wider end fit of the reported tip
        (:attr:`end_back_mm`), ``None`` when the end was not fitted.
    reached : bool
        Followed along a tracked line from near its far end (the tip reported, or its own tip when it was
        itself found so), past a faint stretch where the run from the middle of the shaft stops
        (:meth:`NeedleDetector.follow_reached`).
    """

    start_x_mm: float
    start_z_mm: float
    tip_x_mm: float
    tip_z_mm: float
    angle_deg: float
    contrast: float
    residual_mm: float
    continuation: float = 0.0
    distal_angle_deg: float = float("nan")
    weak: bool = False
    side: bool = False
    short: bool = False
    rough: bool = False
    deep: bool = False
    end_samples: EndSamples | None = field(default=None, compare=False, repr=False)
    reached: bool = False

    @property
    def end_back_mm(self) -> float:
        """How far behind the tip the wider end fit (:data:`END_WIDE_SHIFTS_MM`) puts the end (mm, 0 when
        not fitted): used only for the reported tip, never for detection or tracking, so it is fitted
        only when asked for (once per reported frame, not for every candidate)."""
        return 0.0 if self.end_samples is None else self.end_samples.wide_back_mm()

    @property
    def length_mm(self) -> float:
        """Visible shaft length."""
        return math.hypot(self.tip_x_mm - self.start_x_mm, self.tip_z_mm - self.start_z_mm)

    @property
    def strength(self) -> float:
        """Contrast times the square root of the length: how the detector ranks its candidates."""
        return self.contrast * math.sqrt(self.length_mm)

    @property
    def tip_angle_deg(self) -> float:
        """Angle of the shaft at the tip: the distal angle when measured, else the whole shaft's."""
        return self.distal_angle_deg if math.isfinite(self.distal_angle_deg) else self.angle_deg


@dataclass(frozen=True, slots=True)
class NeedleObservation:
    """What the tracker reports for one frame.

    Attributes
    ----------
    visible : bool
        ``False`` is an honest "not visible": the other fields are then ``nan`` (or 0).
    tip_x_mm, tip_z_mm : float
        Tip position.
    angle_deg : float
        Shaft angle to the horizontal.
    length_mm : float
        Visible shaft length.
    confidence : float
        0-1; combines contrast, straightness, length and temporal consistency.
    start_x_mm, start_z_mm : float
        Proximal end of the visible shaft (for drawing).
    """

    visible: bool
    tip_x_mm: float = float("nan")
    tip_z_mm: float = float("nan")
    angle_deg: float = float("nan")
    length_mm: float = 0.0
    confidence: float = 0.0
    start_x_mm: float = float("nan")
    start_z_mm: float = float("nan")


@dataclass(frozen=True, slots=True)
class _Line:
    """Line through ``point`` (x, z in mm) with unit ``direction`` pointing deeper."""

    point: FloatArray
    direction: FloatArray


def _oriented(dx: float, dz: float) -> FloatArray:
    """Unit vector of (dx, dz) pointing deeper (z increasing)."""
    v = np.array([dx, dz], dtype=np.float64)
    v /= max(float(np.linalg.norm(v)), 1e-12)
    return -v if v[1] < 0 else v


def _shaft_line(candidate: ShaftCandidate) -> _Line:
    """The line of a shaft: through its start, at its (whole-shaft) angle, pointing deeper."""
    theta = math.radians(candidate.angle_deg)
    return _Line(
        np.array([candidate.start_x_mm, candidate.start_z_mm]), _oriented(math.cos(theta), math.sin(theta))
    )


def _tip_direction(candidate: ShaftCandidate) -> FloatArray:
    """Unit vector along ``candidate`` at its tip (:attr:`ShaftCandidate.tip_angle_deg`), oriented as the
    shaft advances (:func:`_oriented`)."""
    theta = math.radians(candidate.tip_angle_deg)
    return _oriented(math.cos(theta), math.sin(theta))


def _angle_deg(direction: FloatArray) -> float:
    """Angle to the horizontal of a deeper-pointing direction; positive when deeper to the right."""
    return float(math.degrees(math.atan2(direction[1], abs(direction[0]))) * (1 if direction[0] >= 0 else -1))


class NeedleDetector:
    """Find the in-plane needle shaft and tip in one frame.

    Parameters
    ----------
    work_spacing_mm : float
        Pixel size of the coarse working image.
    min_length_mm : float
        Shortest shaft reported.
    angle_range_deg : tuple of float
        Accepted absolute angles to the horizontal.
    min_contrast : float
        Shaft-to-background contrast (in background standard deviations) below which nothing is reported.
    max_residual_mm : float
        Straightness limit of the fitted shaft.
    edge_tolerance_mm : float
        The shallow end must lie this close to the side it enters from, or to the top (an entry under the
        probe); ``inf`` disables it.
    track_contrast : float
        Lower contrast accepted along an already confirmed track.
    ridge_sigmas_px : tuple of float
        Scales of the ridge filter in working pixels.
    max_candidates : int
        Distinct shafts refined at full resolution per frame.
    max_refined : int
        Most coarse lines refined per frame: a refinement that fails or ends on a shaft already refined
        (it may still pass where the other did not) does not count towards ``max_candidates``, so the next
        line is refined, up to this many.
    max_continuation : float
        Largest :attr:`ShaftCandidate.continuation` of a new track.
    max_tip_jump_mm : float
        Largest tip movement between frames accepted along a tracked line.
    follow_continuation : float
        Along a tracked line flatter than ``steep_deg``, a shaft whose :attr:`ShaftCandidate.continuation`
        exceeds this while the line goes on inside the image beyond its tip is not the needle: a curved
        fascia whose sloping part was taken for a needle entering from the side (a track on it is lost).
    shallow_deg : float
        A new track flatter than this needs 1.5 times ``min_contrast`` (specular shafts are bright there).
    new_track_residual : float
        A new track must be straighter: its residual limit is this fraction of ``max_residual_mm``.
    hough_lines : int
        Peaks taken from the Hough vote that could enter from the side or the top (the others, such as the
        chords of a curved bone surface, are skipped and do not count); the best ``max_candidates`` are
        refined.
    follow_bends : bool
        Refit the distal shaft near the tip and follow it when it bends away from the straight fit, so the
        tip and the tip angle of a bent or deflected needle come from the shaft near the tip.
    past_bends : bool
        With ``follow_bends``, along a tracked line also look beyond the tip found for the shaft going on at
        another angle (:func:`_past_bend`): a needle deflected at a point leaves the straight line there,
        so the end found along that line is the bend, not the tip.
    bent_parts : bool
        Along a tracked line, judge the straightness of a shaft whose bend the distal refit followed by the
        RMS of two lines, one each side of a break (:meth:`_RidgeFit.two_part_rms`), when that is lower
        than the whole shaft's: a needle deflected early is straight in its parts, and its whole-shaft fit
        across the bend goes over ``max_residual_mm``, so the track would be dropped for its straight part.
    steep_deg : float
        A new track at least this steep needs only ``steep_contrast``: a steep shaft sends little echo back
        to the probe (faint, more so when deep and attenuated), and straight steep lines are rare in tissue.
    steep_contrast : float
        Contrast a new steep track needs (tuned on development scenes so that none of their needle-free
        frames passes).
    max_skin_distance_mm : float
        A new track entering from the side may start at most ``edge_tolerance_mm`` plus this distance
        times the tangent of its angle deep at the image edge: the needle entered the skin at most this far
        from the probe. A convention of this software (not a clinical limit) that keeps flat bright edges
        deep in the image (bone, fascia) from starting a track; ``inf`` disables it. A shaft that only this
        turns down, beginning within ``entry_edge_mm`` of the side and within ``faint_residual_mm`` of a
        straight line, is still returned as just entered (:meth:`_entering_deep`): a track is confirmed with
        it only in a frame in which it appeared (:meth:`NeedleTracker._appeared`).
    faint_deg, faint_length_mm, faint_residual_mm : float
        A new track at least ``faint_deg`` from the horizontal, at least ``faint_length_mm`` long and with
        an RMS distance from a straight line of at most ``faint_residual_mm`` needs only
        ``faint_contrast``: a faint steep shaft stays straight over its whole length, and on the
        development scenes no structure other than a needle did so (tuned on development seeds).
    faint_contrast : float
        Contrast such a long, straight, oblique new track needs.
    weak_deg, weak_length_mm, weak_residual_mm, weak_contrast : float
        With ``weak=True`` a search also returns a shaft below its new-track contrast that is at least
        ``weak_deg`` from the horizontal, at least ``weak_length_mm`` long, at most ``weak_residual_mm``
        from a straight line, ends in tissue and has at least ``weak_contrast``: a short faint needle
        standing still (the tracker reports it only after :attr:`NeedleTracker.weak_frames` consistent
        frames; on the development scenes no needle-free frame had such a shaft).
    side_lines, side_mm, side_spread_deg, side_min_deg : int, float, int, float
        A second vote takes up to ``side_lines`` further lines (each refined, besides ``max_refined``)
        from the ridge pixels within ``side_mm`` of the left and right image sides, each voting within
        ``side_spread_deg`` of its own orientation, for lines at least ``side_min_deg`` from the
        horizontal: a needle that has just entered is short, and the orientation of a faint steep shaft's
        ridge pixels scatters by 10-15 degrees, so the main vote (2 degrees) gives it too few votes
        against longer structures. 0 turns it off.
    side_length_mm, side_residual_mm : float
        A shaft found only from a side line must also be at least ``side_min_deg`` steep, this long, this
        straight and reach ``min_contrast`` (the steep and faint rules do not apply).
    entry_length_mm, entry_edge_mm, entry_contrast : float
        A shaft shorter than ``min_length_mm`` (or, from a side line, than ``side_length_mm``) but at least
        ``entry_length_mm`` long is still returned when it begins within ``entry_edge_mm`` of the side it
        enters from, reaches ``entry_contrast`` and meets every other rule of a new track: a needle that has
        just entered. Such a shaft is reported only once it has grown along its line
        (:attr:`NeedleTracker.growth_mm`).
    rough_deg, rough_below_mm, rough_residual_mm, rough_contrast : float
        A shaft found only from a side line that is at least ``rough_deg`` from the horizontal and shorter
        than ``rough_below_mm`` may be as far as ``rough_residual_mm`` (RMS) from a straight line, instead
        of ``side_residual_mm``, when it reaches ``rough_contrast``: the ridge of a short steep shaft that
        has just entered scatters (fits of 0.25-0.36 mm RMS whose angle jumps by several degrees from frame
        to frame while its ends stay put). Such a shaft (:attr:`ShaftCandidate.rough`) starts a track only
        after :attr:`NeedleTracker.weak_frames` consistent detections (the ends of a shaft shorter than
        :attr:`NeedleTracker.ends_below_mm` within :attr:`NeedleTracker.ends_mm`). Off by default
        (``rough_residual_mm`` 0; 0.35 mm turns it on): on the frozen test set it started a 28-frame false
        track on a 6 mm, 37° structure in a needle-free cine (see docs/sono.md, Limits).
    follow_ends_mm, follow_ends_below_mm : float
        Along a confirmed track at least ``rough_deg`` steep and shorter than ``follow_ends_below_mm``
        whose shaft :meth:`follow` turns down,
        a shaft refined along the tracked line is still accepted (at ``track_contrast``) when both its ends
        lie within ``follow_ends_mm`` of the ends before (:meth:`follow_by_ends`); 0 turns it off.
    entry_faint_contrast : float
        A shaft that meets the faint rule's angle, length and straightness but not its contrast, reaches
        this contrast and begins within ``edge_tolerance_mm`` of the side it enters from is returned as
        just entered (confirmed only as it grows along its line).
    band_mm : float
        Beyond the tip of a shaft at least :data:`BAND_MIN_DEG` steep, within :data:`BAND_RESIDUAL_MM`
        of a straight line and of contrast :data:`BAND_MIN_CONTRAST` or more, a bright point does not count
        towards :attr:`ShaftCandidate.continuation` when it lies on a band row: the near-horizontal row
        through it (slopes :data:`BAND_TILTS`) stands above its flanks 1 mm above and below by at least
        :data:`BAND_FRACTION` of the shaft's excess over the background on both sides of the line, each over
        ``band_mm`` from :data:`BAND_GAP_MM` beyond where it crosses the line (:func:`_band_rows`). A
        reverberation band crossing the line beyond a needle's tip is not the line going on, as a fascia
        that bends away flat at the tip (on one side of the line only) is. 0 turns it off.
    band_stop : bool
        Along a tracked line, when the tip found would move by more than ``max_tip_jump_mm``, by at most
        :data:`BAND_STOP_JUMP_MM` more (the run along the line bridged the short gap to a band crossing just
        beyond the tip and ended with the band), the
        shaft is refined again with the run's end moved back before the band (:func:`_band_stop`) and taken
        when that passes :meth:`follow`'s tests; needs ``band_mm``.
    local_rough_mm, local_rough_deg, local_rough_length_mm, local_rough_contrast : float
        A shaft at least ``local_rough_deg`` steep and ``local_rough_length_mm`` long whose ridge lies more
        than :data:`LOCAL_BG_RESIDUAL_MM` but at most ``local_rough_mm`` (RMS) from its line, and whose
        contrast against the background beside it (:func:`_local_contrast`, the line running on far beyond
        it) reaches ``local_rough_contrast``, gets that contrast when its contrast along the whole line is
        lower: no more, so it passes without outranking a straighter fit of the same shaft or being reported
        at once as strong. A faint short steep needle's ridge scatters (development `artefacts` cine 389: a
        9 mm shaft at 39 degrees, fits of 0.2-0.33 mm RMS at a contrast of 0.9-1.5 along the whole line and
        1.7-4.5 beside it). 0 turns it off.
    far_side_mm : float
        A new track whose tip lies within this distance of the image side opposite the one it enters from
        is not started: the line runs on out of the image, as a tissue layer crossing it from side to side
        does, while the tip of a needle in view ends in the image (development `steep_deep` cine 496: a
        32 mm layer at 10 degrees from the right side to the left held as the needle for 51 frames while
        the true one was too faint to see, so the pool lay 20 mm from that "needle" and the no-spread
        warning fired although the pool was seen; :func:`_follow_bend` now asks there too whether the line
        goes on beyond the bent tip, which refuses that layer as well). A track already confirmed is
        followed as before. 0 turns it off.
    """

    def __init__(
        self,
        *,
        work_spacing_mm: float = 0.25,
        min_length_mm: float = 3.5,
        angle_range_deg: tuple[float, float] = (8.0, 75.0),
        min_contrast: float = 2.0,
        max_residual_mm: float = 0.35,
        edge_tolerance_mm: float = 4.0,
        track_contrast: float = 1.0,
        ridge_sigmas_px: tuple[float, ...] = (1.0, 2.0),
        max_candidates: int = 3,
        max_refined: int = 5,
        max_continuation: float = 0.3,
        max_tip_jump_mm: float = 4.0,
        follow_continuation: float = 0.5,
        shallow_deg: float = 15.0,
        new_track_residual: float = 1.0,
        hough_lines: int = 6,
        follow_bends: bool = True,
        past_bends: bool = True,
        bent_parts: bool = True,
        steep_deg: float = 35.0,
        steep_contrast: float = 1.5,
        max_skin_distance_mm: float = 60.0,
        faint_deg: float = 25.0,
        faint_contrast: float = 0.8,
        faint_length_mm: float = 6.0,
        faint_residual_mm: float = 0.12,
        weak_deg: float = 25.0,
        weak_length_mm: float = 5.0,
        weak_residual_mm: float = 0.25,
        weak_contrast: float = 1.5,
        side_lines: int = 2,
        side_mm: float = 10.0,
        side_spread_deg: int = 8,
        side_min_deg: float = 25.0,
        side_length_mm: float = 4.5,
        side_residual_mm: float = 0.2,
        entry_length_mm: float = 2.5,
        entry_edge_mm: float = 1.5,
        entry_contrast: float = 3.0,
        entry_faint_contrast: float = 0.5,
        rough_deg: float = 35.0,
        rough_residual_mm: float = 0.0,
        rough_contrast: float = 2.0,
        rough_below_mm: float = 10.0,
        follow_ends_mm: float = 0.8,
        follow_ends_below_mm: float = 10.0,
        band_mm: float = 4.0,
        band_stop: bool = True,
        local_rough_mm: float = 0.3,
        local_rough_deg: float = 35.0,
        local_rough_length_mm: float = 6.0,
        local_rough_contrast: float = 2.0,
        far_side_mm: float = 1.0,
    ) -> None:
        self.work_spacing_mm = work_spacing_mm
        self.min_length_mm = min_length_mm
        self.angle_range_deg = angle_range_deg
        self.min_contrast = min_contrast
        self.max_residual_mm = max_residual_mm
        self.edge_tolerance_mm = edge_tolerance_mm
        self.track_contrast = track_contrast
        self.ridge_sigmas_px = ridge_sigmas_px
        self.max_candidates = max_candidates
        self.max_refined = max_refined
        self.max_continuation = max_continuation
        self.max_tip_jump_mm = max_tip_jump_mm
        self.follow_continuation = follow_continuation
        self.shallow_deg = shallow_deg
        self.new_track_residual = new_track_residual
        self.hough_lines = hough_lines
        self.follow_bends = follow_bends
        self.past_bends = past_bends
        self.bent_parts = bent_parts
        self.steep_deg = steep_deg
        self.steep_contrast = steep_contrast
        self.max_skin_distance_mm = max_skin_distance_mm
        self.faint_deg = faint_deg
        self.faint_contrast = faint_contrast
        self.faint_length_mm = faint_length_mm
        self.faint_residual_mm = faint_residual_mm
        self.weak_deg = weak_deg
        self.weak_length_mm = weak_length_mm
        self.weak_residual_mm = weak_residual_mm
        self.weak_contrast = weak_contrast
        self.side_lines = side_lines
        self.side_mm = side_mm
        self.side_spread_deg = side_spread_deg
        self.side_min_deg = side_min_deg
        self.side_length_mm = side_length_mm
        self.side_residual_mm = side_residual_mm
        self.entry_length_mm = entry_length_mm
        self.entry_edge_mm = entry_edge_mm
        self.entry_contrast = entry_contrast
        self.entry_faint_contrast = entry_faint_contrast
        self.rough_deg = rough_deg
        self.rough_residual_mm = rough_residual_mm
        self.rough_contrast = rough_contrast
        self.rough_below_mm = rough_below_mm
        self.follow_ends_mm = follow_ends_mm
        self.follow_ends_below_mm = follow_ends_below_mm
        self.band_mm = band_mm
        self.band_stop = band_stop
        self.local_rough_mm = local_rough_mm
        self.local_rough_deg = local_rough_deg
        self.local_rough_length_mm = local_rough_length_mm
        self.local_rough_contrast = local_rough_contrast
        self.far_side_mm = far_side_mm

    def new_track_contrast(self, c: ShaftCandidate) -> float:
        """Contrast a shaft needs to start a new track, from its angle, length and straightness."""
        angle = abs(c.angle_deg)
        if angle < self.shallow_deg:
            return 1.5 * self.min_contrast
        needed = self.min_contrast
        if angle >= self.steep_deg:
            needed = min(needed, self.steep_contrast)
        if self.faint(c):
            needed = min(needed, self.faint_contrast)
        return needed

    def faint(self, c: ShaftCandidate) -> bool:
        """Whether a shaft is oblique, long and straight enough for the faint rule (see ``faint_deg``)."""
        return (
            abs(c.angle_deg) >= self.faint_deg
            and c.length_mm >= self.faint_length_mm
            and c.residual_mm <= self.faint_residual_mm
        )

    def _entering_faint(self, c: ShaftCandidate, frame: Frame) -> bool:
        """Whether a shaft below its new-track contrast that meets the faint rule's geometry (:meth:`faint`)
        and reaches ``entry_faint_contrast`` begins at the side it enters from: it is returned as just
        entered (:attr:`ShaftCandidate.short`), so a track is confirmed with it only as it grows along its
        line (tissue does not grow from the image side along a straight line)."""
        side = _from_side_mm(c, frame)
        return (
            self.faint(c)
            and abs(c.angle_deg) <= self.angle_range_deg[1]
            and self.entry_faint_contrast <= c.contrast < self.new_track_contrast(c)
            and side <= self.edge_tolerance_mm
        )

    def _entering_deep(self, c: ShaftCandidate, frame: Frame) -> bool:
        """Whether a shaft that the skin-distance convention alone turns down (``max_skin_distance_mm``: it
        begins deeper at the image side than a needle entering the skin that far from the probe would) begins
        within ``entry_edge_mm`` of the side it enters from, lies within ``faint_residual_mm`` of a straight
        line and meets every other rule of a new track: it is returned as just entered
        (:attr:`ShaftCandidate.short`, :attr:`ShaftCandidate.deep`), and a track is confirmed with it only in
        a frame in which it appeared (its stretch before the tip new since the frame before, its first half
        and its flanks as they were: :meth:`NeedleTracker._appeared`). The flank of a bone surface or a fascia
        ending deep at the image side is neither as straight as a needle nor new, and one sliding in from the
        side as the probe moves changes its flanks too."""
        side = _from_side_mm(c, frame)
        return (
            math.isfinite(self.max_skin_distance_mm)
            and side <= self.entry_edge_mm
            and c.residual_mm <= self.faint_residual_mm
            and self._plausible(c, frame, self.min_contrast, skin=False)
        )

    def entering(self, c: ShaftCandidate, frame: Frame) -> bool:
        """Whether a shaft at least ``entry_length_mm`` long and of ``entry_contrast`` begins within
        ``entry_edge_mm`` of the side it enters from (a needle that has just entered)."""
        side = _from_side_mm(c, frame)
        return (
            c.length_mm >= self.entry_length_mm
            and c.contrast >= self.entry_contrast
            and side <= self.entry_edge_mm
        )

    def weak(self, c: ShaftCandidate) -> bool:
        """Whether a shaft below its new-track contrast still meets the weak rule (see ``weak_deg``)."""
        return (
            c.contrast < self.new_track_contrast(c)
            and c.contrast >= self.weak_contrast
            and abs(c.angle_deg) >= self.weak_deg
            and c.length_mm >= self.weak_length_mm
            and c.residual_mm <= self.weak_residual_mm
            and c.continuation <= self.max_continuation
        )

    def working(self, frame: Frame) -> NDArray[np.uint8]:
        """The frame downsampled to the working pixel size (shared with the spread detector)."""
        ws = self.work_spacing_mm
        return working_image(frame.pixels, (frame.col_spacing_mm / ws, frame.row_spacing_mm / ws))

    def __call__(
        self,
        frame: Frame,
        *,
        work: NDArray[np.uint8] | None = None,
        prior: ShaftCandidate | None = None,
        weak: bool = False,
        pending: ShaftCandidate | None = None,
        reach: ShaftCandidate | None = None,
        previous: Frame | None = None,
    ) -> list[ShaftCandidate]:
        """Return shaft candidates, best first (empty when no needle-like structure is found).

        Parameters
        ----------
        frame : Frame
            The frame to search.
        work : ndarray, optional
            The frame already downsampled by :meth:`working`.
        prior : ShaftCandidate, optional
            The shaft of a confirmed track: it is searched first, with the lower ``track_contrast``.
        weak : bool
            Also return shafts that meet only the weak rule (see :meth:`weak`).
        pending : ShaftCandidate, optional
            The shaft of a track not yet confirmed (found in the frame before): it is refined again
            along its line, besides the coarse lines, and must meet the same rules as a new shaft.
        reach : ShaftCandidate, optional
            ``prior`` with its tip where it was reported in the frame before, farther along its line: the
            shaft is first followed over that length, and kept when it is found longer than ``prior``.
        previous : Frame, optional
            The frame before: a shaft followed so that ends more than :data:`REACH_BEYOND_MM` beyond the tip
            of ``reach`` is kept too when the image changed on its line up to its tip since then, as a needle
            coming in changes it (:func:`_advanced_to`).

        Returns
        -------
        list of ShaftCandidate
            The plausible refined candidates (a shaft refined from two coarse lines may appear twice),
            sorted by decreasing contrast times the square root of the length; a single candidate when the
            prior shaft is found again.
        """
        if prior is not None:
            tracked = None
            if reach is not None:  # the tip reported lies beyond the tracked one: the shaft may go on
                longer = self.follow_reached(frame, prior, reach.length_mm)
                if (
                    longer is not None
                    and longer.length_mm >= prior.length_mm + REACH_LONGER_MM
                    and (
                        longer.length_mm <= reach.length_mm + REACH_BEYOND_MM
                        or (previous is not None and _advanced_to(frame, previous, longer, reach))
                    )
                ):
                    tracked = longer
            if tracked is None:
                tracked = self.follow(frame, prior)
            if tracked is None:
                tracked = self.follow_by_ends(frame, prior)
            if tracked is not None:
                return [tracked]
        lines, side = self._coarse_lines(frame, self.working(frame) if work is None else work)
        out: list[ShaftCandidate] = []
        refined: list[ShaftCandidate] = []
        if pending is not None:  # besides the coarse lines: it takes no place of theirs
            again = self._again(frame, pending, weak=weak)
            if again is not None:
                out.append(again)
        tried = 0
        for k, (line, extent) in enumerate(lines + side):
            if k < len(lines) and (len(refined) >= self.max_candidates or tried >= self.max_refined):
                continue  # the side lines have their own budget (one refinement each)
            tried += 1
            candidate = self._refine(frame, line, extent)
            if candidate is None:
                continue  # a failed refinement does not use up a candidate
            if not any(_same_shaft(candidate, other) for other in refined):
                refined.append(candidate)  # a repeated one is kept but does not use one up either
            if k >= len(lines) and not self._side_shaft(candidate, frame):
                continue
            if self._plausible(candidate, frame, self.min_contrast, weak=weak):
                out.append(self._flagged(candidate, weak=weak, side=k >= len(lines)))
            elif self._entering_faint(candidate, frame):  # confirmed only as it grows
                out.append(replace(candidate, short=True, side=k >= len(lines)))
            elif self._entering_deep(candidate, frame):  # so too
                out.append(replace(candidate, short=True, deep=True, side=k >= len(lines)))
        out.sort(key=lambda c: -c.strength)
        return out

    def follow(
        self, frame: Frame, prior: ShaftCandidate, *, max_jump_mm: float | None = None
    ) -> ShaftCandidate | None:
        """Look for the shaft along a tracked line (search band about 1 mm) with the relaxed contrast; its tip
        may lie at most ``max_jump_mm`` (``max_tip_jump_mm`` when omitted) from the tip before. A shaft
        that was found from near its far end (``reached``) is first followed so (:meth:`follow_reached`)."""
        limit = self.max_tip_jump_mm if max_jump_mm is None else max_jump_mm
        if prior.reached:  # a shaft found from near its far end is followed so: from the middle its run stops
            reached = self.follow_reached(frame, prior, prior.length_mm)
            if reached is not None and self._jump(reached, prior) <= limit:
                return reached
        line = _shaft_line(prior)
        direction = line.direction
        candidate = self._refine(frame, line, (0.0, prior.length_mm), tracked=True)
        if candidate is None or not self._plausible(candidate, frame, self.track_contrast, entered=True):
            return None
        if abs(candidate.angle_deg - prior.angle_deg) > 3.0:
            return None
        if self._jump(candidate, prior) > self.max_tip_jump_mm and math.isfinite(candidate.distal_angle_deg):
            # the distal refit ran on into another bright structure: keep the straight shaft
            straight = self._refine(frame, line, (0.0, prior.length_mm), tracked=True, bend=False)
            candidate = straight if straight is not None else candidate
        jump = self._jump(candidate, prior)
        if self.band_stop and self.max_tip_jump_mm < jump <= self.max_tip_jump_mm + BAND_STOP_JUMP_MM:
            # the run bridged the gap to a band crossing just beyond the tip: end where the band begins
            stopped = self._refine(
                frame, line, (0.0, prior.length_mm), tracked=True, bend=False, band_stop=True
            )
            if (
                stopped is not None
                and self._plausible(stopped, frame, self.track_contrast, entered=True)
                and abs(stopped.angle_deg - prior.angle_deg) <= 3.0
            ):
                candidate, jump = stopped, self._jump(stopped, prior)
        if jump > limit:
            return None
        if abs(candidate.angle_deg) < self.steep_deg and candidate.continuation > self.follow_continuation:
            start = np.array([candidate.start_x_mm, candidate.start_z_mm])
            _, end = _image_span(frame, _Line(start, direction))
            if end - candidate.length_mm > 1.0:
                return None  # the line goes on beyond the tip inside the image: a fascia, not a needle
        return candidate

    def follow_reached(self, frame: Frame, prior: ShaftCandidate, length_mm: float) -> ShaftCandidate | None:
        """The tracked shaft followed over ``length_mm`` along its line from its start: the run through a
        point :data:`REACH_SEED_MM` before that length, bridged back to the shaft's start (``reached``).
        ``None`` unless it starts within :data:`REACH_START_MM` of where ``prior`` starts, is as steep
        within 3 degrees and passes as :meth:`follow`'s shaft does."""
        candidate = self._refine(
            frame,
            _shaft_line(prior),
            (0.0, length_mm),
            tracked=True,
            bend=False,
            seed_mm=length_mm - REACH_SEED_MM,
        )
        if (
            candidate is None
            or math.dist((candidate.start_x_mm, candidate.start_z_mm), (prior.start_x_mm, prior.start_z_mm))
            > REACH_START_MM
            or abs(candidate.angle_deg - prior.angle_deg) > 3.0
            or not self._plausible(candidate, frame, self.track_contrast, entered=True)
        ):
            return None
        return replace(candidate, reached=True)

    def follow_by_ends(self, frame: Frame, prior: ShaftCandidate) -> ShaftCandidate | None:
        """The short shaft of a confirmed track found again by its ends where :meth:`follow` turned it down.

        Along a tracked line at least ``rough_deg`` steep and shorter than ``follow_ends_below_mm`` the
        shaft refined as :meth:`follow` refines it is accepted, at the track contrast, when it is as steep
        and both its ends lie within ``follow_ends_mm`` of the ends before, however much its angle changed:
        the fitted angle of a short steep shaft jumps by several degrees from frame to frame (more than the
        3 degrees :meth:`follow` allows) while its ends stay put.
        """
        if (
            self.follow_ends_mm <= 0
            or prior.length_mm >= self.follow_ends_below_mm
            or abs(prior.angle_deg) < self.rough_deg
        ):
            return None
        candidate = self._refine(frame, _shaft_line(prior), (0.0, prior.length_mm), tracked=True)
        if candidate is None or not _same_shaft(candidate, prior, tol_mm=self.follow_ends_mm):
            return None
        if abs(candidate.angle_deg) < self.rough_deg:
            return None
        return candidate if self._plausible(candidate, frame, self.track_contrast, entered=True) else None

    def _again(self, frame: Frame, pending: ShaftCandidate, *, weak: bool) -> ShaftCandidate | None:
        """The shaft of an unconfirmed track refined again along its line, if it still passes as new.

        The coarse vote proposes a short or slightly curved shaft only now and then, so the frames that
        confirm it would rarely follow one another; along the line found in the frame before, the shaft
        is refined as a coarse line would be, and it must meet the rules of a new track (entry, shadow,
        contrast, straightness; those of the side vote when it was found only from a side line).
        """
        candidate = self._refine(frame, _shaft_line(pending), (0.0, pending.length_mm))
        if candidate is None or (pending.side and not self._side_shaft(candidate, frame)):
            return None
        if not self._plausible(candidate, frame, self.min_contrast, weak=weak):
            return None
        return self._flagged(candidate, weak=weak, side=pending.side)

    def _flagged(self, candidate: ShaftCandidate, *, weak: bool, side: bool) -> ShaftCandidate:
        """``candidate`` marked ``weak`` (asked for and met only by the weak rule), ``side`` (found only
        from a side line) and ``short`` (returned only as just entered: see ``entry_length_mm``)."""
        is_weak = weak and self.weak(candidate)
        short = candidate.length_mm < (self.side_length_mm if side else self.min_length_mm)
        rough = side and candidate.residual_mm > self.side_residual_mm
        return (
            replace(candidate, weak=is_weak, side=side, short=short, rough=rough)
            if is_weak or side or short
            else candidate
        )

    def _side_shaft(self, c: ShaftCandidate, frame: Frame) -> bool:
        """Whether a shaft refined from a line of the side vote is long, straight and bright enough (a
        shorter one when it begins at the side it enters from: see ``entry_length_mm``). One long and
        straight enough for the faint rule (:meth:`faint`) needs only its contrast, as from the main vote."""
        needed = (
            self.new_track_contrast(c)
            if self.faint(c)
            else max(self.min_contrast, self.new_track_contrast(c))
        )
        return (
            abs(c.angle_deg) >= self.side_min_deg
            and (c.length_mm >= self.side_length_mm or self.entering(c, frame))
            and (c.residual_mm <= self.side_residual_mm or self.rough(c))
            and c.contrast >= needed
        )

    def rough(self, c: ShaftCandidate) -> bool:
        """Whether a side shaft less straight than ``side_residual_mm`` meets the rough steep rule (see
        ``rough_deg``): steep, short, within ``rough_residual_mm`` of a straight line and of
        ``rough_contrast``."""
        return (
            abs(c.angle_deg) >= self.rough_deg
            and c.length_mm < self.rough_below_mm
            and c.residual_mm <= self.rough_residual_mm
            and c.contrast >= self.rough_contrast
        )

    @staticmethod
    def _jump(new: ShaftCandidate, old: ShaftCandidate) -> float:
        return math.hypot(new.tip_x_mm - old.tip_x_mm, new.tip_z_mm - old.tip_z_mm)

    def _coarse_lines(
        self, frame: Frame, work: NDArray[np.uint8]
    ) -> tuple[list[tuple[_Line, tuple[float, float]]], list[tuple[_Line, tuple[float, float]]]]:
        """Ridge-weighted Hough lines of the working image, as mm lines with their extent along them.

        Returns the lines of the main vote (best first) and those of the side vote (see ``side_lines``)
        that do not lie on one of them.
        """
        ws = self.work_spacing_mm
        strength, angle = ridge_response(work, sigmas_px=self.ridge_sigmas_px)
        strength[shadow_mask(work, gap_px=round(1.5 / ws), depth_px=round(2.5 / ws))] = 0.0
        made: dict[int, tuple[_Line, tuple[float, float]]] = {}

        def accept(peak: HoughLine) -> bool:
            theta = math.radians(peak.angle_deg)
            d = np.array([math.cos(theta), math.sin(theta)])
            normal = np.array([-math.sin(theta), math.cos(theta)])
            ends = [(t * d + peak.rho * normal + 0.5) * ws for t in peak.extent]
            top, bottom = (ends[0], ends[1]) if ends[0][1] <= ends[1][1] else (ends[1], ends[0])
            length = float(np.linalg.norm(bottom - top))
            if length < 0.5 * self.min_length_mm or _over_shadow(work, top / ws, bottom / ws, 2.5 / ws):
                return False
            line = _Line(top, _oriented(*(bottom - top)))
            if not self._may_enter(frame, line):
                return False
            made[id(peak)] = (line, (0.0, length))
            return True

        peaks = oriented_hough(
            strength, angle, angle_range_deg=self.angle_range_deg, max_lines=self.hough_lines, accept=accept
        )
        found = _merge_collinear([made[id(peak)] for peak in peaks])  # best vote first
        if self.side_lines <= 0:
            return found, []
        strip = max(1, round(self.side_mm / ws))
        region = np.zeros(work.shape, dtype=bool)
        region[:, :strip] = True
        region[:, -strip:] = True
        side_peaks = oriented_hough(
            strength,
            angle,
            angle_range_deg=(max(self.angle_range_deg[0], self.side_min_deg), self.angle_range_deg[1]),
            max_lines=self.side_lines,
            spread_deg=self.side_spread_deg,
            accept=accept,
            region=region,
        )
        side = [made[id(peak)] for peak in side_peaks]
        return found, [s for s in side if len(_merge_collinear([*found, s])) > len(found)]

    def _may_enter(self, frame: Frame, line: _Line) -> bool:
        """Whether a coarse line could still pass the entry test once refined (its start may move back).

        The refined shaft may begin up to :data:`START_REACH_MM` before the coarse top; a line that cannot
        reach the side it enters from or the top is not worth refining.
        """
        tol = self.edge_tolerance_mm
        if not math.isfinite(tol):
            return True
        x, z = line.point - START_REACH_MM * line.direction
        side = x if line.direction[0] > 0 else frame.width_mm - x
        return bool(side <= tol or z <= tol)

    def _refine(
        self,
        frame: Frame,
        line: _Line,
        extent: tuple[float, float],
        *,
        tracked: bool = False,
        bend: bool = True,
        band_stop: bool = False,
        seed_mm: float | None = None,
    ) -> ShaftCandidate | None:
        """Sub-pixel shaft line from ridge maxima, then the tip from the profile along it (the run through
        ``seed_mm`` along the line when given, else through the middle of ``extent``)."""
        fitted = _fit_ridge(frame, line, extent)
        if fitted is None:
            return None
        line = fitted.line
        candidate = _locate_ends(
            frame,
            line,
            extent,
            fitted.rms,
            shadow_check=not tracked,
            band_mm=self.band_mm,
            band_stop=band_stop,
            local_rough_mm=self.local_rough_mm,
            local_rough_deg=self.local_rough_deg,
            local_rough_length_mm=self.local_rough_length_mm,
            local_rough_contrast=self.local_rough_contrast,
            seed_mm=seed_mm,
        )
        if candidate is None or not (self.follow_bends and bend):
            return candidate
        s_tip = float(np.dot(np.array([candidate.tip_x_mm, candidate.tip_z_mm]) - line.point, line.direction))
        if fitted.bent_beyond(s_tip - DISTAL_MM - TIP_GUARD_MM, s_tip - TIP_GUARD_MM):
            candidate = _follow_bend(frame, line, candidate)
            if self.bent_parts and tracked and math.isfinite(candidate.distal_angle_deg):
                # a tracked needle that bends is straight in two parts, not as a whole
                candidate = replace(candidate, residual_mm=min(candidate.residual_mm, fitted.two_part_rms()))
        # past a deflection only along a tracked line: beyond a new candidate's end a turned run is as
        # likely another line
        return _past_bend(frame, candidate) if self.past_bends and tracked else candidate

    def _plausible(
        self,
        c: ShaftCandidate,
        frame: Frame,
        min_contrast: float,
        *,
        weak: bool = False,
        entered: bool = False,
        skin: bool = True,
    ) -> bool:
        lo, hi = self.angle_range_deg
        strict = min_contrast >= self.min_contrast
        if not lo <= abs(c.angle_deg) <= hi:
            return False
        if c.length_mm < self.min_length_mm and not (strict and not entered and self.entering(c, frame)):
            return False
        if strict:
            min_contrast = self.weak_contrast if weak and self.weak(c) else self.new_track_contrast(c)
        limit = self.max_residual_mm * (self.new_track_residual if strict else 1.0)
        if c.contrast < min_contrast or c.residual_mm > limit:
            return False
        if strict and abs(c.angle_deg) < self.steep_deg and c.continuation > self.max_continuation:
            return False  # a new track must end in tissue, not curve on like a fascia
        if strict and _to_far_side_mm(c, frame) < self.far_side_mm:
            return False  # a new track must end in the image, not run on out of it like a layer
        tol = self.edge_tolerance_mm
        if entered or not math.isfinite(tol):
            return True  # a tracked line has entered already; its shallow part may have faded since
        side = _from_side_mm(c, frame)
        if c.start_z_mm <= tol:
            return True  # from under the probe (mid-probe entry)
        if side > tol:
            return False
        if strict and skin:
            # from the side: a needle this flat reaches this depth at the image edge only when it entered
            # the skin implausibly far from the probe (a bone surface or fascia ending at the edge does)
            reach = self.max_skin_distance_mm * math.tan(math.radians(abs(c.angle_deg)))
            return c.start_z_mm <= tol + reach
        return True


def _from_side_mm(c: ShaftCandidate, frame: Frame) -> float:
    """How far the shaft's start lies from the image side it enters from (left for a shaft going deeper to
    the right, right otherwise)."""
    return c.start_x_mm if c.angle_deg > 0 else frame.width_mm - c.start_x_mm


def _to_far_side_mm(c: ShaftCandidate, frame: Frame) -> float:
    """How far the shaft's tip lies from the image side opposite the one it enters from."""
    return frame.width_mm - c.tip_x_mm if c.angle_deg > 0 else c.tip_x_mm


def _crossing(a: ShaftCandidate, b: ShaftCandidate) -> bool:
    """Whether the shafts ``a`` and ``b`` (as segments from start to tip) cross each other."""
    p, r = (
        np.array([a.start_x_mm, a.start_z_mm]),
        np.array([a.tip_x_mm - a.start_x_mm, a.tip_z_mm - a.start_z_mm]),
    )
    q, u = (
        np.array([b.start_x_mm, b.start_z_mm]),
        np.array([b.tip_x_mm - b.start_x_mm, b.tip_z_mm - b.start_z_mm]),
    )
    denom = float(r[0] * u[1] - r[1] * u[0])
    if abs(denom) < 1e-9:
        return False
    d = q - p
    t = float(d[0] * u[1] - d[1] * u[0]) / denom
    v = float(d[0] * r[1] - d[1] * r[0]) / denom
    return 0.0 <= t <= 1.0 and 0.0 <= v <= 1.0


def _same_shaft(a: ShaftCandidate, b: ShaftCandidate, *, tol_mm: float = 1.0) -> bool:
    """Whether two refined shafts are the same: both ends within ``tol_mm`` of each other."""
    return (
        math.hypot(a.start_x_mm - b.start_x_mm, a.start_z_mm - b.start_z_mm) <= tol_mm
        and math.hypot(a.tip_x_mm - b.tip_x_mm, a.tip_z_mm - b.tip_z_mm) <= tol_mm
    )


def _over_shadow(work: NDArray[np.uint8], top: FloatArray, bottom: FloatArray, offset_px: float) -> bool:
    """Whether the image below a segment (working pixels) is much darker than above it: bone or air."""
    d = bottom - top
    normal = np.array([-d[1], d[0]]) / max(float(np.linalg.norm(d)), 1e-9)
    normal = normal if normal[1] > 0 else -normal
    above = _sample_mean(work, tuple(top - offset_px * normal), tuple(bottom - offset_px * normal))
    below = _sample_mean(work, tuple(top + offset_px * normal), tuple(bottom + offset_px * normal))
    return below < 0.45 * above


def _sample_mean(image: NDArray[np.uint8], p1: tuple[float, float], p2: tuple[float, float]) -> float:
    """Mean of ``image`` (rows, cols) along the segment between two (col, row) points."""
    n = max(2, int(math.hypot(p2[0] - p1[0], p2[1] - p1[1])))
    cols = _nearest_index(_segment(float(p1[0]), float(p2[0]), n), image.shape[1])
    rows = _nearest_index(_segment(float(p1[1]), float(p2[1]), n), image.shape[0])
    return float(image[rows, cols].sum()) / n


def _segment(start: float, stop: float, n: int) -> FloatArray:
    """``n >= 2`` evenly spaced values from ``start`` to ``stop``: the values of ``np.linspace``."""
    if n > _RAMP.size:
        return np.linspace(start, stop, n)
    out = _RAMP[:n] * ((stop - start) / (n - 1))
    out += start
    out[-1] = stop
    return out


def _nearest_index(values: FloatArray, size: int) -> NDArray[np.intp]:
    """``values`` rounded to the nearest index (halves to even) and clipped to ``0 .. size - 1``."""
    index = np.rint(values).astype(np.intp)
    np.maximum(index, 0, out=index)
    np.minimum(index, size - 1, out=index)
    return index


_RAMP = np.arange(4096, dtype=np.float64)
"""0, 1, 2, ...: the sample numbers :func:`_segment` scales (longer segments use ``np.linspace``)."""


def _merge_collinear(
    lines: list[tuple[_Line, tuple[float, float]]],
) -> list[tuple[_Line, tuple[float, float]]]:
    """Fold segments lying on the same line (within 3 degrees and 1 mm) into the strongest one."""
    merged: list[tuple[_Line, tuple[float, float]]] = []
    for line, extent in lines:
        for i, (ref, ref_extent) in enumerate(merged):
            if abs(float(np.dot(line.direction, ref.direction))) < math.cos(math.radians(3.0)):
                continue
            offset = line.point - ref.point
            normal = np.array([-ref.direction[1], ref.direction[0]])
            if abs(float(np.dot(offset, normal))) > 1.0:
                continue
            s0 = float(np.dot(offset, ref.direction)) + extent[0]
            s1 = float(np.dot(offset, ref.direction)) + extent[1]
            merged[i] = (ref, (min(ref_extent[0], s0), max(ref_extent[1], s1)))
            break
        else:
            merged.append((line, extent))
    return merged


def _ridge_points(
    image: NDArray[np.uint8],
    spacing: tuple[float, float],
    slope: float,
    intercept: float,
    span: tuple[float, float],
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Sub-pixel ridge maxima across a mostly horizontal line ``z = slope * x + intercept`` (mm).

    ``image`` has shape (rows, cols) with rows across the line; ``spacing`` is (row, col) in mm.
    Returns the ridge points (x, z) in mm and their weights, one per column of ``span`` (x range in mm).
    """
    rows, cols = image.shape
    c0 = max(1, math.ceil(span[0] / spacing[1]))
    c1 = min(cols - 2, math.floor(span[1] / spacing[1]))
    if c1 - c0 < 4:
        return None
    c = np.arange(c0, c1 + 1)
    centre = np.rint((slope * c * spacing[1] + intercept) / spacing[0]).astype(np.intp)
    half = max(2, math.ceil(0.9 / spacing[0]))
    k = np.arange(-half, half + 1)
    r = centre[:, None] + k[None, :]
    np.maximum(r, 0, out=r)
    np.minimum(r, rows - 1, out=r)
    # the least and greatest row of the band, from its centres (the clip keeps their order)
    r0 = min(max(int(centre.min()) - half, 0), rows - 1)
    r1 = min(max(int(centre.max()) + half, 0), rows - 1) + 1
    roi = cv2.GaussianBlur(image[r0:r1, c0 - 1 : c1 + 2], (3, 3), 0)
    band = roi[r - r0, (c - c0 + 1)[:, None]].astype(np.float64)  # only the band is read as float
    peak = band.argmax(axis=1)
    np.maximum(peak, 1, out=peak)
    np.minimum(peak, band.shape[1] - 2, out=peak)
    idx = np.arange(band.shape[0])
    left, mid, right = band[idx, peak - 1], band[idx, peak], band[idx, peak + 1]
    curvature = left - 2 * mid + right
    delta = np.where(curvature < 0, 0.5 * (left - right) / np.where(curvature < 0, curvature, -1.0), 0.0)
    ridge_row = r[idx, peak] + np.minimum(np.maximum(delta, -0.5), 0.5)
    weight = np.maximum(mid - np.partition(band, half, axis=1)[:, half], 0.0)  # median of 2 half + 1
    return c * spacing[1], ridge_row * spacing[0], weight


def _robust_fit(
    x: FloatArray, z: FloatArray, w: FloatArray
) -> tuple[float, float, float, NDArray[np.bool_]] | None:
    """Weighted line fit ``z = a x + b``, two rounds of outlier rejection; returns (a, b, rms, inliers)."""
    keep = w > 0
    a = b = 0.0
    count = np.count_nonzero(keep)
    for _ in range(3):
        if count < 5:
            return None
        a, b = _line_fit(x[keep], z[keep], w[keep])
        res = np.abs(z - (a * x + b))
        mad = _median(res[keep]) * 1.4826
        keep &= res <= max(3.0 * mad, 0.15)
        before, count = count, np.count_nonzero(keep)
        if count == before:  # no point left out (they only ever leave): a next round fits the same again
            break
    if count < 5:
        return None
    res = z[keep] - (a * x[keep] + b)
    return a, b, math.sqrt(float(np.add.reduce(res * res)) / res.size), keep


def _line_fit(x: FloatArray, z: FloatArray, w: FloatArray) -> tuple[float, float]:
    """Weighted least-squares line ``z = a x + b`` minimising ``sum(w * (z - a x - b) ** 2)``: (a, b).

    The closed form of the 2x2 normal equations about the weighted means, equal to
    ``np.polyfit(x, z, 1, w=np.sqrt(w))`` up to rounding (about 1e-15 relative), at a fraction of its cost.
    """
    total = float(w.sum())
    x_mean, z_mean = float(w @ x) / total, float(w @ z) / total
    dx = x - x_mean
    wdx = w * dx
    a = float(wdx @ (z - z_mean)) / float(wdx @ dx)
    return a, z_mean - a * x_mean


def _median_u8(values: NDArray[np.uint8]) -> float:
    """Median of a uint8 array as a float, as :func:`_median` of it as float64 (the same value), from the
    histogram of its values instead of a partition."""
    counts = np.cumsum(np.bincount(values.ravel(), minlength=256))
    n = int(counts[-1])
    k = n // 2
    upper = int(np.searchsorted(counts, k, side="right"))  # the value of order statistic k (from 0)
    if n % 2:
        return float(upper)
    lower = int(np.searchsorted(counts, k - 1, side="right"))
    return (float(lower) + float(upper)) / 2.0


_BOX7 = np.ones(7) / 7
"""The 7-sample box of the profiles along a line."""


def _median(values: FloatArray) -> float:
    """Median of a 1-D array, as ``np.median`` (the same value, NaN when empty) without its overhead on
    small arrays."""
    n = values.size
    if n == 0:
        return math.nan
    k = n // 2
    if n % 2:
        return float(np.partition(values, k)[k])
    part = np.partition(values, (k - 1, k))
    return (float(part[k - 1]) + float(part[k])) / 2.0


@dataclass(frozen=True, slots=True)
class _RidgeFit:
    """A shaft line fitted to sub-pixel ridge points, with the points (along, across an image axis)."""

    line: _Line
    rms: float
    along: FloatArray
    across: FloatArray
    weight: FloatArray
    inliers: NDArray[np.bool_]
    slope: float
    intercept: float
    axis: int  # 0: the line is mostly horizontal (along = x), 1: mostly vertical (along = z)

    def bent_beyond(self, s_from: float, s_to: float) -> bool:
        """Whether the ridge between arc lengths ``s_from`` and ``s_to`` lies clearly off this line.

        The points there are fitted with their own line; the shaft bends when their RMS distance from
        the whole-shaft line exceeds that from their own line by :data:`BEND_EVIDENCE_MM` and
        :data:`BEND_RATIO`.
        """
        p, d = self.line.point, self.line.direction
        lo, hi = sorted((p[self.axis] + s_from * d[self.axis], p[self.axis] + s_to * d[self.axis]))
        pick = self.inliers & (self.along >= lo) & (self.along <= hi)
        if pick.sum() < 8:
            return False
        u, v, w = self.along[pick], self.across[pick], self.weight[pick]
        a, b = _line_fit(u, v, w)
        own = float(np.sqrt(np.mean((v - (a * u + b)) ** 2)))
        whole = float(np.sqrt(np.mean((v - (self.slope * u + self.intercept)) ** 2)))
        return whole >= max(BEND_RATIO * own, own + BEND_EVIDENCE_MM)

    def two_part_rms(self) -> float:
        """RMS distance (mm) of the inlying ridge points from two lines, one each side of the best of
        :data:`TWO_PART_BREAKS` break points (each part at least :data:`TWO_PART_MIN_MM` along the image
        axis): how straight a shaft that bends is in its parts; ``inf`` when no break leaves both parts
        enough points."""
        pick = self.inliers
        u, v, w = self.along[pick], self.across[pick], self.weight[pick]
        best = math.inf
        if u.size < 16:
            return best
        for cut in np.linspace(u.min() + TWO_PART_MIN_MM, u.max() - TWO_PART_MIN_MM, TWO_PART_BREAKS):
            left = u <= cut
            if np.count_nonzero(left) < 8 or np.count_nonzero(~left) < 8:
                continue
            squares = 0.0
            for part in (left, ~left):
                a, b = _line_fit(u[part], v[part], w[part])
                res = v[part] - (a * u[part] + b)
                squares += float(res @ res)
            best = min(best, math.sqrt(squares / u.size))
        return best


def _fit_ridge(frame: Frame, line: _Line, extent: tuple[float, float]) -> _RidgeFit | None:
    """Refit a coarse line to the full-resolution ridge (the RMS residual is in mm)."""
    d, p = line.direction, line.point
    axis = 0 if abs(d[0]) >= abs(d[1]) else 1
    if axis == 0:
        image, spacing = frame.pixels, (frame.row_spacing_mm, frame.col_spacing_mm)
    else:
        image, spacing = frame.pixels.T, (frame.col_spacing_mm, frame.row_spacing_mm)
    slope = d[1 - axis] / d[axis]
    across = p[1 - axis] - slope * p[axis]
    # the ends' coordinates along the axis (those of p + extent * d)
    ends = (float(p[axis] + extent[0] * d[axis]), float(p[axis] + extent[1] * d[axis]))
    points = _ridge_points(image, spacing, slope, across, (min(ends), max(ends)))
    if points is None:
        return None
    fit = _robust_fit(*points)
    if fit is None:
        return None
    a, b, rms, keep = fit
    # keep the coarse anchor so that the extent still measures from the shallow end
    if axis == 0:
        start, direction = np.array([p[0], a * p[0] + b]), _oriented(1.0, a)
    else:
        start, direction = np.array([a * p[1] + b, p[1]]), _oriented(a, 1.0)
    return _RidgeFit(_Line(start, direction), rms, points[0], points[1], points[2], keep, a, b, axis)


def _profiles(
    frame: Frame, line: _Line, s: FloatArray, offsets_mm: tuple[float, ...]
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Image values along ``line`` at arc lengths ``s`` for each perpendicular offset: shape (offsets, n)."""
    dx, dz = float(line.direction[0]), float(line.direction[1])
    nx, nz = (-dz, dx) if -dx > 0 else (dz, -dx)  # the normal, pointing shallower
    off = np.asarray(offsets_mm, dtype=np.float64)[:, None]
    x = (float(line.point[0]) + s * dx)[None, :] + off * nx
    z = (float(line.point[1]) + s * dz)[None, :] + off * nz
    cols = np.divide(x, frame.col_spacing_mm, out=x).astype(np.float32)
    rows = np.divide(z, frame.row_spacing_mm, out=z).astype(np.float32)
    values = cv2.remap(frame.pixels, cols, rows, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    rmax, cmax = frame.shape
    inside = (cols[0] >= 0) & (cols[0] <= cmax - 1) & (rows[0] >= 0) & (rows[0] <= rmax - 1)
    return values.astype(np.float64), inside


def _image_span(frame: Frame, line: _Line) -> tuple[float, float]:
    """Range of arc length along ``line`` that lies inside the image (pixel centres), as (lo, hi) in mm."""
    lo, hi = -math.inf, math.inf
    limits = ((frame.width_mm - frame.col_spacing_mm), (frame.depth_mm - frame.row_spacing_mm))
    for axis in (0, 1):
        d, p = float(line.direction[axis]), float(line.point[axis])
        if abs(d) < 1e-12:
            continue
        a, b = (0.0 - p) / d, (limits[axis] - p) / d
        lo, hi = max(lo, min(a, b)), min(hi, max(a, b))
    return lo, hi


def _in_image(frame: Frame, point: tuple[float, float]) -> bool:
    """Whether ``point`` (x, z in mm) is a finite position inside the image."""
    x, z = point
    return math.isfinite(x) and math.isfinite(z) and 0.0 <= x <= frame.width_mm and 0.0 <= z <= frame.depth_mm


def _run_ends(
    above: NDArray[np.bool_], seed: int, max_gap: int, *, long_gap: int = 0, long_run: int = 0
) -> tuple[int, int] | None:
    """First and last index of the run of ``above`` through ``seed``, bridging gaps up to ``max_gap``.

    Towards the start (lower indices) a longer gap, up to ``long_gap``, is bridged too where the runs on
    both sides of it are each at least ``long_run`` long (a shaft interrupted by a dark stretch: both parts
    are shaft); 0 turns it off.
    """
    idx = np.flatnonzero(above)
    if idx.size == 0:
        return None
    split = np.flatnonzero(np.diff(idx) > max_gap + 1)  # run k ends at idx[split[k]]
    starts = np.concatenate(([idx[0]], idx[split + 1]))
    ends = np.concatenate((idx[split], [idx[-1]]))
    # the run through the seed: the last one starting at or before it (the first when none does)
    which = max(0, int(np.searchsorted(starts, seed, side="right")) - 1)
    first = which
    if long_gap > max_gap and long_run > 0:
        solid = ends - starts >= long_run
        bridged = starts[1:] - ends[:-1] <= long_gap + 1  # between run k and run k + 1
        while first > 0 and bridged[first - 1] and solid[first - 1] and solid[first]:
            first -= 1
    return int(starts[first]), int(ends[which])


BRIDGE_GAP_MM = 2.5
"""Longest dark stretch bridged along a shaft between two runs of it (see :func:`_run_ends`)."""
BRIDGE_RUN_MM = 2.0
"""... when the runs on both sides are each at least this long ..."""
BRIDGE_MIN_DEG = 25.0
"""... along a shaft at least this steep."""


BAND_MIN_DEG = 20.0
"""A band row is told from the line only for shafts at least this steep: a flatter line that runs into a
flat layer is too like one (development `needle_free` cine 111: a 16° line under the probe started a false
track)."""
BAND_RESIDUAL_MM = 0.15
"""... and only for shafts this straight (RMS, mm): a rough short line ending in a band may be part of it."""
BAND_MIN_CONTRAST = 1.5
"""... and only for shafts of at least this contrast: for a faint one the continuation is the main guard (the
older corpus, seed 1015: a 31° line of contrast 1.2 that a flat layer crosses beyond its end started a false
track of 6 frames)."""
BAND_TILTS = (-0.08, -0.04, 0.0, 0.04, 0.08)
"""Slopes of the near-horizontal segments read for a band row (a reverberation band tilts a little)."""
BAND_FLANK_MM = 1.0
"""The segments' own flanks lie this far above and below them."""
BAND_GAP_MM = 1.0
"""The band row is read from this far either side of where it crosses the line."""
BAND_FRACTION = 0.15
"""A band row stands above its flanks by at least this fraction of the shaft's excess over the background."""


def _segment_excess(
    frame: Frame, points: FloatArray, direction: FloatArray, normal: FloatArray, half_mm: float
) -> FloatArray:
    """Mean image value along segments through ``points`` (shape (m, 2)) in ``direction`` (shape (m, 2)),
    ``half_mm`` either side, less the mean of the same segments :data:`BAND_FLANK_MM` either side along
    ``normal`` (shape (m, 2)): how much a straight structure through each point stands out."""
    u = np.arange(-half_mm, half_mm + 1e-9, 0.25)
    flank = np.array([0.0, -BAND_FLANK_MM, BAND_FLANK_MM])
    # (m, 3, nu) sample positions
    x = points[:, 0, None, None] + direction[:, 0, None, None] * u + normal[:, 0, None, None] * flank[:, None]
    z = points[:, 1, None, None] + direction[:, 1, None, None] * u + normal[:, 1, None, None] * flank[:, None]
    m = points.shape[0]
    cols = (x / frame.col_spacing_mm).astype(np.float32).reshape(m * 3, u.size)
    rows = (z / frame.row_spacing_mm).astype(np.float32).reshape(m * 3, u.size)
    values = cv2.remap(frame.pixels, cols, rows, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    means: FloatArray = values.astype(np.float64).reshape(m, 3, u.size).mean(axis=2)
    excess: FloatArray = means[:, 0] - 0.5 * (means[:, 1] + means[:, 2])
    return excess


def _band_rows(
    frame: Frame, line: _Line, s: FloatArray, across: FloatArray, length_mm: float, excess: float
) -> NDArray[np.bool_]:
    """Which bright points beyond the tip (at arc lengths ``s``, ``across`` mm off the line, positive
    shallower) lie on a band row: a near-horizontal bright stripe (a reverberation band) that crosses the
    line. The row through the point (the best of :data:`BAND_TILTS`) must stand above its flanks
    :data:`BAND_FLANK_MM` above and below by at least :data:`BAND_FRACTION` of the shaft's ``excess`` on
    both sides of the line: along ``length_mm`` from :data:`BAND_GAP_MM` beyond where it crosses the line,
    one way and the other. A fascia that bends away at the tip and goes on flat lies on one side only."""
    dx, dz = float(line.direction[0]), float(line.direction[1])
    nx, nz = (-dz, dx) if -dx > 0 else (dz, -dx)  # the normal, pointing shallower
    points = np.stack([line.point[0] + s * dx + across * nx, line.point[1] + s * dz + across * nz], axis=1)
    m = points.shape[0]
    reach = BAND_GAP_MM + 0.5 * length_mm
    # every tilt's segments on both sides, read in one pass: (tilts, sides, m) points
    d = np.array([np.array([1.0, slope]) / math.hypot(1.0, slope) for slope in BAND_TILTS])
    crossing = -across[None, :] / (d[:, 0, None] * nx + d[:, 1, None] * nz)  # along the row, to the line
    sign = np.array([-1.0, 1.0])
    shift = crossing[:, None, :] + sign[None, :, None] * reach  # (tilts, sides, m)
    centres = points[None, None, :, :] + shift[..., None] * d[:, None, None, :]
    shape = (len(BAND_TILTS), 2, m, 2)
    direction = np.broadcast_to(d[:, None, None, :], shape).reshape(-1, 2)
    normal = np.broadcast_to(np.stack([-d[:, 1], d[:, 0]], axis=1)[:, None, None, :], shape).reshape(-1, 2)
    sides = _segment_excess(frame, centres.reshape(-1, 2), direction, normal, 0.5 * length_mm)
    per_side = sides.reshape(len(BAND_TILTS), 2, m)
    best: FloatArray = np.minimum(per_side[:, 0], per_side[:, 1]).max(axis=0)  # the best tilt of both sides
    rows: NDArray[np.bool_] = best >= BAND_FRACTION * excess
    return rows


BAND_STOP_MM = 4.0
"""How far back from the end of the run a band row crossing the line is looked for (``band_stop``)."""
BAND_STOP_JUMP_MM = 1.0
"""A tracked tip is stopped before a band only when it jumps at most this much over ``max_tip_jump_mm``: the
gap and the band's crossing add little to the run, while a needle that advanced fast (development
`baseline` cine 119, 6 mm in a frame) is found whole by the full search."""
BAND_TAIL_MM = 0.6
"""The band's samples on the line may end this far before the end of the run (its blurred far edge)."""


def _band_stop(
    frame: Frame,
    line: _Line,
    s: FloatArray,
    shaft: FloatArray,
    threshold: float,
    first: int,
    last: int,
    half_mm: float,
    excess: float,
) -> int:
    """The end of the run along the line (index into ``s``) moved back before a band row it ends on: the
    run bridges the short gap between a tip and a reverberation band crossing the line just beyond it and
    ends where the band does. The band's samples on the line (:func:`_band_rows`, at least 0.3 mm of them,
    ending at most :data:`BAND_TAIL_MM` before the end) are left out from the end with what follows them,
    then the samples under ``threshold`` before them; at most twice."""
    back = max(first, last - round(BAND_STOP_MM / max(float(s[1] - s[0]), 1e-6)))
    flat = _band_rows(frame, line, s[back : last + 1], np.zeros(last + 1 - back), half_mm, excess)
    end = last
    tail = round(BAND_TAIL_MM / max(float(s[1] - s[0]), 1e-6))
    for _ in range(2):
        k = end
        while k > end - tail and k >= back and not flat[k - back]:
            k -= 1  # the band's blurred far edge, not itself a band row
        if k < back or not flat[k - back]:
            break
        top = k
        while k >= back and flat[k - back]:
            k -= 1
        if top - k < 3:
            break
        while k > first and shaft[k] < threshold:
            k -= 1
        if k <= first:
            break
        end = k
    return end


LOCAL_BG_MARGIN_MM = 5.0
"""The stretch of the line on each side of the core over which the shaft's local background is taken."""
LOCAL_BG_FAR = 2.0
"""The local background counts only when the line inside the image is at least this many times as long as
that stretch (it runs far beyond the shaft, into other layers)."""
LOCAL_BG_MIN_DEG = 25.0
LOCAL_BG_RESIDUAL_MM = 0.12
"""... and only for a line at least this steep whose ridge lies this close (RMS) to it: the needles it
finds on the development cines were 25-52 degrees and 0.02-0.10 mm; the needle-free lines it would add,
8-21 degrees or 0.15-0.32 mm."""

SHADOW_BACKGROUND = 0.5
"""A new shaft's background is read along its whole line through the image; where that is darker than this
fraction of the background beside the shaft's coarse extent, the line runs on into an acoustic shadow (cast
by the bone surface it meets), and the background beside the shaft is taken instead. 0 turns it off."""


def _mad_spread(values: FloatArray, level: float) -> float:
    """The spread of ``values`` about ``level`` as 1.4826 times their median absolute deviation (the standard
    deviation for normal noise, robust to fluid, vessels or a shaft among them)."""
    return 1.4826 * _median(np.abs(values - level))


def _local_contrast(
    s: FloatArray, background: FloatArray, shaft_level: float, extent: tuple[float, float]
) -> float:
    """The shaft's contrast against the background beside it over the core and :data:`LOCAL_BG_MARGIN_MM` on
    each side only, when the line runs on far beyond that (:data:`LOCAL_BG_FAR`); else ``-inf``. A short shaft
    whose line runs on into a brighter, mottled deep layer is measured against what lies beside it."""
    w0 = int(np.searchsorted(s, extent[0] - LOCAL_BG_MARGIN_MM))
    w1 = int(np.searchsorted(s, extent[1] + LOCAL_BG_MARGIN_MM, side="right"))
    if w1 - w0 < 20 or float(s[-1] - s[0]) < LOCAL_BG_FAR * float(s[min(w1, s.size - 1)] - s[w0]):
        return -np.inf
    local = background[w0:w1]
    level = _median(local)
    spread = _mad_spread(local, level)
    return (shaft_level - level) / (spread + 1.0)


def _locate_ends(
    frame: Frame,
    line: _Line,
    extent: tuple[float, float],
    residual: float,
    *,
    shadow_check: bool = True,
    step: float = 0.1,
    end_fit: bool = True,
    band_mm: float = 0.0,
    band_stop: bool = False,
    local_rough_mm: float = 0.0,
    local_rough_deg: float = 90.0,
    local_rough_length_mm: float = 0.0,
    local_rough_contrast: float = math.inf,
    seed_mm: float | None = None,
) -> ShaftCandidate | None:
    """Shaft ends from the half-contrast crossing of the intensity profile along the fitted line.

    ``shadow_check`` rejects a line above an acoustic shadow; a confirmed track skips it, since fluid
    spreading under the shaft is dark too. ``end_fit`` refines the tip by :func:`_fit_end`. The run is
    the one through the middle of ``extent``, or through ``seed_mm`` along the line when given.
    """
    lo, hi = _image_span(frame, line)  # search along the whole line inside the image
    s = np.arange(max(lo, extent[0] - START_REACH_MM), hi, step)
    if s.size < 20:
        return None
    offsets = (-0.2, 0.0, 0.2, 1.8, 2.0, 2.2, -2.5, -3.0, -1.0, -0.6, 0.6, 1.0)
    continuing = (0, 1, 2, 8, 9, 10, 11)  # the profiles the continuation beyond the tip reads
    values, inside = _profiles(frame, line, s, offsets)
    if not inside.all():
        s, values = s[inside], values[:, inside]
    if s.size < 20:
        return None
    box = _BOX7
    on_line = values[:3].max(axis=0)
    shaft = np.convolve(on_line, box, mode="same")
    background = np.convolve(values[3:6].max(axis=0), box, mode="same")
    # s grows along the line: the core (extent[0] <= s <= extent[1]) is one slice of it
    c0, c1 = int(np.searchsorted(s, extent[0])), int(np.searchsorted(s, extent[1], side="right"))
    if c1 - c0 < 10:
        return None
    shaft_level = _median(shaft[c0:c1])
    bg_level = _median(background)
    spread = _mad_spread(background, bg_level)  # robust to fluid or vessels
    if shadow_check and SHADOW_BACKGROUND > 0:
        beside = background[c0:c1]
        beside_level = _median(beside)
        if bg_level < SHADOW_BACKGROUND * beside_level:  # the line runs on into a shadow: read beside it
            bg_level = beside_level
            spread = _mad_spread(beside, bg_level)
    contrast = (shaft_level - bg_level) / (spread + 1.0)
    steep = abs(_angle_deg(line.direction))
    if residual <= LOCAL_BG_RESIDUAL_MM and steep >= LOCAL_BG_MIN_DEG:
        contrast = max(contrast, _local_contrast(s, background, shaft_level, extent))
    # a rougher steep ridge long enough: a clear local excess lifts it to that contrast, no further (it
    # passes, and does not outrank a straighter fit of the same shaft); its length is known at the end
    lift = (
        LOCAL_BG_RESIDUAL_MM < residual <= local_rough_mm
        and steep >= max(LOCAL_BG_MIN_DEG, local_rough_deg)
        and contrast < local_rough_contrast
        and _local_contrast(s, background, shaft_level, extent) >= local_rough_contrast
    )
    if shadow_check:
        above, below = _median(values[3:6, c0:c1].ravel()), _median(values[6:8, c0:c1].ravel())
        if below < 0.4 * above or above < 0.5 * below:
            return None  # a surface above a shadow (bone, air), not a needle
        if above < 0.5 * _median_u8(frame.pixels[::4, ::4]):
            return None  # the wall below a lumen (darker than the tissue), not a needle
    threshold = bg_level + 0.5 * (shaft_level - bg_level)
    seed = int(np.argmin(np.abs(s - (0.5 * (extent[0] + extent[1]) if seed_mm is None else seed_mm))))
    run = _run_ends(
        shaft >= threshold,
        seed,
        round(1.0 / step),
        long_gap=round(BRIDGE_GAP_MM / step) if steep >= BRIDGE_MIN_DEG else 0,
        long_run=round(BRIDGE_RUN_MM / step),
    )
    if run is None:
        return None
    first, last = run
    stopped = False
    if band_stop and band_mm > 0:  # a tracked tip stops where a band crossing just beyond it begins
        last = _band_stop(frame, line, s, shaft, threshold, first, last, band_mm, shaft_level - bg_level)
        stopped = last != run[1]
    s_tip = s[last]
    if not stopped and last + 1 < s.size and shaft[last] > shaft[last + 1]:
        s_tip += step * (shaft[last] - threshold) / (shaft[last] - shaft[last + 1])
    samples = None
    if end_fit:
        window = _end_window(s, on_line, s_tip)
        if window is not None:
            fitted = _fit_window(window, s_tip, shaft_level - bg_level)
            samples = EndSamples(window, s_tip, s_tip if fitted is None else fitted, shaft_level - bg_level)
            s_tip = samples.s_end
    # beyond the tip (s_tip + 0.5 < s <= s_tip + 4.5): a slice of s
    b0, b1 = (
        int(np.searchsorted(s, s_tip + 0.5, side="right")),
        int(np.searchsorted(s, s_tip + 4.5, side="right")),
    )
    continuation = 1.0
    if b1 - b0 >= 10:
        # the smoothed profiles only there: "same" smoothing of the samples from 3 before to 3 after it
        # gives there the values of the whole profile's
        w0, w1 = max(0, b0 - 3), min(s.size, b1 + 3)
        band = np.stack([np.convolve(values[k, w0:w1], box, mode="same") for k in continuing])
        beyond = band[:, b0 - w0 : b1 - w0]
        counted = beyond.max(axis=0) >= threshold
        if (
            band_mm > 0
            and residual <= BAND_RESIDUAL_MM
            and contrast >= BAND_MIN_CONTRAST
            and abs(_angle_deg(line.direction)) >= BAND_MIN_DEG
            and counted.any()
        ):
            rows = np.flatnonzero(counted)
            across = np.asarray(offsets)[list(continuing)][beyond[:, rows].argmax(axis=0)]
            flat = _band_rows(frame, line, s[b0:b1][rows], across, band_mm, shaft_level - bg_level)
            counted[rows[flat]] = False
        continuation = float(np.mean(counted))
    start = line.point + s[first] * line.direction
    tip = line.point + s_tip * line.direction
    if lift and s_tip - s[first] >= local_rough_length_mm:
        contrast = local_rough_contrast
    return ShaftCandidate(
        float(start[0]),
        float(start[1]),
        float(tip[0]),
        float(tip[1]),
        _angle_deg(line.direction),
        contrast,
        residual,
        continuation,
        end_samples=samples,
    )


RIDGE_SMOOTH_MM = 1.1
"""Smoothing along the line of the cross-profiles that tell whether the ridge goes on beyond the tip."""
RIDGE_BACK_MM = 4.0
"""Shaft before the half-contrast end whose excess over its flanks the continuation is compared with."""
RIDGE_FRACTION = 0.6
"""The ridge goes on where its excess over its flanks is at least this fraction of the shaft's before."""
RIDGE_WEAK = 0.3
"""... and the ridge is followed on where it peaks on the line and keeps this fraction (hysteresis)."""
RIDGE_JUMP_MM = 2.0
"""Largest gap between the half-contrast end and the ridge that goes on (a bright layer crossing it)."""
RIDGE_RUN_MM = 2.0
"""... and must then run on without a gap for this length ..."""
RIDGE_SHORT_MM = 1.4
RIDGE_SURE = 0.8
"""... or for :data:`RIDGE_SHORT_MM` when its mean excess over the flanks is this fraction of the shaft's."""
RIDGE_GAP_MM = 0.3
"""Largest gap bridged within the ridge that goes on."""
RIDGE_MIN_MM = 1.5
"""The ridge must go on at least this far beyond the half-contrast end to move the tip (the last stretch of a
deep needle beyond a bright layer it crossed may be no longer than 2 mm)."""
RIDGE_REACH_MM = 15.0
"""Farthest the ridge is followed beyond the half-contrast end."""


def _ridge_excess(cross: FloatArray, n: int, *, above: bool = False) -> tuple[NDArray[np.bool_], FloatArray]:
    """Where the cross-profile (rows at :data:`RIDGE_OFFSETS_MM`), smoothed along the line over ``n``
    samples, peaks on the line or 0.2 mm below it (the shaft's reverberations under a faint deep shaft
    move the peak there), or also 0.2 mm above it with ``above``, and how far the line stands above the
    brighter of its two flanks (an edge, bright on one side and dark on the other, is no ridge)."""
    smooth = cv2.blur(np.ascontiguousarray(cross), (n, 1), borderType=cv2.BORDER_REPLICATE)
    excess = smooth[3] - np.maximum(smooth[0:2].mean(axis=0), smooth[5:7].mean(axis=0))
    peak = smooth.argmax(axis=0)
    on = (peak == 3) | (peak == 2)  # row 2 lies 0.2 mm deeper (the profiles' normal points up)
    return (on | (peak == 4) if above else on), excess


def _tip_line(frame: Frame, candidate: ShaftCandidate) -> tuple[_Line, float, float, float] | None:
    """The line through the tip of ``candidate`` at the angle there, its span in the image and the length
    before the tip that gives the shaft's reference excess; ``None`` for a shaft flatter than
    :data:`RIDGE_MIN_ANGLE_DEG` (laterally elongated speckle lines up with it)."""
    if abs(candidate.tip_angle_deg) < RIDGE_MIN_ANGLE_DEG:
        return None
    tip = np.array([candidate.tip_x_mm, candidate.tip_z_mm])
    line = _Line(tip, _tip_direction(candidate))
    lo, hi = _image_span(frame, line)
    return line, lo, hi, min(RIDGE_BACK_MM, candidate.length_mm)


def _ridge_end(
    s: FloatArray, cross: FloatArray, last: int, step: float, *, above: bool = False
) -> tuple[float, float] | None:
    """Where the shaft's ridge ends when it goes on beyond the end at index ``last`` of ``s``.

    A shaft that runs from bright into darker tissue, or fades towards its tip, drops under the threshold
    set by its whole length before its tip. Beyond that end the ridge itself is followed, not the
    brightness: the cross-profile (the rows of ``cross``, at :data:`RIDGE_OFFSETS_MM` from the line),
    smoothed along the line over :data:`RIDGE_SMOOTH_MM`, must peak on the line and stand above both
    flanks by :data:`RIDGE_WEAK` of the shaft's excess over the last :data:`RIDGE_BACK_MM` before that
    end (speckle peaks on the line only here and there; an edge stands above one flank only). The ridge
    may start up to :data:`RIDGE_JUMP_MM` beyond the end (a bright layer crossing the shaft) and must
    then run on for :data:`RIDGE_RUN_MM` (or :data:`RIDGE_SHORT_MM` when as strong as :data:`RIDGE_SURE`
    of the shaft); later gaps up to :data:`RIDGE_GAP_MM` are bridged. Its last point standing
    :data:`RIDGE_FRACTION` above the flanks must lie :data:`RIDGE_MIN_MM` or more beyond the end; the tip
    is then where the profile along the line falls half-way between the shaft and flank levels of the
    last 2 mm of the ridge. Returns that arc length and the step (shaft minus flanks) for
    :func:`_fit_end`, or ``None`` when the ridge does not go on. With ``above`` the cross-profile may also
    peak 0.2 mm above the line (:func:`_ridge_excess`).
    """
    n = 2 * round(0.5 * RIDGE_SMOOTH_MM / step) + 1
    i0 = max(0, last - round(RIDGE_BACK_MM / step))
    i1 = min(s.size, last + round(RIDGE_REACH_MM / step))
    j0 = last - i0
    if i1 - last < round(RIDGE_MIN_MM / step) or j0 < n:
        return None
    rows = cross[:, i0:i1]
    peaks, excess = _ridge_excess(rows, n, above=above)
    reference = _median(excess[:j0])
    if reference <= 0.0:
        return None
    # on the ridge: the cross-profile peaks on the line; strong: it also stands well above its flanks
    on_ridge = peaks & (excess >= RIDGE_WEAK * reference)
    strong = on_ridge & (excess >= RIDGE_FRACTION * reference)
    good = np.flatnonzero(on_ridge)
    good = good[good > j0]
    if good.size == 0:
        return None
    # runs of the ridge; one gap up to RIDGE_JUMP_MM until a run of 1 mm, then gaps up to RIDGE_GAP_MM
    split = np.flatnonzero(np.diff(good) > 1)
    starts, ends = good[np.concatenate([[0], split + 1])], good[np.concatenate([split, [good.size - 1]])]
    last_on, established = j0, False
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if a - last_on > round((RIDGE_GAP_MM if established else RIDGE_JUMP_MM) / step):
            break
        run = (b - a) * step
        sure = run >= RIDGE_RUN_MM or (
            run >= RIDGE_SHORT_MM and float(excess[a : b + 1].mean()) >= RIDGE_SURE * reference
        )
        last_on, established = b, established or sure
    chain = np.flatnonzero(strong[j0 + 1 : last_on + 1])
    if not established or chain.size == 0 or (chain[-1] + 1) * step < RIDGE_MIN_MM:
        return None
    end = int(chain[-1]) + j0 + 1
    # the local levels over the last 2 mm of the ridge, and the half-way crossing after it
    box = np.ones(7) / 7
    lo = max(0, end - round(2.0 / step))
    shaft = np.convolve(rows[2:5].max(axis=0), box, mode="same")
    flanks = np.convolve(rows[[0, 1, 5, 6]].mean(axis=0), box, mode="same")
    level, floor = _median(shaft[lo:end]), _median(flanks[lo:end])
    if level <= floor:
        return None
    half = floor + 0.5 * (level - floor)
    k = end
    while k > end - n and shaft[k] < half:
        k -= 1
    while k + 1 < shaft.size and shaft[k + 1] >= half and k - end < n:
        k += 1
    s_end = float(s[i0 + k])
    if k + 1 < shaft.size and shaft[k] > shaft[k + 1]:
        s_end += step * (shaft[k] - half) / (shaft[k] - shaft[k + 1])
    return s_end, level - floor


RIDGE_OFFSETS_MM = (-1.0, -0.6, -0.2, 0.0, 0.2, 0.6, 1.0)
"""Cross-profile offsets from the line read by :func:`_ridge_end`."""
RIDGE_MIN_ANGLE_DEG = 25.0
"""A shaft flatter than this is not carried on: laterally elongated speckle lines up with it."""


def _ridge_tip(
    frame: Frame, candidate: ShaftCandidate, *, step: float = 0.1, above: bool = False
) -> tuple[float, float] | None:
    """The tip of ``candidate`` carried on along its ridge (:func:`_ridge_end`), or ``None`` if it ends.

    The line runs through the tip at the angle there (the distal angle of a bent needle); a shaft flatter
    than :data:`RIDGE_MIN_ANGLE_DEG` is not carried on. The shaft before the tip gives the reference
    excess; the new end is refined by :func:`_fit_end` with the wider models of the report
    (:data:`END_WIDE_SHIFTS_MM`, :data:`END_WIDE_SIGMAS_MM`). ``above`` goes to :func:`_ridge_end`.
    """
    placed = _tip_line(frame, candidate)
    if placed is None:
        return None
    line, lo, hi, back = placed
    if lo > -back or hi < RIDGE_MIN_MM:
        return None
    s = (
        np.arange(-round(back / step), math.floor(min(hi, RIDGE_REACH_MM) / step) + 1, dtype=np.float64)
        * step
    )
    cross, _ = _profiles(frame, line, s, RIDGE_OFFSETS_MM)
    last = round(back / step)
    found = _ridge_end(s, cross, last, step, above=above)
    if found is None:
        return None
    s_end, step_size = found
    fitted = _fit_end(s, cross[2:5].max(axis=0), s_end, step_size, models=_END_WIDE_MODELS)
    s_end = s_end if fitted is None else fitted
    end = line.point + s_end * line.direction
    return float(end[0]), float(end[1])


RIDGE_ABOVE_MM = 6.0
"""A ridge followed also where it peaks 0.2 mm above the line must carry the tip at least this far on (a
long faint shaft whose line the fit at its bright start missed by a little; speckle lined up beyond a tip
goes on for a few millimetres only)."""
RIDGE_ROUNDS = 5
"""The ridge is followed again from the end it gave, up to this many times in all (past a short break)."""
RIDGE_HOLD = 0.8
"""Fraction of a previously reported stretch beyond the tip where the ridge must still be, to keep it."""


def _ridge_holds(frame: Frame, candidate: ShaftCandidate, reach_mm: float, *, step: float = 0.1) -> bool:
    """Whether the shaft's ridge is still there up to ``reach_mm`` beyond the tip of ``candidate``.

    For a stretch already reported in the frame before, with gaps anywhere: over at least
    :data:`RIDGE_HOLD` of it, the smoothed cross-profile peaks on the line and stands above both flanks
    by :data:`RIDGE_WEAK` of the shaft's excess before the tip, and on average by :data:`RIDGE_SURE` of it
    (speckle lined up with the shaft beyond a tip is weaker).
    """
    placed = _tip_line(frame, candidate)
    if placed is None:
        return False
    line, lo, hi, back = placed
    if lo > -back or hi < reach_mm or reach_mm < 1.0:
        return False
    s = np.arange(-round(back / step), math.floor(reach_mm / step) + 1, dtype=np.float64) * step
    cross, _ = _profiles(frame, line, s, RIDGE_OFFSETS_MM)
    peaks, excess = _ridge_excess(cross, 2 * round(0.5 * RIDGE_SMOOTH_MM / step) + 1)
    reference = _median(excess[s <= 0.0])
    beyond = (s > 0.5) & (s <= reach_mm - 0.5)
    if reference <= 0.0 or beyond.sum() < 5:
        return False
    ridge = peaks & (excess >= RIDGE_WEAK * reference)
    strength = float(excess[beyond].mean()) / reference
    return float(ridge[beyond].mean()) >= RIDGE_HOLD and strength >= RIDGE_SURE


MOTION_MIN_MM = 1.0
"""A tip reported this much or more beyond the tip of the frame before is checked against the image change."""
MOTION_HELD_MIN_MM = 0.3
"""... or this much when that tip was itself held by the image change: a stopped needle whose tip the wider
end fit (:func:`_end_back`) moves by less than :data:`MOTION_MIN_MM` stays held, and the chain goes on."""
MOTION_BACK_MM = 3.0
"""Shaft before the earlier tip whose change between the two frames tells whether only the needle moved."""
MOTION_LEVEL = 6.0
"""Smallest change (grey levels, mean over the line and 0.2 mm either side) that counts as movement."""
MOTION_NOISE = 3.0
"""The level is raised to this many times the median change of the shaft behind the earlier tip; the needle
counts as still only when the level stays at :data:`MOTION_LEVEL`."""
MOTION_SKIP = 12.0
"""The check is left out when the raised level exceeds this (the probe or the tissue moved too)."""
MOTION_BIAS_MM = 0.5
"""How far the changed stretch reaches beyond the tip (the bevel echo and the beam along the line)."""
MOTION_MARGIN_MM = 0.3
"""The tip is drawn back only when the changed stretch ends this far before it."""
MOTION_HOLD_MM = 4.0
"""Largest advance over an unchanged image that is undone (a longer one is a shaft found further on)."""
BEND_ON_LINE_MM = 0.7
"""A detected tip lies on the distal line of the tip reported before (``hold_bend``) when this close to it."""
BEND_ADVANCED_MM = 2.0
"""A tip past a bend is kept (``hold_bend``) only once the tip was seen advancing this far past the bend,
report by report: a detection that runs on at another angle beyond a still needle's tip over aligned speckle
appears at once (development `baseline` 614: 5 mm beyond the tip)."""
HOLD_DETECTED_MM = 0.5
"""A tip held over an unchanged image stays held however far beyond it the shaft detected ends, as long as
the detected tip moved less than this since the frame before (``hold_gap``): the gap did not open in this
frame, so it says nothing new about the needle."""
CARRIED_BEYOND_MM = 3.0
"""How far beyond a tip the ridge carried on the image change is read (``carried_beyond``)."""
CARRIED_NEAR_MM = 1.5
"""... where a change that begins this far beyond it or nearer is the needle's."""
MOTION_DETACHED_MM = 0.7
"""A change that begins more than this beyond the earlier tip is not the needle advancing (which changes the
image from its earlier tip on) but fluid or tissue moving beyond it; it is left out."""
DETACHED_MAX_MM = 2.0
"""A change that begins farther than this beyond the tip held before is not taken for the next step of a
needle the held tip lags (``NeedleTracker(detached_max_mm=...)``)."""


def _line_change(
    frame: Frame, previous: Frame, line: _Line, s: FloatArray, offsets: tuple[float, ...]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The profiles along ``line`` at ``s`` and ``offsets`` now and on ``previous``, and the change on the
    line: the mean absolute change over the first three offsets (the line and 0.2 mm either side), smoothed
    over 0.5 mm. Shared by the checks of how a needle moved between two frames."""
    now, _ = _profiles(frame, line, s, offsets)
    then, _ = _profiles(previous, line, s, offsets)
    return now, then, _smoothed(np.abs(now[:3] - then[:3]).mean(axis=0))


def _smoothed(values: FloatArray) -> FloatArray:
    """``values`` averaged over 5 samples (0.5 mm at the 0.1 mm step of the change checks)."""
    return np.asarray(np.convolve(values, np.ones(5) / 5, mode="same"), dtype=np.float64)


def _change_level(change: FloatArray, behind: NDArray[np.bool_], least: float) -> float | None:
    """The level a needle's change along a line exceeds: ``least``, raised to :data:`MOTION_NOISE` times the
    median of ``change`` over ``behind`` (the shaft behind the tip: speckle changes a little everywhere);
    ``None`` when that exceeds :data:`MOTION_SKIP` (the probe or the tissue moved). Shared by the checks
    of how a needle moved between two frames."""
    noise = MOTION_NOISE * _median(change[behind])
    return None if noise > MOTION_SKIP else max(least, noise)


def _changed_from(
    change: FloatArray, s: FloatArray, back: float, least: float
) -> tuple[float, NDArray[np.intp]] | None:
    """The level of :func:`_change_level` over the shaft more than 1 mm behind ``back`` (arc length along the
    line, mm) and the indices of ``s`` from 0.5 mm before ``back`` on where ``change`` exceeds it; ``None``
    when the probe or the tissue moved."""
    level = _change_level(change, s < back - 1.0, least)
    if level is None:
        return None
    return level, np.flatnonzero((change > level) & (s > back - 0.5))


def _advance_seen(
    frame: Frame,
    previous: Frame,
    candidate: ShaftCandidate,
    before: tuple[float, float],
    *,
    hold: bool = True,
    least_mm: float = MOTION_MIN_MM,
    hold_mm: float = MOTION_HOLD_MM,
    carried: bool = False,
    needle_detached: bool = False,
    detached_max_mm: float = math.inf,
    needle_beyond: bool = False,
    step: float = 0.1,
) -> tuple[float, float] | None:
    """The tip of ``candidate`` drawn back to where the image changed since ``previous``, or ``None``.

    A needle that advances changes the image along its line up to its tip; tissue beyond the tip stays as it
    was. When the tip reported now lies :data:`MOTION_MIN_MM` (``least_mm``) or more beyond ``before`` (the
    tip reported on ``previous``), the mean absolute change along the line (0.2 mm either side) is compared
    with :data:`MOTION_LEVEL`, raised to :data:`MOTION_NOISE` times its median over the shaft behind
    ``before``. When the changed stretch ends, less :data:`MOTION_BIAS_MM`, more than :data:`MOTION_MARGIN_MM`
    before the tip, the tip is drawn back there (not behind ``before``): speckle lined up with the shaft
    beyond its tip had carried the half-contrast end on. When nothing changed, the level was not raised, the
    advance is at most :data:`MOTION_HOLD_MM` and ``hold`` is set (``before`` was itself placed so), the
    needle has not moved and ``before`` is kept. The check is left out when the level is raised beyond
    :data:`MOTION_SKIP`. A change that begins more than :data:`MOTION_DETACHED_MM` beyond ``before`` counts as
    none (no needle moved through the stretch between). ``least_mm`` replaces :data:`MOTION_MIN_MM` as the
    smallest advance checked, and ``hold_mm`` :data:`MOTION_HOLD_MM` as the largest advance undone.
    With ``carried`` (the tip was carried on along the ridge, :func:`_ridge_tip`) a detached change is a
    change all the same: the needle moved near the tip the ridge reached, so that tip is not held back. With
    ``needle_detached`` a detached change that is a needle coming in (:func:`_needle_run`) counts too: the
    tip held before lags a needle that goes on advancing, whose change then begins beyond it, but only when
    it begins within ``detached_max_mm`` of ``before`` (a needle's next step; farther on it is tissue or a
    vessel wall). With ``carried`` and ``needle_beyond``, a tip that would be held or drawn back is kept
    when a needle moved just beyond it (:func:`_needle_beyond`, up to :data:`CARRIED_BEYOND_MM`).
    """
    if previous.shape != frame.shape:
        return None
    direction = _tip_direction(candidate)
    tip = np.array([candidate.tip_x_mm, candidate.tip_z_mm])
    back = float(np.dot(np.asarray(before) - tip, direction))
    if not least_mm <= -back <= math.hypot(frame.width_mm, frame.depth_mm):
        return None  # no advance, or a step no needle makes within the image (nothing to compare)
    line = _Line(tip, direction)
    s = np.arange(round((back - MOTION_BACK_MM) / step), round(0.5 / step) + 1, dtype=np.float64) * step
    now, then, change = _line_change(frame, previous, line, s, (-0.2, 0.0, 0.2))
    changed = _changed_from(change, s, back, MOTION_LEVEL)
    if changed is None:
        return None
    level, moved = changed
    if moved.size and s[moved[0]] > back + MOTION_DETACHED_MM:
        if carried:
            return None  # the needle moved beyond the earlier tip: the ridge may have caught up with it
        run = None
        if needle_detached:  # the profiles 1 mm either side are read only for such a change
            now = np.vstack([now, _profiles(frame, line, s, BESIDE_MM)[0]])
            then = np.vstack([then, _profiles(previous, line, s, BESIDE_MM)[0]])
            run = _needle_run(now, then, change, moved, level=level, step=step)
            if run is not None and s[run[0]] > back + detached_max_mm:
                run = None  # too far beyond the tip held to be the next step of a needle it lags
        moved = moved[:0] if run is None else run  # else no needle moved through the gap (fluid, tissue)
    if moved.size == 0:
        still = level <= MOTION_LEVEL  # the shaft behind the earlier tip did not change either
        if not (hold and still and -back <= hold_mm):
            return None
        drawn = np.asarray(before)
    else:
        end = float(s[moved[-1]]) - MOTION_BIAS_MM
        if end > -MOTION_MARGIN_MM:
            return None
        drawn = tip + max(end, back) * direction
    if carried and needle_beyond and _needle_beyond(frame, previous, line, level, step=step):
        return None  # a needle came in beyond the tip the ridge reached: it is not held back
    return float(drawn[0]), float(drawn[1])


def _needle_beyond(frame: Frame, previous: Frame, line: _Line, level: float, *, step: float) -> bool:
    """Whether a needle moved along ``line`` just beyond its point since ``previous``: the first stretch
    between 0.5 mm and :data:`CARRIED_BEYOND_MM` whose change exceeds ``level`` (gaps up to
    :data:`AHEAD_GAP_MM`) begins within :data:`CARRIED_NEAR_MM` and changed the line at least
    :data:`BEHIND_ON_LINE` times as much as 1 mm either side (:func:`_on_line`). The ridge carried a tip on
    short of a needle that advanced beyond it, over a stretch it had passed before (whose echo may darken or
    brighten); a vessel's wall that pulsates beyond the tip changes the image further on."""
    s = np.arange(round(0.5 / step), round(CARRIED_BEYOND_MM / step) + 1, dtype=np.float64) * step
    lo, hi = _image_span(frame, line)
    s = s[(s >= lo) & (s <= hi)]
    if s.size < 5:
        return False
    now, then, change = _line_change(frame, previous, line, s, (-0.2, 0.0, 0.2, *BESIDE_MM))
    moved = np.flatnonzero(change > level)
    if moved.size == 0 or s[moved[0]] > CARRIED_NEAR_MM:
        return False
    run = _first_run(moved, step)
    return _on_line(now, then, change, int(run[0]), int(run[-1]) + 1)


BESIDE_MM = (-1.0, 1.0)
"""Offsets across the line (mm) of the profiles beside it that tell a needle's change from tissue's."""


def _needle_run(
    now: FloatArray,
    then: FloatArray,
    change: FloatArray,
    moved: NDArray[np.intp],
    *,
    level: float,
    step: float,
) -> NDArray[np.intp] | None:
    """The first stretch of ``moved`` (gaps up to :data:`AHEAD_GAP_MM`) when it is a needle coming in, else
    ``None``: its change peaks at :data:`BEHIND_PEAK` times ``level``, changed the line at least
    :data:`BEHIND_ON_LINE` times as much as 1 mm either side (a needle, not tissue) and brightened it on the
    whole (:data:`AHEAD_BRIGHTER`; injected fluid darkens it). ``now`` and ``then`` are the profiles at
    offsets (-0.2, 0, 0.2) mm followed by those at :data:`BESIDE_MM`, ``change`` the change on the line."""
    run = _first_run(moved, step)
    a, b = int(run[0]), int(run[-1]) + 1
    if float(change[a:b].max()) < BEHIND_PEAK * level:
        return None
    if not _on_line(now, then, change, a, b):
        return None
    brighter = float((now[:3, a:b] - then[:3, a:b]).mean())
    if brighter < AHEAD_BRIGHTER * float(change[a:b].mean()):
        return None  # the line did not brighten there: no shaft came in (fluid, or the tip's echo flickers)
    return run


def _first_run(moved: NDArray[np.intp], step: float) -> NDArray[np.intp]:
    """The first stretch of the indices ``moved`` (not empty), bridging gaps up to :data:`AHEAD_GAP_MM`."""
    gaps = np.flatnonzero(np.diff(moved) > round(AHEAD_GAP_MM / step))
    return moved[: gaps[0] + 1] if gaps.size else moved


def _on_line(now: FloatArray, then: FloatArray, change: FloatArray, a: int, b: int) -> bool:
    """Whether the samples ``a:b`` changed the line at least :data:`BEHIND_ON_LINE` times as much as 1 mm
    either side (a needle, not tissue or fluid): ``change`` is the change on the line, ``now`` and ``then``
    the profiles at (-0.2, 0, 0.2) mm followed by those at :data:`BESIDE_MM`."""
    beside = _smoothed(np.abs(now[3:] - then[3:]).mean(axis=0))
    return float(change[a:b].mean()) >= BEHIND_ON_LINE * float(beside[a:b].mean())


BEHIND_MM = 15.0
"""Farthest behind a tip that did not advance where the image change of an advancing needle is looked for."""
BEHIND_MIN_MM = 1.0
"""The tip is drawn back to the change (:func:`_change_behind`) only when it ends this far or more before."""
BEHIND_RUN_MM = 4.0
"""Longest changed stretch taken for the step of an advancing needle (its advance in one frame)."""
BEHIND_PEAK = 2.0
"""The change of the stretch must peak at this many times the level it is found with."""
BEHIND_ON_LINE = 2.0
"""The change on the line must be this many times that 1 mm either side of it (a needle, not tissue)."""


def _change_behind(
    frame: Frame, previous: Frame, candidate: ShaftCandidate, *, step: float = 0.1
) -> tuple[float, float] | None:
    """The tip of ``candidate`` drawn back to where an advancing needle changed the image, or ``None``.

    A new track on an advancing needle may take a bright stretch of still tissue beyond the tip, lined up
    with the shaft, for its end: the reported tip then stays put while the needle advances towards it.
    Between two frames the advancing needle changes the image on its line only over the stretch it
    advanced through, and the tissue beyond its tip does not change. When the change along the line (0.2 mm
    either side) over the last :data:`BEHIND_MM` before the tip exceeds its level (:data:`MOTION_LEVEL`,
    raised to :data:`MOTION_NOISE` times its median there: speckle changes a little everywhere) only in
    one stretch of at most :data:`BEHIND_RUN_MM` that peaks at :data:`BEHIND_PEAK` times the level, ends,
    less :data:`MOTION_BIAS_MM`, at least :data:`BEHIND_MIN_MM` before the tip and changed on the line at
    least :data:`BEHIND_ON_LINE` times as much as 1 mm either side of it, the tip is drawn back there.
    """
    if previous.shape != frame.shape:
        return None
    direction = _tip_direction(candidate)
    tip = np.array([candidate.tip_x_mm, candidate.tip_z_mm])
    reach = min(BEHIND_MM, candidate.length_mm)
    if reach < BEHIND_MIN_MM + MOTION_BIAS_MM + 1.0:
        return None
    s = np.arange(-round(reach / step), round(0.5 / step) + 1, dtype=np.float64) * step
    now, then, change = _line_change(frame, previous, _Line(tip, direction), s, (-0.2, 0.0, 0.2, *BESIDE_MM))
    level = max(MOTION_LEVEL, MOTION_NOISE * _median(change))
    moved = np.flatnonzero(change > level)
    if moved.size == 0 or (moved[-1] - moved[0]) * step > BEHIND_RUN_MM:
        return None
    if float(change[moved].max()) < BEHIND_PEAK * level:
        return None  # no clear step of a needle over the speckle's change
    end = float(s[moved[-1]]) - MOTION_BIAS_MM
    if end > -BEHIND_MIN_MM:
        return None
    if not _on_line(now, then, change, int(moved[0]), int(moved[-1]) + 1):
        return None
    drawn = tip + end * direction
    return float(drawn[0]), float(drawn[1])


def _unchanged_between(
    frame: Frame, previous: Frame, candidate: ShaftCandidate, reach_mm: float, *, step: float = 0.1
) -> bool:
    """Whether the image along the shaft's line did not change since ``previous`` from the tip of
    ``candidate`` up to ``reach_mm`` beyond it, nor over the shaft behind it.

    A needle drawn back leaves the stretch it filled, which changes the image there; a still needle
    changes nothing. The change is read as in :func:`_advance_seen` (0 and 0.2 mm either side of the
    line, smoothed over 0.5 mm): it must stay under :data:`MOTION_LEVEL`, raised to :data:`MOTION_NOISE`
    times its median over the :data:`MOTION_BACK_MM` of shaft behind the tip, between 0.5 mm beyond the
    tip and 0.5 mm before ``reach_mm`` (the ends of a still needle flicker a little); ``False`` when the
    raised level exceeds :data:`MOTION_SKIP` (the probe or the tissue moved).
    """
    read = _stretch_change(frame, previous, candidate, reach_mm, step=step)
    if read is None:
        return False
    s, change, level, _ = read
    inner = (s >= 0.5) & (s <= reach_mm - 0.5)
    return bool(inner.any() and change[inner].max() <= level)


def _stretch_change(
    frame: Frame,
    previous: Frame,
    candidate: ShaftCandidate,
    reach_mm: float,
    *,
    step: float,
    beyond_mm: float = 0.0,
) -> tuple[FloatArray, FloatArray, float, FloatArray] | None:
    """The positions along the shaft's line (from :data:`MOTION_BACK_MM` behind the tip of ``candidate`` to
    ``reach_mm`` beyond it), the change there since ``previous`` (:func:`_line_change`), the level a
    needle's change exceeds (:data:`MOTION_LEVEL`, raised to :data:`MOTION_NOISE` times the median over the
    shaft behind the tip) and the signed change (now less then, over the same three offsets); ``None``
    when the stretch leaves the image or the level exceeds :data:`MOTION_SKIP` (the probe or the tissue
    moved). ``beyond_mm`` reads on that much further, as far as the image goes."""
    if previous.shape != frame.shape or reach_mm <= 0.0:
        return None
    direction = _tip_direction(candidate)
    tip = np.array([candidate.tip_x_mm, candidate.tip_z_mm])
    line = _Line(tip, direction)
    lo, hi = _image_span(frame, line)
    if lo > -MOTION_BACK_MM or hi < reach_mm:
        return None
    end = min(reach_mm + beyond_mm, hi)  # ``beyond_mm`` further on, as far as the image goes
    s = np.arange(round(-MOTION_BACK_MM / step), math.floor(end / step) + 1, dtype=np.float64) * step
    now, then, change = _line_change(frame, previous, line, s, (-0.2, 0.0, 0.2))
    level = _change_level(change, s < -1.0, MOTION_LEVEL)
    if level is None:
        return None
    return s, change, level, (now - then).mean(axis=0)


def _went_on(
    frame: Frame, previous: Frame, shown: ShaftCandidate, reach_mm: float, before: tuple[float, float]
) -> bool:
    """Whether a needle detected in the frame before at ``before``, ``reach_mm`` beyond the tip of ``shown``
    along its line, is still there and went on (``hold_bare``): the image along the line did not change up
    to 1 mm short of it (:func:`_unchanged_between`), and a needle moved just beyond it
    (:func:`_needle_beyond` along the line through ``before``)."""
    if reach_mm < 2.0 or not _unchanged_between(frame, previous, shown, reach_mm - 1.0):
        return False
    direction = _tip_direction(shown)
    line = _Line(np.asarray(before, dtype=np.float64), direction)
    return _needle_beyond(frame, previous, line, MOTION_LEVEL, step=0.1)


DRAWN_GAP_MM = 1.0
"""Largest gap bridged in the changed stretch that ends at a held tip (:func:`_drawn_back`)."""
DRAWN_BEYOND_MM = 2.0
"""How far beyond a held tip :func:`_drawn_back` looks for a needle coming in."""
DRAWN_SETTLED_FRAMES = 3
"""... read only for a tip reported within :data:`HOLD_DETECTED_MM` of the same place in this many frames."""


def _drawn_back(
    frame: Frame, previous: Frame, candidate: ShaftCandidate, reach_mm: float, *, step: float = 0.1
) -> float | None:
    """How far beyond the tip of ``candidate`` a needle held ``reach_mm`` beyond it still reaches, read from
    the image change since ``previous``; ``None`` when it was drawn back over the whole stretch or the change
    cannot be read.

    As :func:`_unchanged_between`, which returns ``reach_mm`` here; in addition, a change that does not
    reach the end of the stretch (within 0.5 mm of where :func:`_unchanged_between` stops looking) left the
    needle there: fluid or tissue changed the image in between, and ``reach_mm`` is returned too. A needle
    drawn back changes the image over the stretch it left, which ends at its earlier tip: when the changed
    stretch ending there (gaps up to :data:`DRAWN_GAP_MM`) begins more than 1 mm beyond the tip of
    ``candidate``, the needle reaches to where it begins, plus :data:`MOTION_BIAS_MM` (the change reaches
    that far beyond a tip). Fluid spreading at a still tip changes the image over its last millimetre or
    two, and drew a held tip back all the way to the detected one. A line that brightened by more than the
    level from where that stretch begins up to :data:`DRAWN_BEYOND_MM` beyond the held tip is a needle
    coming in, not one drawn back: ``None`` (an advancing steep needle's tip echo moves on, darkening the
    line where it was).
    """
    read = _stretch_change(frame, previous, candidate, reach_mm, step=step, beyond_mm=DRAWN_BEYOND_MM)
    if read is None:
        return None
    s, change, level, signed = read
    inner = (s >= 0.5) & (s <= reach_mm - 0.5)
    if not inner.any():
        return None
    moved = np.flatnonzero(inner & (change > level))
    if moved.size == 0 or s[moved[-1]] < reach_mm - 1.0:
        return reach_mm  # nothing changed, or not at the earlier tip: the needle is still there
    gaps = np.flatnonzero(np.diff(moved) > round(DRAWN_GAP_MM / step))
    a = int(moved[gaps[-1] + 1] if gaps.size else moved[0])
    if float(signed[a:].max()) > level:
        return None  # the line brightened there or just beyond: a needle came in, none left
    first = float(s[a]) + MOTION_BIAS_MM
    return first if first > 1.0 else None


AHEAD_MIN_DEG = 50.0
"""Only a tip at least this steep is carried on by :func:`_change_ahead`: a steep shaft sends little echo
back, so its detection stops short of a deep tip, while the change beyond a flatter advancing tip that was
found where it is runs on 2-3 mm (development ``baseline``, ``bent`` and ``moving_at_injection`` cines)."""
AHEAD_GAP_MM = 0.3
"""Largest gap bridged in the changed stretch ahead of a tip (:func:`_change_ahead`)."""
AHEAD_LEVEL = 6.0
"""Smallest change (grey levels) that counts as the needle advancing ahead of a tip."""
AHEAD_BIAS_MM = 0.7
"""How far the changed stretch is taken to reach beyond an advancing tip: the tip is carried on to the end of
the change less this (the beam and the bevel echo; :data:`MOTION_BIAS_MM` put tips up to 1.5 mm ahead)."""
AHEAD_MIN_MM = 1.5
"""A tip is carried on only this far or more: the change reaches up to about 2 mm beyond an advancing tip
that was found where it is (development ``steep_deep`` cines 34, 35 and 51)."""
AHEAD_BRIGHTER = 0.1
"""The line must have brightened over the changed stretch by this fraction of its mean absolute change: a
shaft came in (injected fluid darkening beyond a still tip does not count)."""


def _advanced_to(
    frame: Frame, previous: Frame, longer: ShaftCandidate, reach: ShaftCandidate, *, step: float = 0.1
) -> bool:
    """Whether a needle advanced since ``previous`` along the shaft ``longer`` from near the tip of ``reach``
    (the tip reported before) up to the tip of ``longer``.

    The tip reported before is held while the track's shaft is found short of it; the shaft followed over
    the length reported may run on well beyond it when the needle went on advancing in the meantime. Along
    the line through ``longer``'s tip, the change since ``previous`` (:func:`_line_change`) must exceed its
    level (as in :func:`_change_ahead`) in a first stretch beyond the tip reported before that is a needle
    coming in (:func:`_needle_run`: it brightened the line, changed it more than beside it and peaks well
    above the level), begins more than ``REACH_ADVANCED_MM[0]`` before ``longer``'s tip and ends between
    that far before it and ``REACH_ADVANCED_MM[1]`` beyond it.
    """
    if previous.shape != frame.shape:
        return False
    direction = _tip_direction(longer)
    tip = np.array([longer.tip_x_mm, longer.tip_z_mm])
    line = _Line(tip, direction)
    back = float(np.dot(np.array([reach.tip_x_mm, reach.tip_z_mm]) - tip, direction))
    lo, hi = _image_span(frame, line)
    first, last = back - MOTION_BACK_MM, min(hi, REACH_ADVANCED_MM[1] + 1.0)
    if lo > first or last < REACH_ADVANCED_MM[1] + 0.5:
        return False
    s = np.arange(round(first / step), math.floor(last / step) + 1, dtype=np.float64) * step
    now, then, change = _line_change(frame, previous, line, s, (-0.2, 0.0, 0.2, *BESIDE_MM))
    changed = _changed_from(change, s, back, AHEAD_LEVEL)
    if changed is None:
        return False
    level, moved = changed
    if moved.size == 0:
        return False
    run = _needle_run(now, then, change, moved, level=level, step=step)
    if run is None:
        return False
    begin, end = float(s[run[0]]), float(s[run[-1]])
    return begin < -REACH_ADVANCED_MM[0] and -REACH_ADVANCED_MM[0] <= end <= REACH_ADVANCED_MM[1]


def _change_ahead(
    frame: Frame,
    previous: Frame,
    candidate: ShaftCandidate,
    before: tuple[float, float],
    *,
    reverb: bool = False,
    step: float = 0.1,
) -> tuple[float, float] | None:
    """The tip of ``candidate`` carried on to where an advancing needle changed the image, or ``None``.

    The counterpart of :func:`_change_behind`: the detection and its ridge may stop at a bright layer or a
    faint stretch while the needle goes on beyond it. A needle that advances changes the image on its line
    from its earlier tip (``before``, reported on ``previous``) to its new one. For a tip at least
    :data:`AHEAD_MIN_DEG` steep, the change is read as in :func:`_advance_seen`; when it exceeds its level
    in one stretch (gaps up to :data:`AHEAD_GAP_MM`) that begins at most :data:`MOTION_DETACHED_MM` beyond
    the farther of the two tips, is at most :data:`BEHIND_RUN_MM` long, peaks at :data:`BEHIND_PEAK` times
    the level, changed on the line at least :data:`BEHIND_ON_LINE` times as much as 1 mm either side of it
    (a needle, not tissue), brightened there on the whole (:data:`AHEAD_BRIGHTER`: injected fluid darkens
    it) and ends, less :data:`AHEAD_BIAS_MM`, at least :data:`AHEAD_MIN_MM` beyond the tip and
    :data:`BEHIND_MIN_MM` beyond ``before``, the tip is
    carried on there. With ``reverb`` the stretch ends before the point where the change lies deeper than the
    line (:func:`_before_reverberation`), and the tip is carried to that end less
    :data:`AHEAD_REVERB_BIAS_MM`.
    """
    if previous.shape != frame.shape or abs(candidate.tip_angle_deg) < AHEAD_MIN_DEG:
        return None
    direction = _tip_direction(candidate)
    tip = np.array([candidate.tip_x_mm, candidate.tip_z_mm])
    line = _Line(tip, direction)
    back = float(np.dot(np.asarray(before) - tip, direction))
    start = max(back, 0.0)  # the farther of the two tips
    lo, hi = _image_span(frame, line)
    first = min(back, 0.0) - MOTION_BACK_MM
    last = min(hi, start + MOTION_DETACHED_MM + BEHIND_RUN_MM + AHEAD_BIAS_MM)
    if lo > first or last < start + AHEAD_MIN_MM + AHEAD_BIAS_MM:
        return None
    s = np.arange(round(first / step), math.floor(last / step) + 1, dtype=np.float64) * step
    now, then, change = _line_change(frame, previous, line, s, (-0.2, 0.0, 0.2, *BESIDE_MM))
    changed = _changed_from(change, s, min(back, 0.0), AHEAD_LEVEL)
    if changed is None:
        return None
    level, moved = changed
    if moved.size == 0 or s[moved[0]] > start + MOTION_DETACHED_MM:
        return None
    run = _needle_run(now, then, change, moved, level=level, step=step)
    if run is None:
        return None
    a, b = int(run[0]), int(run[-1]) + 1
    if b >= s.size or (b - 1 - a) * step > BEHIND_RUN_MM:
        return None  # it runs on to the end of the stretch read: not one step of a needle
    bias = AHEAD_BIAS_MM
    if reverb:
        ends = _before_reverberation(frame, previous, line, s, now, then, a, b)
        if ends < b:
            b, bias = ends, AHEAD_REVERB_BIAS_MM
        if b <= a:
            return None
    end = float(s[b - 1]) - bias
    if end < AHEAD_MIN_MM or end < back + BEHIND_MIN_MM:
        return None
    carried = tip + end * direction
    return float(carried[0]), float(carried[1])


REVERB_MM = 0.6
"""How far deeper than a shaft's line (across it) its first reverberation copy lies: one needle diameter,
0.5-0.9 mm for 25 to 20 gauge."""
REVERB_RATIO = 2.0
"""... where the change there is at least this many times the change on the line: along the faint last
steps of a steep needle the speckle changes both about alike (development `steep_deep` 804 lost its carry
with 1.0 and 1.5), while beyond a tip the copy's change was about three times the line's (336)."""
AHEAD_REVERB_BIAS_MM = 0.3
"""How far a changed stretch ended before the reverberation (:func:`_before_reverberation`) is taken to
reach beyond the tip: the change smoothed over 0.5 mm and the tip's echo (in place of
:data:`AHEAD_BIAS_MM`, which includes the reverberation's run beyond a tip)."""


def _before_reverberation(
    frame: Frame,
    previous: Frame,
    line: _Line,
    s: FloatArray,
    now: FloatArray,
    then: FloatArray,
    a: int,
    b: int,
) -> int:
    """The end (exclusive) of the changed stretch ``a:b`` along ``line`` before the first sample where the
    image changed more :data:`REVERB_MM` deeper than on the line: there the shaft's reverberation copy,
    which lies one diameter deeper along the beam, runs on beyond a steep tip (by the diameter times the
    tangent of its angle), not the shaft."""
    deep_now, _ = _profiles(frame, line, s[a:b], (-REVERB_MM,))
    deep_then, _ = _profiles(previous, line, s[a:b], (-REVERB_MM,))
    deep = _smoothed(np.abs(deep_now[0] - deep_then[0]))
    on = _smoothed(np.abs(now[1, a:b] - then[1, a:b]))
    over = np.flatnonzero(deep > REVERB_RATIO * on)
    return a + int(over[0]) if over.size else b


AHEAD_SPAN_FRAMES = 4
"""With ``ahead_span``, a tip that the image change since the frame before does not carry on is checked
again against the report this many reports back (:func:`_change_ahead`): a needle that advances in steps
each below :data:`AHEAD_MIN_MM` changes the image beyond the tip over those frames together."""

REACH_MIN_MM = 2.0
"""A confirmed track is followed over the length reported in the frame before (``follow_reported``) when that
tip lies at least this far beyond the tip of the shaft it tracks, ..."""
REACH_ACROSS_MM = 0.5
"""... and at most this far from its line, once the track has been reported in ..."""
REACH_AFTER_REPORTS = 2
"""... this many frames (development `vessel_doppler` 651: the first report of a track, carried 10 mm beyond
the tip along a bright line, would be followed for 3 frames) ..."""
REACH_LONGER_MM = 1.0
"""... and the shaft so followed is kept when it is at least this much longer than the one tracked ..."""
REACH_BEYOND_MM = 2.0
"""... and ends at most this far beyond the tip reported (a bright tail beyond a steep needle's tip, such as
its reverberations, may go on along its line), ..."""
REACH_ADVANCED_MM = (1.0, 1.5)
"""A shaft followed over the length reported that ends beyond :data:`REACH_BEYOND_MM` is kept when the image
changed on its line since the frame before in a needle's way up to between this far before and this far
beyond its tip (:func:`_advanced_to`; the change runs on beyond an advancing tip by the beam and the
reverberations)."""
REACH_START_MM = 2.0
"""... and starts within this distance of its start (its run was bridged back to the shaft); ..."""
REACH_SEED_MM = 1.5
"""... the run followed is the one through the point this far before the tip reported."""

CARRY_RECENT_FRAMES = 10
"""A tip carried on along the ridge is held back over an unchanged image only when it lies
:data:`MOTION_MIN_MM` beyond each tip reported in this many frames before (``hold_carried``)."""


def _beyond_all(candidate: ShaftCandidate, tips: list[tuple[float, float]]) -> bool:
    """Whether the tip of ``candidate`` lies :data:`MOTION_MIN_MM` or more beyond each of ``tips`` along
    its line (``True`` when there are none)."""
    direction = _tip_direction(candidate)
    tip = np.array([candidate.tip_x_mm, candidate.tip_z_mm])
    return all(float(np.dot(tip - np.asarray(t), direction)) >= MOTION_MIN_MM for t in tips)


def _erfc(x: FloatArray) -> FloatArray:
    """Complementary error function (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7)."""
    z = np.abs(x)
    k = 1.0 / (1.0 + 0.3275911 * z)
    poly = k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))))
    y = poly * np.exp(-z * z)
    return np.asarray(np.where(x >= 0, y, 2.0 - y), dtype=np.float64)


END_OFFSETS_MM = np.arange(-2.0, 1.5 + 1e-9, 0.1)
"""Profile samples used by the end fit, from the half-contrast crossing (mm)."""
END_SHIFTS_MM = np.arange(-0.6, 0.01, 0.05)
"""End positions tried by the fit, from the half-contrast crossing (mm): the fit only moves the tip back."""
END_SIGMAS_MM = (0.15, 0.3, 0.45)
"""Blur widths tried by the end fit (mm): the point-spread function along the shaft."""
END_WIDE_SHIFTS_MM = np.arange(-1.2, 0.01, 0.05)
"""End positions tried by the wider end fit of the reported tip only (mm; detection keeps the narrow one)."""
END_WIDE_SIGMAS_MM = (0.15, 0.3, 0.45, 0.6, 0.8)
"""Blur widths tried by the wider end fit of the reported tip only (mm): a tip smeared by the beam."""

_EndModels = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


def _end_models(shifts: FloatArray = END_SHIFTS_MM, sigmas: tuple[float, ...] = END_SIGMAS_MM) -> _EndModels:
    """Least-squares operators of the end models, one per (blur width, end position), computed once.

    Returns the pseudo-inverse and the transposed basis of the model ``edge + bump + offset`` (shape
    (widths, ends, 3, samples)) and of ``edge + offset`` (shape (widths, ends, 2, samples)), and the end
    positions they were made for.
    """
    x = (END_OFFSETS_MM[None, None, :] - shifts[None, :, None]) / np.asarray(sigmas)[:, None, None]
    edge = 0.5 * _erfc(x / math.sqrt(2.0))
    bump = np.exp(-0.5 * x * x)
    ones = np.ones_like(edge)
    full = np.stack([edge, bump, ones], axis=-2)  # (widths, ends, 3, samples)
    plain = np.stack([edge, ones], axis=-2)
    pinv_full = np.linalg.solve(full @ np.swapaxes(full, -1, -2), full)
    pinv_plain = np.linalg.solve(plain @ np.swapaxes(plain, -1, -2), plain)
    as_float = np.float64
    return (
        np.asarray(pinv_full, as_float),
        np.asarray(full, as_float),
        np.asarray(pinv_plain, as_float),
        np.asarray(plain, as_float),
        np.asarray(shifts, as_float),
    )


_END_MODELS = _end_models()
_END_WIDE_MODELS = _end_models(END_WIDE_SHIFTS_MM, END_WIDE_SIGMAS_MM)


def _fit_end(
    s: FloatArray, profile: FloatArray, s_half: float, step_min: float, *, models: _EndModels | None = None
) -> float | None:
    """Sub-pixel shaft end: a blurred edge plus a blurred bevel echo fitted to the profile near its end.

    The profile along the shaft (resampled at :data:`END_OFFSETS_MM` from the half-contrast crossing
    ``s_half``) is modelled as ``a * edge(s - t) + b * bump(s - t) + c``, ``edge`` a Gaussian-blurred
    step down and ``bump`` a Gaussian of the same width (the bevel echo at the tip), or without the bump,
    for end positions ``t`` up to 0.6 mm before ``s_half`` and a few blur widths; the least-squares best
    ``t`` is returned. The bright bevel echo, blurred by the beam, moves the half-contrast crossing beyond
    the tip (by about 0.3 mm on the development scenes); the fit puts the end at the centre of the edge
    and the bevel. ``None`` when the profile does not cover the window or no fit has a step down of at
    least half ``step_min``. ``models`` (from :func:`_end_models`) replaces the end positions and blur
    widths tried; the reported tip uses the wider :data:`END_WIDE_SHIFTS_MM` and :data:`END_WIDE_SIGMAS_MM`.
    """
    v = _end_window(s, profile, s_half)
    return None if v is None else _fit_window(v, s_half, step_min, models=models)


def _end_window(s: FloatArray, profile: FloatArray, s_half: float) -> FloatArray | None:
    """The profile resampled at :data:`END_OFFSETS_MM` from ``s_half``; ``None`` when it is not covered."""
    if s_half + END_OFFSETS_MM[0] < s[0] or s_half + END_OFFSETS_MM[-1] > s[-1]:
        return None
    return np.interp(s_half + END_OFFSETS_MM, s, profile)


def _fit_window(
    v: FloatArray, s_half: float, step_min: float, *, models: _EndModels | None = None
) -> float | None:
    """The end fit of :func:`_fit_end` on the resampled window ``v`` (from :func:`_end_window`)."""
    if step_min <= 0.0:
        return None
    pinv_full, full, pinv_plain, plain, shifts = _END_MODELS if models is None else models
    vv = float(v @ v)
    coef = pinv_full @ v  # (widths, ends, 3)
    sse_full = vv - np.sum(coef * (full @ v), axis=-1)
    fine_full = (coef[..., 0] >= 0.5 * step_min) & (coef[..., 1] >= 0.0)
    coef2 = pinv_plain @ v
    sse_plain = vv - np.sum(coef2 * (plain @ v), axis=-1)
    fine_plain = coef2[..., 0] >= 0.5 * step_min
    sse = np.minimum(np.where(fine_full, sse_full, np.inf), np.where(fine_plain, sse_plain, np.inf))
    if not np.isfinite(sse).any():
        return None
    return float(s_half + shifts[np.unravel_index(int(np.argmin(sse)), sse.shape)[1]])


@dataclass(frozen=True)
class EndSamples:
    """The profile at a shaft's end, kept so that the wider end fit runs only for the reported tip.

    Attributes
    ----------
    window : FloatArray
        The profile along the shaft resampled at :data:`END_OFFSETS_MM` from ``s_half``.
    s_half, s_end : float
        The half-contrast crossing and the end the narrow fit chose (mm along the fitted line).
    step : float
        The shaft's contrast over the background (grey levels): a fit needs a step down of half of it.
    """

    window: FloatArray = field(repr=False)
    s_half: float
    s_end: float
    step: float

    def wide_back_mm(self) -> float:
        """How far before ``s_end`` the wider end fit puts the end (mm; 0 when it finds none before it)."""
        wide = _fit_window(self.window, self.s_half, self.step, models=_END_WIDE_MODELS)
        return 0.0 if wide is None else max(0.0, self.s_end - wide)


def _follow_bend(frame: Frame, line: _Line, candidate: ShaftCandidate, *, rounds: int = 3) -> ShaftCandidate:
    """Refit the last :data:`DISTAL_MM` of the shaft and search the tip again along that distal line.

    A bent or deflected needle leaves the straight fit of the whole shaft near its tip; the distal refit
    follows it (a band of about 1 mm around the previous line per round). It is called only when the
    distal ridge lies clearly off the straight line (:meth:`_RidgeFit.bent_beyond`), so a straight shaft
    keeps the angle of its whole length. The start, contrast, straightness and angle of the whole shaft
    are kept; the tip, ``distal_angle_deg`` and the samples of the end fit (``end_samples``) come from the
    distal line. Whether the shaft ends in tissue is asked at both ends: ``continuation`` is the larger of
    the straight fit's and the distal line's, so a layer whose bend refit runs on out of the image is not
    taken as ending in tissue where the straight fit stopped, nor a fascia curving on beyond the straight
    fit's end where the refit stopped.
    """
    tip = np.array([candidate.tip_x_mm, candidate.tip_z_mm])
    distal, last = line, None
    for _ in range(rounds):
        s_tip = float(np.dot(tip - distal.point, distal.direction))
        # the bevel echo is wider than the shaft and flattens the ridge in the last millimetre
        extent = (s_tip - DISTAL_MM - TIP_GUARD_MM, s_tip - TIP_GUARD_MM)
        fitted = _fit_ridge(frame, distal, extent)
        if fitted is None:
            break
        refit = fitted.line
        found = _locate_ends(frame, refit, (extent[0], s_tip), fitted.rms, shadow_check=False)
        if found is None or abs(found.angle_deg - candidate.angle_deg) > MAX_BEND_DEG:
            break
        moved = math.hypot(found.tip_x_mm - tip[0], found.tip_z_mm - tip[1])
        if moved > MAX_BEND_TIP_MM:
            break
        distal, tip, last = refit, np.array([found.tip_x_mm, found.tip_z_mm]), found
        if moved < 0.1:
            break
    if last is None:
        return candidate
    return replace(
        candidate,
        tip_x_mm=last.tip_x_mm,
        tip_z_mm=last.tip_z_mm,
        distal_angle_deg=last.angle_deg,
        continuation=max(candidate.continuation, last.continuation),
        end_samples=last.end_samples,
    )


def _past_bend(frame: Frame, candidate: ShaftCandidate) -> ShaftCandidate:
    """``candidate`` with its tip where the shaft goes on beyond the end found, at another angle.

    A needle deflected at a point (or bent more sharply than the distal refit follows) leaves its straight
    line there: the profile along that line falls, and the end found is the bend, not the tip. Beyond the
    end, within :data:`PAST_BEND_AHEAD_MM` and 0.9 mm either side of the line at the tip angle, the ridge
    points as strong as :data:`PAST_BEND_WEIGHT` of the shaft's (its last :data:`PAST_BEND_BACK_MM`) must
    run on from the end for :data:`PAST_BEND_MIN_MM`, lie on a line of their own (RMS at most
    :data:`PAST_BEND_RMS_MM`) turned by at most :data:`MAX_BEND_DEG` from the shaft, and the image along that
    line must stand above its flanks by :data:`PAST_BEND_EXCESS` of what the shaft does (looked for only when
    something bright goes on beyond the end, :data:`PAST_BEND_CONTINUATION`). The tip is then
    the end found along the new line, and ``distal_angle_deg`` that line's angle; otherwise ``candidate``
    is returned as it is.
    """
    if candidate.continuation < PAST_BEND_CONTINUATION:
        return candidate  # nothing bright goes on beyond the end, within 1 mm of the line
    direction = _tip_direction(candidate)
    normal = np.array([-direction[1], direction[0]])
    tip = np.array([candidate.tip_x_mm, candidate.tip_z_mm])
    fitted = _fit_ridge(frame, _Line(tip, direction), (-PAST_BEND_BACK_MM, PAST_BEND_AHEAD_MM))
    if fitted is None:
        return candidate
    if fitted.axis == 0:
        points = np.stack([fitted.along, fitted.across], axis=1)
    else:
        points = np.stack([fitted.across, fitted.along], axis=1)
    s, across, weight = (points - tip) @ direction, (points - tip) @ normal, fitted.weight
    shaft = weight[(s > -PAST_BEND_BACK_MM) & (s < -1.0)]
    if shaft.size < 5:
        return candidate
    strong = weight >= PAST_BEND_WEIGHT * _median(shaft)
    run_end, last = 0.3, math.nan  # the bevel echo's last 0.3 mm belongs to the end found
    for i in np.argsort(s):
        if s[i] <= run_end:
            last = float(across[i])
            continue
        if s[i] - run_end > 0.5 or abs(across[i] - last) > PAST_BEND_STEP_MM:
            break  # a gap, or a jump across: another structure, not the shaft going on
        last = float(across[i])
        if strong[i]:
            run_end = float(s[i])
    if run_end < PAST_BEND_MIN_MM:
        return candidate
    pick = strong & (s > -1.5) & (s <= run_end)
    fit = _robust_fit(s[pick], across[pick], weight[pick]) if np.count_nonzero(pick) >= 8 else None
    if fit is None or fit[2] > PAST_BEND_RMS_MM:
        return candidate
    turn = math.atan(fit[0])
    if abs(math.degrees(turn)) > MAX_BEND_DEG:
        return candidate
    turned = _Line(
        tip + fit[1] * normal,
        _oriented(*(direction * math.cos(turn) + normal * math.sin(turn))),
    )
    before = _excess(frame, _Line(tip, direction), -PAST_BEND_BACK_MM + 1.0, -0.5)
    after = _excess(frame, turned, 0.5, min(run_end, 4.0))
    if not (before > 0.0 and after >= PAST_BEND_EXCESS * before):
        return candidate
    found = _locate_ends(frame, turned, (-1.0, run_end), fit[2], shadow_check=False)
    if found is None or abs(found.angle_deg - candidate.angle_deg) > MAX_BEND_DEG:
        return candidate
    beyond = float(np.dot(np.array([found.tip_x_mm, found.tip_z_mm]) - tip, direction))
    if beyond < PAST_BEND_MIN_MM:
        return candidate
    return replace(
        candidate,
        tip_x_mm=found.tip_x_mm,
        tip_z_mm=found.tip_z_mm,
        distal_angle_deg=found.angle_deg,
        continuation=found.continuation,
        end_samples=found.end_samples,
    )


def _excess(frame: Frame, line: _Line, s_from: float, s_to: float) -> float:
    """How far the image along ``line`` (0.1 mm either side) stands above its flanks (1-1.5 mm either
    side), in grey levels, between arc lengths ``s_from`` and ``s_to``; ``nan`` when not all in the image."""
    values, inside = _profiles(frame, line, np.arange(s_from, s_to, 0.1), STILL_OFFSETS_MM)
    if not inside.all():
        return float("nan")
    return float(values[:3].mean() - values[3:].mean())


def _end_back(frame: Frame, candidate: ShaftCandidate) -> ShaftCandidate:
    """``candidate`` with its tip moved back along the shaft by its ``end_back_mm`` (the wider end fit).

    Only the reported tip moves: a tip smeared by the beam beyond a stopped needle (up to about 1 mm at
    depth) is put back where the wider fit finds the end; the tip stays if it would leave the image, or
    when the wider fit puts the end nowhere behind it. The wider fit runs once, here.
    """
    back = candidate.end_back_mm
    if back <= 0.0:
        return candidate
    direction = _tip_direction(candidate)
    tip = np.array([candidate.tip_x_mm, candidate.tip_z_mm]) - back * direction
    if not _in_image(frame, (float(tip[0]), float(tip[1]))):
        return candidate
    return replace(candidate, tip_x_mm=float(tip[0]), tip_z_mm=float(tip[1]))


APPEAR_DISTAL_MM = 1.5
"""Stretch before the tip where a new track's shaft must have appeared (:meth:`NeedleTracker._appeared`)."""
APPEAR_TIP_MM = 0.3
"""... leaving out this much at the tip (the end fit and the bevel echo)."""
APPEAR_BEHIND_MM = 1.5
"""Shortest first half of the shaft, which must have stayed as it was."""
APPEAR_ENTERING_MM = 2.5
"""Shortest just-entered shaft (:attr:`ShaftCandidate.short`) checked for having appeared."""
APPEAR_BEHIND = 0.25
"""Largest mean absolute change of the shaft behind, as a fraction of the shaft's excess over its flanks."""
RIVAL_CHANGE = 1.5
"""How much more the image on a rival shaft's line must have changed than beside it, since the tracker first
looked for a rival to its track, before the rival takes the track's place
(:meth:`NeedleTracker._rival_taking_over`; as ``still_ratio`` for a new track): a needle that entered since
changed its line; a still structure that was there all along did not."""
STILL_OFFSETS_MM = (-0.1, 0.0, 0.1, -1.5, -1.0, 1.0, 1.5)
"""Offsets across the line (mm) where :meth:`NeedleTracker._moved` compares the image: on it, beside it."""


def _appearance(
    frame: Frame, previous: Frame, candidate: ShaftCandidate, *, shortest_mm: float = 2 * APPEAR_BEHIND_MM
) -> tuple[float, float, float, float, float] | None:
    """How the image changed on ``candidate``'s shaft since ``previous`` (grey levels), or ``None`` when
    the shaft is shorter than ``shortest_mm`` or the frames differ in size: the mean gain on the line over
    the last :data:`APPEAR_DISTAL_MM` before the tip (leaving out :data:`APPEAR_TIP_MM`), the shaft's excess
    over its flanks (1-1.5 mm either side) now, the mean absolute change on the line and beside it over that
    stretch, and the mean absolute change on the line over the shaft's first half (a needle that advanced
    by less than half its visible length leaves it as it was)."""
    length = candidate.length_mm
    if previous.shape != frame.shape or length < shortest_mm:
        return None
    start = np.array([candidate.start_x_mm, candidate.start_z_mm])
    tip = np.array([candidate.tip_x_mm, candidate.tip_z_mm])
    line = _Line(start, (tip - start) / length)
    s = np.arange(0.0, length, 0.1)
    now, _ = _profiles(frame, line, s, STILL_OFFSETS_MM)
    then, _ = _profiles(previous, line, s, STILL_OFFSETS_MM)
    diff = now - then
    excess = float(now[:3].mean() - now[3:].mean())
    distal = (s >= length - APPEAR_TIP_MM - APPEAR_DISTAL_MM) & (s <= length - APPEAR_TIP_MM)
    behind = s <= 0.5 * length
    return (
        float(diff[:3, distal].mean()),
        excess,
        float(np.abs(diff[:3, distal]).mean()),
        float(np.abs(diff[3:, distal]).mean()),
        float(np.abs(diff[:3, behind]).mean()),
    )


def _line_changed(then: Frame | None, now: Frame, shaft: ShaftCandidate, ratio: float) -> bool:
    """Whether the image on ``shaft``'s fitted line (0.1 mm either side) changed from ``then`` to ``now``,
    and by at least ``ratio`` times as much as 1-1.5 mm either side of it (true when it cannot be compared:
    no earlier frame, the same frame, another size, or no length)."""
    length = shaft.length_mm
    if then is None or then is now or then.shape != now.shape or length <= 0:
        return True
    start = np.array([shaft.start_x_mm, shaft.start_z_mm])
    tip = np.array([shaft.tip_x_mm, shaft.tip_z_mm])
    line = _Line(start, (tip - start) / length)
    s = np.arange(0.0, length, 0.1)
    after, _ = _profiles(now, line, s, STILL_OFFSETS_MM)
    before, _ = _profiles(then, line, s, STILL_OFFSETS_MM)
    diff = np.abs(after - before)
    on = float(diff[:3].mean())
    return on > 0 and on >= ratio * float(diff[3:].mean())


LEAP_SAME_MM = 1.0
"""Both ends of a shaft whose tip jumped along the track lie this close on two frames in a row to be taken."""


class NeedleTracker:
    """Temporal needle tracking: confirmation, association, smoothing and an honest "not visible".

    Parameters
    ----------
    detector : NeedleDetector, optional
        Single-frame detector (default parameters when omitted).
    confirm_frames : int
        Consecutive consistent detections needed before a needle is first reported.
    short_mm : float
        A new track whose shaft is shorter than this needs one more confirming detection.
    coast_frames : int
        Missed frames after which the track is dropped and must be confirmed again.
    angle_tolerance_deg : float
        Largest angle change between frames for a detection to continue the track.
    confirm_angle_deg : float
        Largest angle change between the detections that confirm a new track: a straight shaft gives a
        steady angle, curved tissue edges do not.
    smoothing : float
        Weight of the new angle measurement (1 means no smoothing).
    strong_contrast, strong_residual_mm : float
        A new track whose first detection has at least this contrast and at most this RMS distance from a
        straight line is reported at once, without waiting for confirming frames (on the development
        scenes no other structure came near; ``inf`` turns it off).
    reacquire_frames : int
        For this many frames after a confirmed track was dropped (a needle out of the plane for a moment,
        or too faint for a few frames), it is searched first along its line with the relaxed contrast, as
        a confirmed track is, and a shaft found there or a detection consistent with it is reported at
        once, without new confirming frames. 0 turns it off.
    reacquire_after : int
        Only a track reported in at least this many frames is remembered so.
    weak_frames : int
        Consistent detections a new track needs when its shaft meets only the detector's weak rule
        (:meth:`NeedleDetector.weak`); 0 turns the weak rule off.
    ends_mm, ends_below_mm : float
        Two detections of a new track shorter than ``ends_below_mm`` are also consistent when both ends
        lie within ``ends_mm`` of each other: a short shaft measures its angle poorly (a few degrees from
        frame to frame) while its ends stay put.
    search_pending : bool
        While a track is not yet confirmed, its shaft of the frame before is also refined along its
        line (``NeedleDetector(pending=...)``), so that the coarse vote need not propose it again.
    alternatives : bool
        While a track is not yet confirmed, a detection also continues it when it is consistent with
        another fit of the same shaft in the frame before (both ends within 1 mm of the chosen one):
        the coarse lines of a short shaft refine to fits a few degrees apart, and the one ranked first
        (highest contrast) need not be the one the next frame agrees with.
    growth_mm : tuple of float
        While a track is not yet confirmed, a detection also continues it when the shaft has grown along
        its line: its start within ``ends_mm`` of the start before, its tip this far (least, most) beyond
        the tip before and within 0.5 mm of the line before, its angle within ``angle_tolerance_deg``. A
        growing shaft needs no extra confirming detection while shorter than ``short_mm``, and a shaft the
        detector returned only as just entered (:attr:`ShaftCandidate.short`) is confirmed only so (or on its
        first detection, see ``appeared_entering``): tissue does not grow from the side of the image along a
        straight line, an entering needle does.
    confirmed_ends_mm, confirmed_ends_deg : float
        A detection also continues a confirmed track shorter than ``ends_below_mm`` and at least
        ``confirmed_ends_deg`` steep when both its ends lie within ``confirmed_ends_mm`` of the ends before,
        whatever its angle: the fitted angle of a short steep shaft jumps by several degrees from frame to
        frame while its ends stay put (see ``NeedleDetector(follow_ends_mm=...)``); 0 for
        ``confirmed_ends_mm`` turns it off.
    early_tips : bool
        The tip of a detection that does not yet confirm its track is kept as the tip of the frame before
        for the first reported tip's advance check (:func:`_advance_seen`), so that a first tip carried on
        by speckle beyond the needle is drawn back to where the image changed.
    behind : bool
        A reported tip that did not advance is drawn back to where the image changed since the frame
        before when the change ends well before it (:func:`_change_behind`): a new track on an advancing
        needle that took still tissue beyond its tip for the end.
    ridge_above : bool
        Where the report's ridge ends, it is followed again also where it peaks 0.2 mm above the line, and
        the tip is carried on when that ridge goes on for :data:`RIDGE_ABOVE_MM` or more (later rounds of
        the same frame then need not): a long faint shaft whose line the fit at its bright start missed
        by a little.
    hold_behind : bool
        A tip drawn back by :func:`_change_behind`, and the tips placed by the image change after it, are
        held while the image does not change, however far the detected tip lies beyond them (not only up
        to :data:`MOTION_HOLD_MM`): the needle stopped short of the still tissue the detection runs on into.
    appeared_gain, appeared_on_line : float
        The first detection of a new track is reported at once when the needle advanced along its line
        since the frame before (:meth:`_appeared`): over the last :data:`APPEAR_DISTAL_MM` before the tip
        (leaving out :data:`APPEAR_TIP_MM`) the image on the line brightened by at least
        ``appeared_gain`` times the shaft's excess over its flanks (and by :data:`MOTION_LEVEL` grey
        levels) and changed at least ``appeared_on_line`` times as much as 1-1.5 mm either side of it,
        while the first half of the shaft changed by at most :data:`APPEAR_BEHIND` times that excess.
        Still tissue does not change, and where the probe moved the shaft behind and the flanks change
        too. The shaft must meet every rule of a new track without the weak or rough allowances (see
        ``appeared_entering`` for a just-entered one). ``inf`` for ``appeared_gain`` turns it off.
    appeared_entering : bool
        A shaft the detector returned only as just entered (:attr:`ShaftCandidate.short`, 2.5 mm or more:
        :data:`APPEAR_ENTERING_MM`) is also reported on its first detection when it appeared so: its stretch
        before the tip new since the frame before, its first half as it was. Without it such a shaft waits
        until it has grown in the next frame (``growth_mm``), so the first frame of a needle entering from
        the side was always missed; a still edge or speckle chain at the side has not changed.
    still_ratio : float
        A new track that needs confirming frames (not one reported at once) is confirmed only when the
        image on its line changed, since ``still_back`` frames before its first detection, by at least this
        many times as much as 1-1.5 mm either side of it (:meth:`_moved`): an entering or advancing needle
        changes the image along its line, a still structure (a chance speckle line or layer under a still
        probe) does not, and where the probe or the tissue moves, its flanks change as much. Not checked
        when a needle was reported in those frames (a track that went on along another fit of the same
        needle). Asked only of a shaft shorter than ``still_below_mm`` that does not begin at the image
        side it enters from (within the detector's ``entry_edge_mm``): a needle that stands still from
        before its track's first detection (too faint while it moved, held still when tracking starts, or
        after the probe was moved) is not reported until it moves, and such a needle held in place in the
        plane shows a longer shaft or one that begins at the side (development `intravascular_moving` 120:
        a faint 5 mm needle at rest at the side, lost for 19 frames when every short track was asked).
        0 turns it off; 1.5 removed every false needle of the development needle-free cines 128-255, and
        on development needle cines 60-99 of ten families it removed short still lines (a bright skin
        line, a layer) held as the needle for most of a cine while the true one was faint or not yet in
        the plane (`baseline` 63, `steep_deep` 201 and 253, `moving_at_injection` 89 and 211): the fluid
        then lay far from that "needle" and the no-spread warning fired although the pool was seen.
    still_back : int
        See ``still_ratio``.
    still_below_mm : float
        Only a new track whose shaft is shorter than this (and does not begin at the side) is asked to have
        moved (``still_ratio``); the same length below which a short shaft's ends rather than its angle tell
        a track (``ends_below_mm``). ``inf`` asks it of every new track.
    still_side_first : bool
        A short new track that begins at the image side is asked too, and counts as moved when its line
        changed since ``still_back`` frames before its first detection or since the first frame since
        tracking began (or since :meth:`reset`): a needle that came in unseen and stopped at the side
        changed its line since then, a still line at the side there from the start did not (development
        `bent` 893: a 7 mm line of speckle at the right side held as the needle for the whole cine while a
        needle too faint to see entered from the left; the pool at its tip lay 33 mm from that "needle",
        and the cine ended with the warning). A needle held still at the side from the first frame on is
        not reported until it moves; fluid while no needle is reported counts as local, so the warning does
        not suffer.
    hold_still : bool
        A tip reported more than 1 mm short of the tip of the frame before, where the ridge does not hold
        it (:func:`_ridge_holds`) and that tip was placed by the report (carried on along the ridge, kept, or
        moved by the image change; not a bare detection, which may have run on beyond the needle), is kept
        where it was when the image along the stretch between did not
        change (:func:`_unchanged_between`): a needle drawn back changes the image where it was, a faint
        stretch of a still one that the detection and the ridge lose changes nothing.
    hold_carried : bool
        A tip the ridge rounds carry on at least :data:`MOTION_MIN_MM` beyond each tip reported in the last
        :data:`CARRY_RECENT_FRAMES` frames is held back at the tip of the frame before when the image beyond
        that tip did not change (:func:`_advance_seen`, however far the ridge went): the needle did not
        advance into unchanged tissue. A change that begins beyond the earlier tip then keeps the carried tip
        (the needle moved there; the ridge may have caught up with a tip reported short).
    hold_gap : bool
        A tip held where the image stopped changing (:func:`_advance_seen`) stays held over an unchanged
        image however far beyond it the detected shaft ends, while the detected tip stays within
        :data:`HOLD_DETECTED_MM` of where it was in the frame before; without it, a detected tip more than
        :data:`MOTION_HOLD_MM` beyond ends the hold. The shaft detected along a steep needle may run on
        over aligned speckle beyond the tip; the report is held at the tip while the needle advances, and
        the gap opens as the tip it was held at settles where the needle stopped. Ending the hold then
        moved the tip 4-5 mm beyond the needle's, in a frame in which neither the image nor the detection
        changed. A detected tip that moves on in the frame still ends the hold as before (the needle may
        have advanced in a way the image change check missed), unless ``hold_moved`` holds the tip.
    hold_drawn : bool
        A tip held on beyond the detection over a faint stretch (``hold_still``), that had stayed within
        :data:`HOLD_DETECTED_MM` of the same place for :data:`DRAWN_SETTLED_FRAMES` reports, is drawn back
        only as far as the image changed where a needle drawn back would have left (:func:`_drawn_back`):
        to where the changed stretch that ends at the held tip begins, not to the detected tip; a change
        that does not reach the held tip leaves it where it was, and a line that brightened there (a
        needle coming in) keeps the earlier rule. Fluid injected at a still tip changes the image over the
        tip's last millimetre or two; the hold ended and the tip fell back to the detection at the faint
        stretch (``sono simulate --seed 7``: 13 mm short for 8 frames once the pool grew).
    hold_point : bool
        A tip kept where it was reported in the frame before stays at that point, drawn back along this
        frame's line by as much as it is drawn back at all; without it, it is projected onto the line
        through the detected tip at the shaft's angle near that tip, which a short detection may have 2-3°
        off, so that a tip held 10 mm beyond lay 0.5-1 mm beside the needle.
    carried_beyond : bool
        A tip the ridge rounds carry on beyond every recent tip (``hold_carried``) is not held back when a
        needle moved just beyond it (:func:`_needle_beyond`: a change that begins within
        :data:`CARRIED_NEAR_MM` beyond it, up to :data:`CARRIED_BEYOND_MM`, on the line rather than beside
        it): the ridge had carried it short of a needle that advanced over a faint stretch, whose last step
        changed the image only beyond the tip reached. Without it, only the stretch up to 0.5 mm beyond was
        read and the tip was held back at the tip reported before, 9 mm short (``sono simulate --seed 7``,
        frame 22).
    hold_bare : bool
        A tip detected in the frame before (not placed by the report) that this frame's detection falls more
        than 1 mm short of is kept when the image along the line did not change up to 1 mm before it and a
        needle moved just beyond it (:func:`_went_on`): the needle is still there and went on, over a faint
        stretch the detection now stops at; it is then carried on as a tip left behind is (``ahead``).
        Without it the tip fell back to the detection, 3-7 mm short of an advancing 41° needle
        (``sono simulate --seed 7``, frames 20-21).
    hold_bend : bool
        A tip reported in the frame before past a bend or deflection (its shaft's distal part turned from
        the rest) is kept when this frame's detection stops on that distal line, short of it, and the image
        along the stretch between did not change (:meth:`_past_bend_kept`, :data:`BEND_ON_LINE_MM`,
        :data:`MAX_BEND_DEG`): a still needle is still bent there; the detection lost the part beyond the
        bend, which the checks along this frame's straight line cannot see. Only once the tip was seen
        advancing :data:`BEND_ADVANCED_MM` past the bend. Without it the tip of a still deflected needle
        fell back to the bend for the rest of the cine (development `bent` 654: 12-15 mm short for 26
        frames; 619: 18 mm short for the last 4).
    advance_detached : bool
        A change along the line that begins more than :data:`MOTION_DETACHED_MM` beyond the tip reported
        before counts as the needle's advance (:func:`_advance_seen`) when it is a needle coming in: it
        brightened the line, changed it at least :data:`BEHIND_ON_LINE` times as much as 1 mm either side and
        peaks at :data:`BEHIND_PEAK` times :data:`MOTION_LEVEL` (:func:`_needle_run`). A tip held where the
        image stopped changing lags a needle that goes on advancing in steps of about 1 mm a frame (a
        steep needle whose detection had run on beyond it), and each later step begins beyond it; left out as
        fluid or tissue, it held the tip ever further short. Fluid darkens the line, and tissue that moves
        changes it beside the line as well.
    follow_reported : bool
        Follow a confirmed track over the length reported in the frame before when that tip lies
        :data:`REACH_MIN_MM` or more beyond the tracked one (:meth:`_reach`,
        :meth:`NeedleDetector.follow_reached`): the run is seeded near that tip and bridged back to the
        shaft's start, so a faint stretch of a steep shaft no longer ends the track there while the report
        alone carries the tip past it, and loses it once the report is held (development `steep_deep` 637:
        the tip reported 10-12 mm short for 30 frames). The shaft so found is followed so from then on.
    ahead : bool
        A tip that neither advanced nor was kept or drawn back is carried on to where an advancing needle
        changed the image beyond it (:func:`_change_ahead`): the detection and its ridge stopped at a bright
        layer or a faint stretch while the needle went on.
    ahead_span : bool
        With ``ahead``, a tip the image change since the frame before does not carry on is checked again
        against the report :data:`AHEAD_SPAN_FRAMES` reports back, with the same tests: a steep needle that
        advances its last millimetres in steps each below :data:`AHEAD_MIN_MM`, into a deep stretch too faint
        for the detection, changes the image beyond the tip over those frames together; once carried on,
        the tip is kept over the unchanged image that follows (``hold_still``).
    ahead_reverb : bool
        With ``ahead``, the changed stretch ends before the first point where the image changed more
        :data:`REVERB_MM` deeper than on the line (:func:`_before_reverberation`), and the tip is carried to
        that end less :data:`AHEAD_REVERB_BIAS_MM`: a steep shaft's reverberation copy lies one diameter
        deeper along the beam, so it runs on beyond the tip by the diameter times the tangent of the angle
        (1.3 mm for a 0.66 mm needle at 63°), and it moves with the needle. Without it that change carried
        a tip the detection had found where it is on beyond the needle (development `steep_deep` 336: 1.6
        mm, held there for the 14 frames the needle stood still), and a tip left behind 0.6-1 mm beyond the
        needle.
    detached_max_mm : float
        With ``advance_detached``, a change that begins farther than this beyond the tip held before is not
        taken for the next step of a needle the held tip lags (:func:`_advance_seen`; default
        :data:`DETACHED_MAX_MM`): such a needle's steps begin within a step of the held tip. Without the
        bound, a pulsating vessel wall 4 mm beyond a still tip, where the detection had run on to, drew the
        tip there (development `steep_deep` 438: 3-6 mm beyond the needle for 15 frames).
    reach_advanced : bool
        A shaft followed over the length reported in the frame before (``follow_reported``) that ends more
        than :data:`REACH_BEYOND_MM` beyond that tip is kept when the image changed on its line up to its
        tip as a needle coming in changes it (:func:`_advanced_to`): the tip was held while the shaft was
        found short of it, and the needle went on advancing. Without it the tip of a needle advancing 1.7
        mm a frame stayed where the detection had stopped once at a dim stretch (development `steep_deep`
        506: 24.6 mm short for the last 46 frames).
    hold_moved : bool
        A tip the image change placed in the frame before (drawn back to where the image stopped changing,
        or carried on to it) is held over an unchanged image however far beyond it the detection runs on
        now, not only up to :data:`MOTION_HOLD_MM`: the frame before showed where the needle ended, and a
        needle that advanced further would have changed the image. Without it a detection that ran on 6.3 mm
        over aligned speckle beyond a still needle let go of the tip drawn back the frame before
        (development `steep_deep` 502: 5-6 mm beyond the needle for 16 frames).
    leap_mm : float
        Along a confirmed track whose shaft the detector no longer finds (its tip moved by more than
        ``NeedleDetector(max_tip_jump_mm=...)`` since the last detection), a shaft refined along the tracked
        line whose tip lies at most this far from the last one continues the track when the same shaft (both
        ends within :data:`LEAP_SAME_MM`) is found so in the frame before as well (:meth:`_leap_taken`): an
        advancing needle whose tip was measured short and then long lost its track for good, since every
        later frame was compared with the stale tip. 0 turns it off.
    """

    def __init__(
        self,
        *,
        detector: NeedleDetector | None = None,
        confirm_frames: int = 2,
        short_mm: float = 5.0,
        coast_frames: int = 3,
        angle_tolerance_deg: float = 4.0,
        confirm_angle_deg: float = 1.5,
        smoothing: float = 0.6,
        strong_contrast: float = 4.5,
        strong_residual_mm: float = 0.1,
        reacquire_frames: int = 20,
        reacquire_after: int = 5,
        weak_frames: int = 3,
        ends_mm: float = 0.6,
        ends_below_mm: float = 10.0,
        search_pending: bool = True,
        alternatives: bool = True,
        growth_mm: tuple[float, float] = (0.3, 3.0),
        early_tips: bool = True,
        confirmed_ends_mm: float = 0.8,
        confirmed_ends_deg: float = 35.0,
        behind: bool = True,
        ridge_above: bool = True,
        hold_behind: bool = True,
        appeared_gain: float = 0.4,
        appeared_on_line: float = 2.5,
        hold_still: bool = True,
        hold_carried: bool = True,
        hold_gap: bool = True,
        hold_drawn: bool = True,
        hold_point: bool = True,
        carried_beyond: bool = True,
        hold_bare: bool = True,
        hold_bend: bool = True,
        advance_detached: bool = True,
        follow_reported: bool = True,
        ahead: bool = True,
        ahead_span: bool = True,
        ahead_reverb: bool = True,
        detached_max_mm: float = DETACHED_MAX_MM,
        reach_advanced: bool = True,
        hold_moved: bool = True,
        appeared_entering: bool = True,
        still_ratio: float = 1.5,
        still_back: int = 5,
        still_side_first: bool = True,
        still_below_mm: float = 10.0,
        rival_every: int = 5,
        rival_below_mm: float = 10.0,
        rival_ratio: float = 2.0,
        rival_crossing_mm: float = 15.0,
        leap_mm: float = 8.0,
    ) -> None:
        self.detector = detector if detector is not None else NeedleDetector()
        self.leap_mm = leap_mm
        self._leap: ShaftCandidate | None = None  # the shaft along the track whose tip jumped, last frame
        self.rival_every = rival_every
        self.rival_below_mm = rival_below_mm
        self.rival_ratio = rival_ratio
        self.rival_crossing_mm = rival_crossing_mm
        self._rival: ShaftCandidate | None = None  # a stronger shaft elsewhere, seen while checking
        self._rival_streak = 0  # frames in a row it was seen
        self._rival_age = 0  # frames since the last whole-frame look
        self._rival_since: Frame | None = None  # the frame of the track's first look for a rival
        self.confirm_frames = confirm_frames
        self.short_mm = short_mm
        self.coast_frames = coast_frames
        self.angle_tolerance_deg = angle_tolerance_deg
        self.confirm_angle_deg = confirm_angle_deg
        self.smoothing = smoothing
        self.strong_contrast = strong_contrast
        self.strong_residual_mm = strong_residual_mm
        self.reacquire_frames = reacquire_frames
        self.reacquire_after = reacquire_after
        self._reported = 0
        self.weak_frames = weak_frames
        self.ends_mm = ends_mm
        self.ends_below_mm = ends_below_mm
        self.search_pending = search_pending
        self.alternatives = alternatives
        self.growth_mm = growth_mm
        self.early_tips = early_tips
        self.confirmed_ends_mm = confirmed_ends_mm
        self.confirmed_ends_deg = confirmed_ends_deg
        self.behind = behind
        self.ridge_above = ridge_above
        self.hold_behind = hold_behind
        self.appeared_gain = appeared_gain
        self.appeared_on_line = appeared_on_line
        self.appeared_entering = appeared_entering
        self.still_ratio = still_ratio
        self.still_back = still_back
        self.still_below_mm = still_below_mm
        self.still_side_first = still_side_first
        self._frames: list[Frame] = []  # the last frames, for ``still_ratio``
        self._first: Frame | None = None  # the first frame since tracking began, for ``still_side_first``
        self._origin: Frame | None = None  # the frame still_back before the new track's first detection
        self._since_shown = 1 << 30  # frames since a needle was last reported
        self._previous: Frame | None = None  # the frame before (any), for :meth:`_appeared`
        self.hold_still = hold_still
        self.hold_carried = hold_carried
        self.hold_gap = hold_gap
        self.hold_drawn = hold_drawn
        self.hold_point = hold_point
        self.carried_beyond = carried_beyond
        self.hold_bare = hold_bare
        self.hold_bend = hold_bend
        self._bend_direction: FloatArray | None = None  # at the tip reported before, when past a bend
        self._bend_advanced_mm = 0.0  # how far the tip advanced since first reported past that bend
        self.advance_detached = advance_detached
        self.follow_reported = follow_reported
        self.ahead = ahead
        self.ahead_span = ahead_span
        self.ahead_reverb = ahead_reverb
        self.detached_max_mm = detached_max_mm
        self.reach_advanced = reach_advanced
        self.hold_moved = hold_moved
        self._fits: list[ShaftCandidate] = []  # the other fits of the unconfirmed track's shaft
        self._recent: list[tuple[float, float]] = []  # the tips reported in the last frames of the track
        self._span: list[tuple[Frame, tuple[float, float]]] = []  # frames and tips of the last reports
        self._lost: ShaftCandidate | None = None
        self._lost_age = 0
        self._last: ShaftCandidate | None = None
        self._angle = float("nan")
        self._streak = 0
        self._misses = 0
        self._confirmed = False
        self._shown_tip: tuple[float, float] | None = None  # the tip reported in the frame before
        self._shown_frame: Frame | None = None  # ... and that frame
        self._shown_moved = False  # ... and whether that tip was placed by the image change (_advance_seen)
        self._shown_far = False  # ... by :func:`_change_behind`, or held since (see ``hold_behind``)
        self._shown_placed = False  # ... and whether the report moved it from the detected tip
        self._detected_tip: tuple[float, float] | None = None  # the tip detected in the frame before

    @property
    def confirmed(self) -> bool:
        """Whether a confirmed track is held: the next frame is searched along it, and over the whole image
        only when the shaft is not found there or, while the tracked shaft is short, now and then for a
        rival (:meth:`_rival_taking_over`). A frame without one is searched whole (unless a track lost a
        moment ago is found again along its line), which costs several times as much
        (docs/performance.md)."""
        return self._confirmed

    def reset(self) -> None:
        """Forget the track (for example after the probe was moved to another view)."""
        self._forget_track()
        self._first = None

    def _forget_track(self) -> None:
        """Forget the track; tracking goes on (the first frame stays, for ``still_side_first``)."""
        self._last, self._angle, self._streak, self._misses, self._confirmed = None, float("nan"), 0, 0, False
        self._shown_tip, self._shown_frame, self._shown_moved, self._shown_far = None, None, False, False
        self._detected_tip = None
        self._span = []
        self._bend_direction, self._bend_advanced_mm = None, 0.0
        self._lost, self._lost_age, self._reported = None, 0, 0
        self._fits = []
        self._origin = None
        self._forget_rival()
        self._leap = None

    def _forget_rival(self) -> None:
        """Start the look for a rival to the track afresh (:meth:`_rival_taking_over`)."""
        self._rival, self._rival_streak, self._rival_age, self._rival_since = None, 0, 0, None

    def _drop(self) -> None:
        """Drop the track after too many misses; a confirmed one is remembered for re-acquisition."""
        if self._confirmed:
            lost, age = (self._last, 0) if self._reported >= self.reacquire_after else (None, 0)
        else:
            lost, age = self._lost, self._lost_age
        self._forget_track()
        self._lost, self._lost_age = lost, age

    def __call__(self, frame: Frame, *, work: NDArray[np.uint8] | None = None) -> NeedleObservation:
        """Track the needle in the next frame.

        Parameters
        ----------
        frame : Frame
            The next frame of the cine.
        work : ndarray, optional
            The frame already downsampled by :meth:`NeedleDetector.working`.

        Returns
        -------
        NeedleObservation
            Tip, angle, length and confidence, or ``visible=False``.
        """
        previous, self._previous = self._previous, frame
        if self._first is None:
            self._first = frame
        self._since_shown += 1
        if self.still_ratio > 0:
            self._frames = [*self._frames[-self.still_back :], frame]
        if self._lost is not None:
            self._lost_age += 1
            if self._confirmed or self._lost_age > self.reacquire_frames:
                self._lost, self._lost_age = None, 0
        prior = self._last if self._confirmed else None
        chosen = None
        if prior is None and self._lost is not None:
            chosen = self.detector.follow(frame, self._lost)
            if chosen is not None:  # found again along the track lost a moment ago
                self._last, self._confirmed, self._streak = self._lost, True, 1
        found: list[ShaftCandidate] = []
        if chosen is None:
            pending = self._last if self.search_pending and not self._confirmed else None
            found = self.detector(
                frame,
                work=work,
                prior=prior,
                weak=self.weak_frames > 0,
                pending=pending,
                reach=self._reach(prior),
                previous=previous if self.reach_advanced else None,
            )
            chosen = self._associate(found)
            rival = None if prior is None or chosen is None else self._rival_taking_over(frame, work, chosen)
            if rival is not None:
                self._forget_track()  # the short track was not the needle: not remembered for re-acquisition
                chosen, found = rival, [rival]
            if chosen is None and prior is not None:
                chosen = self._leap_taken(frame, prior)
                found = [] if chosen is None else [chosen]
            else:
                self._leap = None
        if chosen is None:
            self._misses += 1
            self._streak = 0
            if self._misses > self.coast_frames:
                self._drop()
            return NeedleObservation(False)
        if (
            not self._confirmed
            and self._lost is not None
            and self._consistent(chosen, self._lost, tolerance=self.angle_tolerance_deg)
        ):
            self._last, self._confirmed = self._lost, True  # the lost track, found by the full search
        consistent = self._continues(chosen)
        growing = consistent and self._grown(chosen)
        if not consistent and self._last is not None:
            self._confirmed, self._reported = False, 0  # another line: it must be confirmed as a new track
        self._streak = self._streak + 1 if consistent or self._last is None else 1
        if self._streak == 1:  # a new track: checked only when no needle was reported in the last frames
            quiet = self._since_shown > self.still_back
            self._origin = self._frames[0] if self._frames and quiet else None
        self._misses = 0
        if consistent and math.isfinite(self._angle):
            self._angle += self.smoothing * (chosen.tip_angle_deg - self._angle)
        else:
            self._angle = chosen.tip_angle_deg
        self._last = chosen
        self._fits = (
            [c for c in found if c is not chosen and _same_shaft(c, chosen)] if self.alternatives else []
        )
        needed = self._needed(chosen, growing)
        first = self._streak == 1 or chosen.deep  # a shaft returned for its depth: in any frame
        if not self._confirmed and first and self._appeared(frame, previous, chosen):
            needed = 1  # the shaft grew along its line since the frame before, its shaft behind still
        rough = chosen.rough and all(c.rough or c.weak for c in self._fits)  # no straighter fit of it
        if not self._confirmed and (chosen.weak or rough):
            needed = max(needed, self.weak_frames)
        confirm = self._streak >= needed
        if confirm and not self._confirmed and needed > 1 and not self._moved(frame, chosen):
            confirm = False  # its line looks as it did before the track was first seen: a still structure
        self._confirmed = self._confirmed or confirm
        if not self._confirmed:
            if self.early_tips:
                self._remember_tip(frame, chosen)
            return NeedleObservation(False)
        self._reported += 1
        self._since_shown = 0
        shown = self._report(frame, chosen, consistent)
        return NeedleObservation(
            True,
            shown.tip_x_mm,
            shown.tip_z_mm,
            self._angle,
            shown.length_mm,
            self._confidence(chosen),
            chosen.start_x_mm,
            chosen.start_z_mm,
        )

    def _reach(self, prior: ShaftCandidate | None) -> ShaftCandidate | None:
        """``prior`` with its tip moved to the tip reported in the frame before, when that lies
        :data:`REACH_MIN_MM` or more beyond it along its line and within :data:`REACH_ACROSS_MM` of that line
        (``follow_reported``); else ``None``. The report carries the tip on along the ridge past a faint
        stretch of a steep shaft where the half-contrast run along it stops: followed over the whole length
        reported, the run is seeded beyond that stretch and bridged back over it to the shaft's start."""
        if not self.follow_reported or prior is None or self._shown_tip is None:
            return None
        if self._reported < REACH_AFTER_REPORTS:  # a track's first report may be carried too far
            return None
        line = _shaft_line(prior)
        start, direction = line.point, line.direction
        offset = np.asarray(self._shown_tip) - start
        along = float(np.dot(offset, direction))
        across = abs(float(offset[0] * direction[1] - offset[1] * direction[0]))
        if along < prior.length_mm + REACH_MIN_MM or across > REACH_ACROSS_MM:
            return None
        tip = start + along * direction
        return replace(prior, tip_x_mm=float(tip[0]), tip_z_mm=float(tip[1]))

    def _rival_taking_over(
        self, frame: Frame, work: NDArray[np.uint8] | None, tracked: ShaftCandidate
    ) -> ShaftCandidate | None:
        """A shaft elsewhere, much stronger than the confirmed track's short one, that takes its place (else
        ``None``).

        A confirmed track is searched along its own line only, so a short false track (a stretch of a
        fascia or of the skin line at the image side) would hold while a needle enters elsewhere. While
        the tracked shaft is shorter than ``rival_below_mm``, every ``rival_every`` frames (and on every
        frame while a rival is seen) the whole frame is searched as for a new track. A shaft wins that does
        not continue the track, is at least ``rival_ratio`` times as long and as strong
        (:attr:`ShaftCandidate.strength`), is seen with a consistent angle over ``confirm_frames`` frames
        in a row, and on whose line the image changed since the track's first look for a rival by
        :data:`RIVAL_CHANGE` times as much as beside it (a needle that entered since; a still structure,
        however strong, did not change). 0 for ``rival_every`` turns this off. While the tracked shaft is
        shorter than ``rival_crossing_mm`` (when that is longer than ``rival_below_mm``), a shaft that crosses
        it (:func:`_crossing`), at least ``rival_ratio`` times as long and at least as strong, wins too under
        the same tests: the two cannot both be the needle (``sono simulate --seed 47``: a 10 mm line of
        speckle crossing a faint needle where it entered held the track for the whole cine)."""
        below = max(self.rival_below_mm, self.rival_crossing_mm)
        if self.rival_every <= 0 or tracked.length_mm >= below:
            self._forget_rival()
            return None
        self._rival_age += 1
        if self._rival_since is None:
            self._rival_since = frame  # the image the rival's line is compared with
        if self._rival is None and self._rival_age < self.rival_every:
            return None
        self._rival_age = 0
        best = next(
            (
                c
                for c in self.detector(frame, work=work)
                if not (c.deep or c.short or c.weak or c.rough)
                and not self._consistent(c, tracked, tolerance=self.angle_tolerance_deg)
                and c.length_mm >= self.rival_ratio * tracked.length_mm
                and (
                    (
                        tracked.length_mm < self.rival_below_mm
                        and c.strength >= self.rival_ratio * tracked.strength
                    )
                    or (c.strength >= tracked.strength and _crossing(c, tracked))
                )
            ),
            None,
        )
        if best is None:
            self._rival, self._rival_streak = None, 0
            return None
        before = self._rival
        same = before is not None and self._consistent(best, before, tolerance=self.confirm_angle_deg)
        self._rival_streak = self._rival_streak + 1 if same else 1
        self._rival = best
        wins = self._rival_streak >= self.confirm_frames
        return best if wins and _line_changed(self._rival_since, frame, best, RIVAL_CHANGE) else None

    def _leap_taken(self, frame: Frame, prior: ShaftCandidate) -> ShaftCandidate | None:
        """The tracked shaft found along its line with its tip moved further than a frame's jump allows, when
        it was found so, with both ends within :data:`LEAP_SAME_MM`, in the frame before too (see
        ``leap_mm``; else ``None``)."""
        if self.leap_mm <= 0:
            return None
        leap = self.detector.follow(frame, prior, max_jump_mm=self.leap_mm)
        before, self._leap = self._leap, leap
        if leap is None or before is None or not _same_shaft(leap, before, tol_mm=LEAP_SAME_MM):
            return None
        self._leap = None
        return leap

    def _needed(self, chosen: ShaftCandidate, growing: bool) -> float:
        """Consecutive consistent detections that confirm a new track with ``chosen``: one when its shaft is
        strong (``strong_contrast``), else ``confirm_frames``, one more while its shaft is shorter than
        ``short_mm`` and has not grown; none suffice for a just-entered shaft that has not grown since the
        frame before (:attr:`ShaftCandidate.short`), nor for one returned for its depth at the image side
        (:attr:`ShaftCandidate.deep`): only a frame in which it appeared confirms it (:meth:`_appeared`)."""
        if chosen.deep:
            return math.inf
        if chosen.short:
            return self.confirm_frames if growing else math.inf
        if chosen.contrast >= self.strong_contrast and chosen.residual_mm <= self.strong_residual_mm:
            return 1
        return self.confirm_frames + (chosen.length_mm < self.short_mm and not growing)

    def _appeared(self, frame: Frame, previous: Frame | None, chosen: ShaftCandidate) -> bool:
        """Whether the first detection of a new track shows a needle advancing along its line since the
        frame before (see ``appeared_gain``)."""
        if (
            not math.isfinite(self.appeared_gain)
            or previous is None
            or (chosen.short and not self.appeared_entering)
            or chosen.weak
            or chosen.rough
        ):
            return False
        shortest = APPEAR_ENTERING_MM if chosen.short else 2 * APPEAR_BEHIND_MM
        change = _appearance(frame, previous, chosen, shortest_mm=shortest)
        if change is None:
            return False
        gain, excess, on_line, beside, still = change
        return (
            excess > 0
            and gain >= self.appeared_gain * excess
            and gain >= MOTION_LEVEL
            and on_line >= self.appeared_on_line * beside
            and still <= APPEAR_BEHIND * excess
        )

    def _moved(self, frame: Frame, chosen: ShaftCandidate) -> bool:
        """Whether the image on ``chosen``'s line changed since ``still_back`` frames before the track's
        first detection by at least ``still_ratio`` times as much as 1-1.5 mm either side of it, or, for a
        shaft that begins at the image side, since the first frame since tracking began (true when not
        checked, see ``still_ratio``, ``still_below_mm`` and ``still_side_first``)."""
        if self.still_ratio <= 0 or chosen.length_mm >= self.still_below_mm:
            return True
        at_side = _from_side_mm(chosen, frame) <= self.detector.entry_edge_mm
        if at_side and not self.still_side_first:
            return True
        if _line_changed(self._origin, frame, chosen, self.still_ratio):
            return True
        # at the side: also a needle that came in since the first frame (not asked when one was just shown)
        first = self._first if self._origin is not None else None
        return at_side and _line_changed(first, frame, chosen, self.still_ratio)

    def _grown(self, new: ShaftCandidate) -> bool:
        """Whether ``new`` is the unconfirmed track's shaft (or another fit of it) grown along its line."""
        if self._confirmed or self._last is None:
            return False
        return any(self._grows(new, old) for old in [self._last, *self._fits])

    def _grows(self, new: ShaftCandidate, old: ShaftCandidate) -> bool:
        """Whether ``new`` is ``old`` grown along its line (see ``growth_mm``)."""
        if abs(new.angle_deg - old.angle_deg) > self.angle_tolerance_deg:
            return False
        if math.hypot(new.start_x_mm - old.start_x_mm, new.start_z_mm - old.start_z_mm) > self.ends_mm:
            return False
        theta = math.radians(old.angle_deg)
        direction = _oriented(math.cos(theta), math.sin(theta))
        step = np.array([new.tip_x_mm - old.tip_x_mm, new.tip_z_mm - old.tip_z_mm])
        along = float(np.dot(step, direction))
        across = abs(float(step[0] * direction[1] - step[1] * direction[0]))
        return self.growth_mm[0] <= along <= self.growth_mm[1] and across <= 0.5

    def _report(self, frame: Frame, chosen: ShaftCandidate, consistent: bool) -> ShaftCandidate:
        """The shaft as reported: the detected shaft with its tip placed in four steps.

        Only the report moves; the track keeps the detected shaft, so that association, the tip-jump
        test along the tracked line and confirmation work on the same shaft from frame to frame.

        1. :meth:`_ridge_carried`: the tip carried on where the shaft's ridge goes on, or else its end
           fitted back (:func:`_end_back`).
        2. :meth:`_kept_tip`: a tip reported further on in the frame before is kept where the needle
           cannot have gone back; failing that, one past a bend (:meth:`_past_bend_kept`).
        3. :meth:`_placed_by_change`: the tip placed where the image changed between the two frames.
        4. :meth:`_remember_report`: what the next frame's report needs of this one.

        Steps 2 and 3 run only on a track that continues, 3 only once a frame was reported before and not
        on a tip kept past a bend (it lies off this frame's line).
        """
        shown, ridge = self._ridge_carried(frame, chosen)
        before = self._shown_tip if consistent else None
        if not consistent:
            self._recent.clear()
            self._span.clear()
        # the ridge rounds carried the tip on beyond every tip of the last frames
        carried = self.hold_carried and ridge and _beyond_all(shown, self._recent)
        if not ridge:
            shown = _end_back(frame, chosen)
        moved, held, kept, bent = None, False, False, False
        previous = self._shown_frame
        if before is not None:
            point, went_on = self._kept_tip(frame, previous, chosen, shown, before)
            bent = point is None and self._past_bend_kept(frame, previous, shown, before)
            point = before if bent else point
            if point is not None:
                shown, kept = replace(chosen, tip_x_mm=point[0], tip_z_mm=point[1]), True
            if previous is not None and not bent:  # (along this frame's line, which the kept tip is off)
                moved, held = self._placed_by_change(
                    frame, previous, chosen, shown, before, carried=carried, ahead=went_on or not kept
                )
        if moved is not None:
            shown = replace(shown, tip_x_mm=moved[0], tip_z_mm=moved[1])
        self._remember_report(
            frame,
            chosen,
            shown,
            placed=ridge or kept or moved is not None,
            held=held,
            moved=moved is not None,
            bent=bent,
        )
        return shown

    def _ridge_carried(self, frame: Frame, chosen: ShaftCandidate) -> tuple[ShaftCandidate, bool]:
        """``chosen`` with its tip carried on where its ridge goes on (:func:`_ridge_tip`, up to
        :data:`RIDGE_ROUNDS` rounds), and whether a round moved it. Where no ridge goes on, a long one
        0.2 mm above the line still carries the tip (``ridge_above``)."""
        shown = chosen
        above = False  # a round followed the ridge also 0.2 mm above the line (far enough)
        for _ in range(RIDGE_ROUNDS):
            tip = _ridge_tip(frame, shown)
            if tip is None and self.ridge_above:
                tip = _ridge_tip(frame, shown, above=True)
                far = tip is not None and math.dist(tip, (shown.tip_x_mm, shown.tip_z_mm)) >= RIDGE_ABOVE_MM
                tip = tip if above or far else None
                above = above or tip is not None
            if tip is None or not _in_image(frame, tip):
                break
            shown = replace(shown, tip_x_mm=tip[0], tip_z_mm=tip[1])
        return shown, shown is not chosen

    def _kept_tip(
        self,
        frame: Frame,
        previous: Frame | None,
        chosen: ShaftCandidate,
        shown: ShaftCandidate,
        before: tuple[float, float],
    ) -> tuple[tuple[float, float] | None, bool]:
        """Where the tip reported in the frame before (``before``) is kept, when it lies more than 1 mm
        further on along the line than ``shown``; else ``None``. Also whether the needle went on from
        it (``hold_bare``), so that the image change may still carry it on.

        It is kept while the ridge is still there (:func:`_ridge_holds`, checked from the detected tip
        and, failing that, from the tip carried to in this frame over the stretch left: a faint deep
        shaft, whose ridge the rounds of :func:`_ridge_tip` follow past breaks, may stop one round short;
        its own faint contrast is then the reference, not that of the bright shaft far behind): the
        needle does not jump back, a faint stretch of it fades. A tip the report had placed is kept over
        a stretch where the image did not change (``hold_still``); one that had stayed put is drawn back
        only as far as the image changed where the needle would have left (``hold_drawn``). A detected
        tip the needle went on from is kept (``hold_bare``). With ``hold_point`` the kept tip stays at its
        own point rather than at its projection onto this frame's line (which may pass beside it).
        """
        direction = _tip_direction(chosen)
        detected = np.array([chosen.tip_x_mm, chosen.tip_z_mm])
        reach = float(np.dot(np.asarray(before) - detected, direction))
        now = float(np.dot(np.array([shown.tip_x_mm, shown.tip_z_mm]) - detected, direction))
        if not reach > now + 1.0:
            return None, False
        keep = None  # how far along the line from the detected tip the tip reported before is kept
        went_on = False
        if _ridge_holds(frame, chosen, reach) or _ridge_holds(frame, shown, reach - now):
            keep = reach
        elif self.hold_still and self._shown_placed and previous is not None:
            if self.hold_drawn and self._settled(before):
                still = _drawn_back(frame, previous, shown, reach - now)
                keep = None if still is None else now + still
            elif _unchanged_between(frame, previous, shown, reach - now):
                keep = reach
        elif (
            self.hold_bare and previous is not None and _went_on(frame, previous, shown, reach - now, before)
        ):
            keep, went_on = reach, True
        if keep is None:
            return None, False
        if self.hold_point:
            point = np.asarray(before) + (keep - reach) * direction
        else:
            point = detected + keep * direction
        return (float(point[0]), float(point[1])), went_on

    def _past_bend_kept(
        self, frame: Frame, previous: Frame | None, shown: ShaftCandidate, before: tuple[float, float]
    ) -> bool:
        """Whether the tip reported before, past a bend, is kept (``hold_bend``): ``shown`` ends on the
        distal line of that report (``_bend_direction``, within :data:`BEND_ON_LINE_MM` of it and turned by
        at most :data:`MAX_BEND_DEG` from it) more than 1 mm short of the tip, and the image along the
        stretch between did not change since ``previous`` (:func:`_unchanged_between`)."""
        if not self.hold_bend or previous is None or self._bend_direction is None:
            return False
        if self._bend_advanced_mm < BEND_ADVANCED_MM:
            return False  # not seen advancing past the bend: the part beyond may be a run on over speckle
        gap = np.asarray(before) - np.array([shown.tip_x_mm, shown.tip_z_mm])
        reach = float(np.dot(gap, self._bend_direction))
        across = abs(float(gap[0] * self._bend_direction[1] - gap[1] * self._bend_direction[0]))
        distal = _angle_deg(self._bend_direction)
        if reach <= 1.0 or across > BEND_ON_LINE_MM or abs(distal - shown.tip_angle_deg) > MAX_BEND_DEG:
            return False
        return _unchanged_between(frame, previous, replace(shown, distal_angle_deg=distal), reach)

    def _placed_by_change(
        self,
        frame: Frame,
        previous: Frame,
        chosen: ShaftCandidate,
        shown: ShaftCandidate,
        before: tuple[float, float],
        *,
        carried: bool,
        ahead: bool,
    ) -> tuple[tuple[float, float] | None, bool]:
        """Where the image change between ``previous`` and ``frame`` places the tip (``None``: it does
        not), and whether the tip is held so (``hold_behind``).

        A tip reported further on than in the frame before is held to where the image changed between
        the two (:func:`_advance_seen`): tissue beyond an advancing tip stays as it was. A tip that was
        itself held so is checked from a step of :data:`MOTION_HELD_MIN_MM` on (not
        :data:`MOTION_MIN_MM`), so that the wider end fit moving a still needle's tip by less than 1 mm
        does not end the hold. One the ridge carried on beyond every recent tip (``carried``) over an
        unchanged image is held back (``hold_carried``), unless a needle moved just beyond it
        (``carried_beyond``). A tip held over an unchanged image stays held however far beyond it the
        detected tip lies, while that stays where it was in the frame before (``hold_gap``). A tip that
        did not advance is drawn back where the image changed well before it (:func:`_change_behind`,
        ``behind``) and held so (``hold_behind``); one left behind by an advancing needle (``ahead``,
        when the tip was not kept or the needle went on from it) is carried on to where the image changed
        beyond it (:func:`_change_ahead`; also since the report :data:`AHEAD_SPAN_FRAMES` reports back,
        ``ahead_span``).
        """
        least = MOTION_HELD_MIN_MM if self._shown_moved else MOTION_MIN_MM
        gap_kept = (  # the detected tip stayed where it was: the gap to the held tip did not open now
            self.hold_gap
            and self._detected_tip is not None
            and math.dist(self._detected_tip, (chosen.tip_x_mm, chosen.tip_z_mm)) < HOLD_DETECTED_MM
        )
        far = self._shown_far or carried or gap_kept or (self.hold_moved and self._shown_moved)
        undone = math.inf if far else MOTION_HOLD_MM
        moved = _advance_seen(
            frame,
            previous,
            shown,
            before,
            hold=self._shown_moved or carried,
            least_mm=least,
            hold_mm=undone,
            carried=carried,
            needle_detached=self.advance_detached,
            detached_max_mm=self.detached_max_mm,
            needle_beyond=self.carried_beyond,
        )
        held = self._shown_far and moved is not None
        if moved is None and self.behind:
            moved = _change_behind(frame, previous, shown)
            held = moved is not None
        if moved is None and self.ahead and ahead:
            moved = _change_ahead(frame, previous, shown, before, reverb=self.ahead_reverb)
            if moved is None and self.ahead_span and len(self._span) >= AHEAD_SPAN_FRAMES:
                older, older_tip = self._span[-AHEAD_SPAN_FRAMES]  # steps too small one by one
                moved = _change_ahead(frame, older, shown, older_tip, reverb=self.ahead_reverb)
        return moved, held

    def _remember_report(
        self,
        frame: Frame,
        chosen: ShaftCandidate,
        shown: ShaftCandidate,
        *,
        placed: bool,
        moved: bool,
        held: bool,
        bent: bool = False,
    ) -> None:
        """Keep what the next frame's report needs: the tip reported and its frame, the tip detected, the
        last reports' tips, and how the tip was placed (``placed``: moved from the detected tip at all;
        ``moved``: by the image change; ``held``: held by :func:`_change_behind` or since; ``bent``: kept past
        a bend, whose distal direction then stays)."""
        if math.isfinite(chosen.distal_angle_deg):
            direction = _tip_direction(chosen)
            if self._bend_direction is None or self._shown_tip is None:
                self._bend_advanced_mm = 0.0  # first seen past a bend
            else:  # how far the tip went on past the bend, report by report
                step = np.array([shown.tip_x_mm, shown.tip_z_mm]) - np.asarray(self._shown_tip)
                self._bend_advanced_mm += max(0.0, float(np.dot(step, direction)))
            self._bend_direction = direction
        elif not bent:
            self._bend_direction = None
        self._shown_tip, self._shown_frame = (shown.tip_x_mm, shown.tip_z_mm), frame
        self._detected_tip = (chosen.tip_x_mm, chosen.tip_z_mm)
        self._recent = [*self._recent[1 - CARRY_RECENT_FRAMES :], self._shown_tip]
        if self.ahead_span:
            self._span = [*self._span[1 - AHEAD_SPAN_FRAMES :], (frame, self._shown_tip)]
        self._shown_moved = moved
        self._shown_far = self.hold_behind and held
        self._shown_placed = placed

    def _settled(self, tip: tuple[float, float]) -> bool:
        """Whether ``tip`` was reported within :data:`HOLD_DETECTED_MM` of the same place in the last
        :data:`DRAWN_SETTLED_FRAMES` reports (``hold_drawn``): held so, not one a rule had just moved."""
        recent = self._recent[-DRAWN_SETTLED_FRAMES:]
        return len(recent) == DRAWN_SETTLED_FRAMES and all(
            math.dist(t, tip) < HOLD_DETECTED_MM for t in recent
        )

    def _remember_tip(self, frame: Frame, chosen: ShaftCandidate) -> None:
        """Keep the tip of a detection that does not yet confirm its track, so that the first tip reported
        is checked against the image change since it (:func:`_advance_seen`) like every later one."""
        self._shown_tip, self._shown_frame, self._shown_moved = (
            (chosen.tip_x_mm, chosen.tip_z_mm),
            frame,
            False,
        )
        self._detected_tip = self._shown_tip
        self._shown_far = self._shown_placed = False

    def _consistent(
        self, new: ShaftCandidate, old: ShaftCandidate, *, tolerance: float | None = None
    ) -> bool:
        if tolerance is None:
            tolerance = self.angle_tolerance_deg if self._confirmed else self.confirm_angle_deg
            if (
                self._confirmed
                and self.confirmed_ends_mm > 0
                and max(new.length_mm, old.length_mm) < self.ends_below_mm
                and min(abs(new.angle_deg), abs(old.angle_deg)) >= self.confirmed_ends_deg
                and _same_shaft(new, old, tol_mm=self.confirmed_ends_mm)
            ):
                return True  # the same short shaft by its ends, however much its fitted angle jumped
            if not self._confirmed and max(new.length_mm, old.length_mm) < self.ends_below_mm:
                start = math.hypot(new.start_x_mm - old.start_x_mm, new.start_z_mm - old.start_z_mm)
                tip = math.hypot(new.tip_x_mm - old.tip_x_mm, new.tip_z_mm - old.tip_z_mm)
                if max(start, tip) <= self.ends_mm or self._grows(new, old):
                    return True
        if abs(new.angle_deg - old.angle_deg) > tolerance:
            return False
        theta = math.radians(old.angle_deg)
        normal = (-math.sin(theta), math.cos(theta))
        offset = (new.tip_x_mm - old.start_x_mm) * normal[0] + (new.tip_z_mm - old.start_z_mm) * normal[1]
        return abs(offset) <= 1.5

    def _continues(self, new: ShaftCandidate) -> bool:
        """Whether a detection continues the track: consistent with its shaft of the frame before, or,
        while it is not confirmed, with another fit of that shaft (see ``alternatives``)."""
        if self._last is None:
            return False
        if self._consistent(new, self._last):
            return True
        return not self._confirmed and any(self._consistent(new, other) for other in self._fits)

    def _associate(self, candidates: list[ShaftCandidate]) -> ShaftCandidate | None:
        """The detection that continues the track, else the best other one. A shaft returned as just entered
        only for its depth at the image side (:attr:`ShaftCandidate.deep`; the flank of a bone surface or a
        fascia there is a still line that will not grow) continues a track not yet confirmed only when it has
        grown along its line (it confirms nothing otherwise), comes after every other candidate and does not
        take the place of a track, confirmed or not (the frame counts as a miss)."""
        if not candidates:
            return None
        if self._last is not None:
            for candidate in candidates:
                allowed = not candidate.deep or self._confirmed or self._grown(candidate)
                if allowed and self._continues(candidate):
                    return candidate
        fresh = [c for c in candidates if not c.deep]
        if fresh:
            return fresh[0]
        return None if self._last is not None else candidates[0]

    def _confidence(self, c: ShaftCandidate) -> float:
        contrast = min(1.0, max(0.0, (c.contrast - self.detector.min_contrast) / 3.0 + 0.4))
        length = min(1.0, c.length_mm / 15.0)
        straight = max(0.0, 1.0 - c.residual_mm / (2 * self.detector.max_residual_mm))
        history = min(1.0, 0.5 + 0.1 * self._streak)
        return round(float(contrast * (0.5 + 0.5 * length) * straight * history), 3)
