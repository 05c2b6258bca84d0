"""In-plane needle detection and temporal tracking on B-mode frames.

Detection works in two stages. A coarse stage on a downsampled, isotropic working image enhances thin
bright structures with a morphological white top-hat, thresholds them and finds straight segments with the
probabilistic Hough transform; segments are scored by ridge strength and length and must be oblique, straight
and enter from the side (or top) of the image, as an in-plane needle does. A fine stage at full resolution
fits the shaft line to sub-pixel ridge maxima and finds the tip where the intensity profile along the shaft
falls to half-way between shaft and background.

Positions are in millimetres from the top-left pixel centre of the image region (``x_mm`` lateral,
``z_mm`` depth); the angle is to the horizontal, positive when the needle goes deeper to the right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.sono.frames import Frame

__all__ = ["NeedleDetector", "NeedleObservation", "NeedleTracker", "ShaftCandidate"]

FloatArray = NDArray[np.float64]


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
    """

    start_x_mm: float
    start_z_mm: float
    tip_x_mm: float
    tip_z_mm: float
    angle_deg: float
    contrast: float
    residual_mm: float

    @property
    def length_mm(self) -> float:
        """Visible shaft length."""
        return math.hypot(self.tip_x_mm - self.start_x_mm, self.tip_z_mm - self.start_z_mm)


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
        The shallow end must lie this close to the side it enters from (or to the top); ``inf`` disables it.
    """

    def __init__(
        self,
        *,
        work_spacing_mm: float = 0.25,
        min_length_mm: float = 5.0,
        angle_range_deg: tuple[float, float] = (8.0, 75.0),
        min_contrast: float = 2.0,
        max_residual_mm: float = 0.15,
        edge_tolerance_mm: float = 4.0,
        ridge_k: float = 2.0,
    ) -> None:
        self.work_spacing_mm = work_spacing_mm
        self.min_length_mm = min_length_mm
        self.angle_range_deg = angle_range_deg
        self.min_contrast = min_contrast
        self.max_residual_mm = max_residual_mm
        self.edge_tolerance_mm = edge_tolerance_mm
        self.ridge_k = ridge_k
        size = max(3, round(1.6 / work_spacing_mm) | 1)
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))

    def __call__(self, frame: Frame) -> list[ShaftCandidate]:
        """Return shaft candidates, best first (empty when no needle-like structure is found).

        Parameters
        ----------
        frame : Frame
            The frame to search.

        Returns
        -------
        list of ShaftCandidate
            At most three candidates, sorted by decreasing contrast times length.
        """
        lines = self._coarse_lines(frame)
        out = []
        for line, extent in lines[:4]:
            candidate = self._refine(frame, line, extent)
            if candidate is not None and self._plausible(candidate, frame):
                out.append(candidate)
        out.sort(key=lambda c: -c.contrast * math.sqrt(c.length_mm))
        return out[:3]

    def _coarse_lines(self, frame: Frame) -> list[tuple[_Line, tuple[float, float]]]:
        """Hough segments on the top-hat of the working image, as mm lines with their extent along them."""
        ws = self.work_spacing_mm
        fx, fy = frame.col_spacing_mm / ws, frame.row_spacing_mm / ws
        work = cv2.resize(frame.pixels, None, fx=fx, fy=fy, interpolation=cv2.INTER_AREA)
        work = cv2.medianBlur(work, 5)
        ridge = np.asarray(cv2.morphologyEx(work, cv2.MORPH_TOPHAT, self._kernel), dtype=np.uint8)
        mean, std = cv2.meanStdDev(ridge)
        level = float(mean[0, 0] + self.ridge_k * std[0, 0])
        _, binary = cv2.threshold(ridge, level, 255, cv2.THRESH_BINARY)
        min_px = self.min_length_mm / ws
        segments = cv2.HoughLinesP(
            binary, 1, math.pi / 180, threshold=max(8, int(min_px * 0.6)), minLineLength=min_px, maxLineGap=6
        )
        if segments is None:
            return []
        scored = []
        lo, hi = self.angle_range_deg
        for x1, y1, x2, y2 in segments.reshape(-1, 4).astype(np.float64):
            p1 = np.array([(x1 + 0.5) * ws, (y1 + 0.5) * ws])
            p2 = np.array([(x2 + 0.5) * ws, (y2 + 0.5) * ws])
            direction = _oriented(*(p2 - p1))
            if not lo <= abs(_angle_deg(direction)) <= hi:
                continue
            strength = _sample_mean(ridge, (x1, y1), (x2, y2))
            length = float(np.linalg.norm(p2 - p1))
            top = p1 if p1[1] <= p2[1] else p2
            scored.append((strength * math.sqrt(length), _Line(top, direction), (0.0, length)))
        scored.sort(key=lambda item: -item[0])
        return _merge_collinear([(line, extent) for _, line, extent in scored])

    def _refine(self, frame: Frame, line: _Line, extent: tuple[float, float]) -> ShaftCandidate | None:
        """Sub-pixel shaft line from ridge maxima, then the tip from the profile along it."""
        fitted = _fit_ridge(frame, line, extent)
        if fitted is None:
            return None
        line, residual = fitted
        return _locate_ends(frame, line, extent, residual)

    def _plausible(self, c: ShaftCandidate, frame: Frame) -> bool:
        lo, hi = self.angle_range_deg
        if c.length_mm < self.min_length_mm or not lo <= abs(c.angle_deg) <= hi:
            return False
        if c.contrast < self.min_contrast or c.residual_mm > self.max_residual_mm:
            return False
        tol = self.edge_tolerance_mm
        if not math.isfinite(tol):
            return True
        side = c.start_x_mm if c.angle_deg > 0 else frame.width_mm - c.start_x_mm
        return side <= tol or c.start_z_mm <= tol


def _sample_mean(image: NDArray[np.uint8], p1: tuple[float, float], p2: tuple[float, float]) -> float:
    """Mean of ``image`` (rows, cols) along the segment between two (col, row) points."""
    n = max(2, int(math.hypot(p2[0] - p1[0], p2[1] - p1[1])))
    cols = np.clip(np.rint(np.linspace(p1[0], p2[0], n)).astype(np.intp), 0, image.shape[1] - 1)
    rows = np.clip(np.rint(np.linspace(p1[1], p2[1], n)).astype(np.intp), 0, image.shape[0] - 1)
    return float(image[rows, cols].mean())


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
    r = np.clip(centre[:, None] + k[None, :], 0, rows - 1)
    r0, r1 = int(r.min()), int(r.max()) + 1
    roi = cv2.GaussianBlur(image[r0:r1, c0 - 1 : c1 + 2], (3, 3), 0).astype(np.float64)
    band = roi[r - r0, (c - c0 + 1)[:, None]]
    peak = np.clip(np.argmax(band, axis=1), 1, band.shape[1] - 2)
    idx = np.arange(band.shape[0])
    left, mid, right = band[idx, peak - 1], band[idx, peak], band[idx, peak + 1]
    curvature = left - 2 * mid + right
    delta = np.where(curvature < 0, 0.5 * (left - right) / np.where(curvature < 0, curvature, -1.0), 0.0)
    ridge_row = r[idx, peak] + np.clip(delta, -0.5, 0.5)
    weight = np.maximum(mid - np.median(band, axis=1), 0.0)
    return c * spacing[1], ridge_row * spacing[0], weight


def _robust_fit(x: FloatArray, z: FloatArray, w: FloatArray) -> tuple[float, float, float] | None:
    """Weighted line fit ``z = a x + b`` with two rounds of outlier rejection; returns (a, b, rms)."""
    keep = w > 0
    a = b = 0.0
    for _ in range(3):
        if keep.sum() < 5:
            return None
        a, b = np.polyfit(x[keep], z[keep], 1, w=np.sqrt(w[keep]))
        res = z - (a * x + b)
        mad = float(np.median(np.abs(res[keep]))) * 1.4826
        keep &= np.abs(res) <= max(3.0 * mad, 0.15)
    if keep.sum() < 5:
        return None
    res = z[keep] - (a * x[keep] + b)
    return float(a), float(b), float(np.sqrt(np.mean(res**2)))


def _fit_ridge(frame: Frame, line: _Line, extent: tuple[float, float]) -> tuple[_Line, float] | None:
    """Refit a coarse line to the full-resolution ridge; returns the line and the RMS residual in mm."""
    d, p = line.direction, line.point
    ends = np.stack([p + extent[0] * d, p + extent[1] * d])
    flat = abs(d[0]) >= abs(d[1])
    if flat:
        image, spacing = frame.pixels, (frame.row_spacing_mm, frame.col_spacing_mm)
        slope, along, across = d[1] / d[0], ends[:, 0], p[1] - d[1] / d[0] * p[0]
    else:
        image, spacing = frame.pixels.T, (frame.col_spacing_mm, frame.row_spacing_mm)
        slope, along, across = d[0] / d[1], ends[:, 1], p[0] - d[0] / d[1] * p[1]
    points = _ridge_points(image, spacing, slope, across, (float(along.min()), float(along.max())))
    if points is None:
        return None
    fit = _robust_fit(*points)
    if fit is None:
        return None
    a, b, rms = fit
    if flat:  # keep the coarse anchor so that the extent still measures from the shallow end
        start, direction = np.array([p[0], a * p[0] + b]), _oriented(1.0, a)
    else:
        start, direction = np.array([a * p[1] + b, p[1]]), _oriented(a, 1.0)
    return _Line(start, direction), rms


def _profiles(
    frame: Frame, line: _Line, s: FloatArray, offsets_mm: tuple[float, ...]
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Image values along ``line`` at arc lengths ``s`` for each perpendicular offset: shape (offsets, n)."""
    normal = np.array([line.direction[1], -line.direction[0]])
    if normal[1] > 0:
        normal = -normal  # point shallower
    off = np.asarray(offsets_mm, dtype=np.float64)[:, None]
    x = line.point[0] + s[None, :] * line.direction[0] + off * normal[0]
    z = line.point[1] + s[None, :] * line.direction[1] + off * normal[1]
    cols = (x / frame.col_spacing_mm).astype(np.float32)
    rows = (z / frame.row_spacing_mm).astype(np.float32)
    values = cv2.remap(frame.pixels, cols, rows, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    rmax, cmax = frame.shape
    inside = (cols[0] >= 0) & (cols[0] <= cmax - 1) & (rows[0] >= 0) & (rows[0] <= rmax - 1)
    return values.astype(np.float64), inside


def _run_ends(above: NDArray[np.bool_], seed: int, max_gap: int) -> tuple[int, int] | None:
    """First and last index of the run of ``above`` through ``seed``, bridging gaps up to ``max_gap``."""
    idx = np.flatnonzero(above)
    if idx.size == 0:
        return None
    split = np.flatnonzero(np.diff(idx) > max_gap + 1)
    starts = np.concatenate([[0], split + 1])
    ends = np.concatenate([split, [idx.size - 1]])
    which = int(np.clip(np.searchsorted(idx[starts], seed, side="right") - 1, 0, starts.size - 1))
    return int(idx[starts[which]]), int(idx[ends[which]])


def _locate_ends(
    frame: Frame, line: _Line, extent: tuple[float, float], residual: float, step: float = 0.1
) -> ShaftCandidate | None:
    """Shaft ends from the half-contrast crossing of the intensity profile along the fitted line."""
    lo, hi = extent[0] - 8.0, extent[1] + 8.0
    s = np.arange(lo, hi, step)
    values, inside = _profiles(frame, line, s, (-0.2, 0.0, 0.2, 1.8, 2.0, 2.2, -2.5, -3.0))
    s, values = s[inside], values[:, inside]
    if s.size < 20:
        return None
    box = np.ones(7) / 7
    shaft = np.convolve(values[:3].max(axis=0), box, mode="same")
    background = np.convolve(values[3:6].max(axis=0), box, mode="same")
    core = (s >= extent[0]) & (s <= extent[1])
    if core.sum() < 10:
        return None
    shaft_level = float(np.median(shaft[core]))
    bg_level = float(np.median(background))
    contrast = (shaft_level - bg_level) / (float(np.std(background)) + 1.0)
    if float(np.median(values[6:, core])) < 0.4 * float(np.median(values[3:6, core])):
        return None  # a surface casting an acoustic shadow (bone, air), not a needle
    threshold = bg_level + 0.5 * (shaft_level - bg_level)
    seed = int(np.argmin(np.abs(s - 0.5 * (extent[0] + extent[1]))))
    run = _run_ends(shaft >= threshold, seed, round(1.0 / step))
    if run is None:
        return None
    first, last = run
    s_tip = s[last]
    if last + 1 < s.size and shaft[last] > shaft[last + 1]:
        s_tip += step * (shaft[last] - threshold) / (shaft[last] - shaft[last + 1])
    start = line.point + s[first] * line.direction
    tip = line.point + s_tip * line.direction
    return ShaftCandidate(
        float(start[0]),
        float(start[1]),
        float(tip[0]),
        float(tip[1]),
        _angle_deg(line.direction),
        contrast,
        residual,
    )


class NeedleTracker:
    """Temporal needle tracking: confirmation, association, smoothing and an honest "not visible".

    Parameters
    ----------
    detector : NeedleDetector, optional
        Single-frame detector (default parameters when omitted).
    confirm_frames : int
        Consecutive consistent detections needed before a needle is first reported.
    coast_frames : int
        Missed frames after which the track is dropped and must be confirmed again.
    angle_tolerance_deg : float
        Largest angle change between frames for a detection to continue the track.
    smoothing : float
        Weight of the new angle measurement (1 means no smoothing).
    """

    def __init__(
        self,
        *,
        detector: NeedleDetector | None = None,
        confirm_frames: int = 2,
        coast_frames: int = 3,
        angle_tolerance_deg: float = 4.0,
        smoothing: float = 0.6,
    ) -> None:
        self.detector = detector if detector is not None else NeedleDetector()
        self.confirm_frames = confirm_frames
        self.coast_frames = coast_frames
        self.angle_tolerance_deg = angle_tolerance_deg
        self.smoothing = smoothing
        self._last: ShaftCandidate | None = None
        self._angle = float("nan")
        self._streak = 0
        self._misses = 0
        self._confirmed = False

    def reset(self) -> None:
        """Forget the track (for example after the probe was moved to another view)."""
        self._last, self._angle, self._streak, self._misses, self._confirmed = None, float("nan"), 0, 0, False

    def __call__(self, frame: Frame) -> NeedleObservation:
        """Track the needle in the next frame.

        Parameters
        ----------
        frame : Frame
            The next frame of the cine.

        Returns
        -------
        NeedleObservation
            Tip, angle, length and confidence, or ``visible=False``.
        """
        chosen = self._associate(self.detector(frame))
        if chosen is None:
            self._misses += 1
            self._streak = 0
            if self._misses > self.coast_frames:
                self.reset()
            return NeedleObservation(False)
        consistent = self._last is not None and self._consistent(chosen, self._last)
        self._streak = self._streak + 1 if consistent or self._last is None else 1
        self._misses = 0
        if consistent and math.isfinite(self._angle):
            self._angle += self.smoothing * (chosen.angle_deg - self._angle)
        else:
            self._angle = chosen.angle_deg
        self._last = chosen
        self._confirmed = self._confirmed or self._streak >= self.confirm_frames
        if not self._confirmed:
            return NeedleObservation(False)
        return NeedleObservation(
            True,
            chosen.tip_x_mm,
            chosen.tip_z_mm,
            self._angle,
            chosen.length_mm,
            self._confidence(chosen),
            chosen.start_x_mm,
            chosen.start_z_mm,
        )

    def _consistent(self, new: ShaftCandidate, old: ShaftCandidate) -> bool:
        if abs(new.angle_deg - old.angle_deg) > self.angle_tolerance_deg:
            return False
        theta = math.radians(old.angle_deg)
        normal = (-math.sin(theta), math.cos(theta))
        offset = (new.tip_x_mm - old.start_x_mm) * normal[0] + (new.tip_z_mm - old.start_z_mm) * normal[1]
        return abs(offset) <= 1.5

    def _associate(self, candidates: list[ShaftCandidate]) -> ShaftCandidate | None:
        if not candidates:
            return None
        if self._last is not None:
            for candidate in candidates:
                if self._consistent(candidate, self._last):
                    return candidate
        return candidates[0]

    def _confidence(self, c: ShaftCandidate) -> float:
        contrast = min(1.0, max(0.0, (c.contrast - self.detector.min_contrast) / 3.0 + 0.4))
        length = min(1.0, c.length_mm / 15.0)
        straight = max(0.0, 1.0 - c.residual_mm / (2 * self.detector.max_residual_mm))
        history = min(1.0, 0.5 + 0.1 * self._streak)
        return round(float(contrast * (0.5 + 0.5 * length) * straight * history), 3)
