"""Injectate spread: appearance and growth of anechoic fluid, relative to a learned dark-structure baseline.

Fluid is anechoic, so it shows up as a region whose local mean grey level falls far below the tissue level.
Vessels, acoustic shadows and cysts are anechoic too; they are learned as a baseline from the frames before
the injection starts (at least ``baseline_s`` seconds, covering a cardiac cycle) and ignored afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.sono.frames import Frame

__all__ = ["SpreadDetector", "SpreadObservation"]


@dataclass(frozen=True, slots=True)
class SpreadObservation:
    """Injectate seen in one frame.

    Attributes
    ----------
    visible : bool
        Whether new anechoic fluid of at least the minimum area is present.
    area_mm2 : float
        Total area of the new fluid.
    centre_x_mm, centre_z_mm : float
        Centroid of the largest fluid region (``nan`` when none).
    distance_to_tip_mm : float
        Shortest distance from the needle tip to the fluid (``nan`` without a tip or fluid).
    contours_mm : list of ndarray of shape (n, 2)
        Outlines of the fluid regions as (x_mm, z_mm) points, for drawing.
    """

    visible: bool
    area_mm2: float = 0.0
    centre_x_mm: float = float("nan")
    centre_z_mm: float = float("nan")
    distance_to_tip_mm: float = float("nan")
    contours_mm: list[NDArray[np.float64]] = field(default_factory=list)


class SpreadDetector:
    """Detect new anechoic fluid once the baseline of pre-existing dark structures is learned.

    Parameters
    ----------
    work_spacing_mm : float
        Pixel size of the working image.
    dark_fraction : float
        A pixel is anechoic when its 1 mm local mean is below this fraction of the median tissue level.
    min_area_mm2 : float
        Smallest fluid area reported.
    baseline_s : float
        Shortest learning time for the baseline (frames before the injection start are always used).
    """

    def __init__(
        self,
        *,
        work_spacing_mm: float = 0.25,
        dark_fraction: float = 0.5,
        min_area_mm2: float = 2.0,
        baseline_s: float = 1.0,
    ) -> None:
        self.work_spacing_mm = work_spacing_mm
        self.dark_fraction = dark_fraction
        self.min_area_mm2 = min_area_mm2
        self.baseline_s = baseline_s
        self._baseline: NDArray[np.uint8] | None = None
        self._frozen = False
        self._first_time: float | None = None
        size = max(3, round(1.0 / work_spacing_mm))
        self._box = (size, size)
        grow = max(3, round(2.0 / work_spacing_mm) | 1)
        self._grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    @property
    def learning(self) -> bool:
        """``True`` while the dark-structure baseline is still being learned."""
        return not self._frozen

    def freeze(self) -> None:
        """Stop learning: from now on every new anechoic region counts as fluid."""
        if self._baseline is not None:
            self._baseline = np.asarray(cv2.dilate(self._baseline, self._grow), dtype=np.uint8)
        self._frozen = True

    def __call__(
        self, frame: Frame, *, tip_mm: tuple[float, float] | None = None, injecting: bool = False
    ) -> SpreadObservation:
        """Update the baseline or look for fluid in one frame.

        Parameters
        ----------
        frame : Frame
            The frame.
        tip_mm : tuple of float, optional
            ``(x_mm, z_mm)`` of the needle tip, to measure how far the fluid is from it.
        injecting : bool
            Whether the injection has started; learning stops at the first such frame once
            ``baseline_s`` of frames were seen.

        Returns
        -------
        SpreadObservation
            Fluid area and position; ``visible=False`` while learning.
        """
        dark = self._dark_mask(frame)
        if self._first_time is None:
            self._first_time = frame.time_s
        if not self._frozen:
            merged = dark if self._baseline is None else cv2.bitwise_or(self._baseline, dark)
            self._baseline = np.asarray(merged, dtype=np.uint8)
            if injecting and frame.time_s - self._first_time >= self.baseline_s:
                self.freeze()
            return SpreadObservation(False)
        assert self._baseline is not None
        if dark.shape != self._baseline.shape:
            return SpreadObservation(False)
        new = cv2.bitwise_and(dark, cv2.bitwise_not(self._baseline))
        fresh = np.asarray(cv2.morphologyEx(new, cv2.MORPH_OPEN, self._open), dtype=np.uint8)
        return self._measure(fresh, tip_mm)

    def _dark_mask(self, frame: Frame) -> NDArray[np.uint8]:
        ws = self.work_spacing_mm
        work = cv2.resize(
            frame.pixels,
            None,
            fx=frame.col_spacing_mm / ws,
            fy=frame.row_spacing_mm / ws,
            interpolation=cv2.INTER_AREA,
        )
        local = cv2.blur(work, self._box)
        tissue = float(np.median(local[::2, ::2]))
        level = max(4.0, self.dark_fraction * tissue)
        return np.where(local < level, np.uint8(255), np.uint8(0))

    def _measure(self, fresh: NDArray[np.uint8], tip_mm: tuple[float, float] | None) -> SpreadObservation:
        ws = self.work_spacing_mm
        n, labels, stats, centroids = cv2.connectedComponentsWithStats(fresh, connectivity=8)
        min_px = self.min_area_mm2 / (ws * ws)
        keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_px]
        if not keep:
            return SpreadObservation(False)
        areas = stats[keep, cv2.CC_STAT_AREA]
        biggest = keep[int(np.argmax(areas))]
        mask = np.isin(labels, keep).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        outlines = [(c.reshape(-1, 2).astype(np.float64) + 0.5) * ws for c in contours]
        distance = float("nan")
        if tip_mm is not None and math.isfinite(tip_mm[0]):
            rows, cols = np.nonzero(mask)
            distance = float(np.min(np.hypot((cols + 0.5) * ws - tip_mm[0], (rows + 0.5) * ws - tip_mm[1])))
        cx, cz = (centroids[biggest] + 0.5) * ws
        return SpreadObservation(True, float(areas.sum()) * ws * ws, float(cx), float(cz), distance, outlines)
