"""Injectate spread: appearance and growth of anechoic fluid, relative to a learned per-pixel echo floor.

Fluid is anechoic, so where it spreads the local mean grey level falls well below what it was. Vessels,
acoustic shadows and cysts are anechoic already; the floor (the darkest local mean seen at each place) is
learned from the frames before the injection starts (at least ``baseline_s`` seconds, covering a cardiac
cycle), so they are ignored afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.sono.frames import Frame
from painguide.sono.ridge import working_image

__all__ = ["ShiftEstimator", "SpreadDetector", "SpreadObservation"]


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


class ShiftEstimator:
    """Global translation of an image against a fixed reference, by phase correlation.

    The reference spectrum is computed once; each call costs one forward and one inverse DFT of the
    (downsampled) image. The peak of the phase-correlation surface is refined to a fraction of a pixel by a
    parabola through its neighbours in each direction.

    Parameters
    ----------
    reference : ndarray
        The reference image (any numeric type).
    min_peak : float
        A correlation peak below this (the image changed too much to be matched) gives ``None``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = cv2.GaussianBlur(rng.random((64, 80)).astype(np.float32), (0, 0), 1.5)
    >>> moved = np.roll(ref, (2, -3), axis=(0, 1))
    >>> dx, dy = ShiftEstimator(ref)(moved)
    >>> round(dx, 1), round(dy, 1)
    (-3.0, 2.0)
    """

    def __init__(self, reference: NDArray[np.generic], *, min_peak: float = 0.05) -> None:
        rows, cols = reference.shape[:2]
        self._shape = (cv2.getOptimalDFTSize(rows), cv2.getOptimalDFTSize(cols))
        self._window = cv2.createHanningWindow((cols, rows), cv2.CV_32F)
        self._reference = self._spectrum(reference)
        self.min_peak = min_peak
        # a Gaussian low-pass (sigma 1 pixel) of the whitened cross-spectrum makes the correlation peak
        # smooth, so that a parabola through the logarithms of its samples finds its centre
        fy = np.fft.fftfreq(self._shape[0]).astype(np.float32)
        fx = np.fft.fftfreq(self._shape[1]).astype(np.float32)
        weight = np.exp(np.float32(-2.0 * math.pi**2) * (fy[:, None] ** 2 + fx[None, :] ** 2))
        self._lowpass = np.repeat(weight[..., None], 2, axis=2).astype(np.float32)

    def _spectrum(self, image: NDArray[np.generic]) -> NDArray[np.float32]:
        x = np.asarray(image, dtype=np.float32)
        x = (x - np.float32(x.mean())) * self._window
        rows, cols = self._shape
        padded = cv2.copyMakeBorder(
            x, 0, rows - x.shape[0], 0, cols - x.shape[1], cv2.BORDER_CONSTANT, value=0
        )
        return np.asarray(cv2.dft(padded, flags=cv2.DFT_COMPLEX_OUTPUT), dtype=np.float32)

    def __call__(self, image: NDArray[np.generic]) -> tuple[float, float] | None:
        """Shift ``(dx, dy)`` in pixels of ``image`` against the reference: ``image(x) = reference(x - d)``.

        Returns ``None`` when the correlation peak is weaker than ``min_peak``.
        """
        cross = cv2.mulSpectrums(self._spectrum(image), self._reference, 0, conjB=True)
        magnitude = cv2.magnitude(cross[..., 0], cross[..., 1]) + np.float32(1e-6)
        cross *= self._lowpass / magnitude[..., None]
        surface = cv2.idft(cross, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
        _, peak, _, (px, py) = cv2.minMaxLoc(surface)
        if peak < self.min_peak:
            return None
        rows, cols = surface.shape
        floor = 1e-3 * peak
        dx = px + _vertex(surface[py, (px - 1) % cols], peak, surface[py, (px + 1) % cols], floor)
        dy = py + _vertex(surface[(py - 1) % rows, px], peak, surface[(py + 1) % rows, px], floor)
        return (dx - cols if dx > cols / 2 else dx), (dy - rows if dy > rows / 2 else dy)


def _moved(image: NDArray[np.uint8], dx: float, dy: float) -> NDArray[np.uint8]:
    """``image`` shifted by ``(dx, dy)`` pixels (bilinear; the border repeats); unchanged below 0.05 px."""
    if abs(dx) < 0.05 and abs(dy) < 0.05:
        return image
    move = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float64)
    size = (image.shape[1], image.shape[0])
    return np.asarray(
        cv2.warpAffine(image, move, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )


def _vertex(before: float, centre: float, after: float, floor: float) -> float:
    """Offset of the centre of a Gaussian through three equally spaced samples (within ±0.5)."""
    before, centre, after = (math.log(max(v, floor)) for v in (before, centre, after))
    curvature = before - 2.0 * centre + after
    if curvature >= 0:
        return 0.0
    return float(np.clip(0.5 * (before - after) / curvature, -0.5, 0.5))


class SpreadDetector:
    """Detect new anechoic fluid as a drop of the local echo level below a learned per-pixel floor.

    While learning, the detector keeps, for every working pixel, the darkest 1 mm local mean seen so far:
    vessels (over their whole pulsation), shadows and cysts are dark in this floor already. When learning
    stops, the floor is spread by a minimum filter of ``motion_mm`` to absorb small probe motion. After
    that, a pixel holds fluid when its local mean falls below the floor by more than ``drop`` times the
    median tissue level. Such cores are then grown over the connected pixels whose level fell by
    ``edge_fraction`` of their learned mean, to reach the outline of the pool.

    Parameters
    ----------
    work_spacing_mm : float
        Pixel size of the working image.
    drop : float
        Fall of the local mean below the floor, as a fraction of the median tissue grey level, that marks
        fluid.
    min_area_mm2 : float
        Smallest fluid area reported.
    baseline_s : float
        Learning time when no injection start is signalled (free-running analysis); it should cover a
        cardiac cycle and the slow probe motion. Frames before an injection start are always used.
    min_learning_s : float
        Shortest learning time before a signalled injection start can stop the learning.
    motion_mm : float
        Probe motion tolerated between learning and injection.
    edge_fraction : float
        A fluid region extends over the connected pixels whose local mean fell by this fraction of its
        learned mean (the outline of the pool, where the echo is about halved).
    """

    def __init__(
        self,
        *,
        work_spacing_mm: float = 0.25,
        drop: float = 0.1,
        min_area_mm2: float = 1.0,
        baseline_s: float = 1.5,
        min_learning_s: float = 0.5,
        motion_mm: float = 0.5,
        edge_fraction: float = 0.25,
        bridge_mm: float = 3.0,
        register: bool = True,
        register_spacing_mm: float = 0.5,
    ) -> None:
        self.work_spacing_mm = work_spacing_mm
        self.drop = drop
        self.min_area_mm2 = min_area_mm2
        self.baseline_s = baseline_s
        self.min_learning_s = min_learning_s
        self.motion_mm = motion_mm
        self.edge_fraction = edge_fraction
        self.register = register
        self._register_factor = max(1, round(register_spacing_mm / work_spacing_mm))
        self._shift_estimator: ShiftEstimator | None = None
        self._shift = (0.0, 0.0)
        self._floor: NDArray[np.uint8] | None = None
        self._sum: NDArray[np.float32] | None = None
        self._count = 0
        self._threshold: NDArray[np.uint8] | None = None
        self._edge: NDArray[np.uint8] | None = None
        self._frozen = False
        self._first_time: float | None = None
        size = max(3, round(1.0 / work_spacing_mm))
        self._box = (size, size)
        grow = max(3, round(motion_mm / work_spacing_mm) | 1)
        self._grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        bridge = round(bridge_mm / work_spacing_mm) | 1
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (bridge, bridge)) if bridge > 1 else None

    @property
    def learning(self) -> bool:
        """``True`` while the dark-structure baseline is still being learned."""
        return not self._frozen

    def freeze(self) -> None:
        """Stop learning: from now on every new drop of the echo level counts as fluid."""
        if self._floor is not None and self._sum is not None and self._count:
            floor = cv2.erode(self._floor, self._grow).astype(np.float32)
            margin = max(4.0, self.drop * float(np.median(self._floor[::2, ::2])))
            self._threshold = np.asarray(np.clip(floor - margin, 0, 255), dtype=np.uint8)
            # the outline may not reach into structures that were dark already (vessels, shadows)
            mean = self._sum / np.float32(self._count)
            edge = np.minimum(mean * np.float32(1.0 - self.edge_fraction), floor - np.float32(0.5 * margin))
            self._edge = np.asarray(np.clip(edge, 0, 255), dtype=np.uint8)
            if self.register:
                self._shift_estimator = ShiftEstimator(self._coarse(mean))
        self._frozen = True

    def __call__(
        self,
        frame: Frame,
        *,
        tip_mm: tuple[float, float] | None = None,
        injecting: bool = False,
        free_running: bool = False,
        work: NDArray[np.uint8] | None = None,
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
            ``min_learning_s`` of frames were seen.
        free_running : bool
            No injection start will be signalled: learning stops after ``baseline_s``.
        work : ndarray, optional
            The frame already downsampled to ``work_spacing_mm`` (by area averaging).

        Returns
        -------
        SpreadObservation
            Fluid area and position; ``visible=False`` while learning.
        """
        local = self._local_mean(frame, work)
        if self._first_time is None:
            self._first_time = frame.time_s
        if not self._frozen:
            self._learn(local)
            elapsed = frame.time_s - self._first_time
            if (injecting and elapsed >= min(self.min_learning_s, self.baseline_s)) or (
                free_running and elapsed >= self.baseline_s
            ):
                self.freeze()
            return SpreadObservation(False)
        if self._threshold is None or self._edge is None or local.shape != self._threshold.shape:
            return SpreadObservation(False)
        threshold, edge = self._registered(local)
        core = np.where(local < threshold, np.uint8(255), np.uint8(0))
        core = np.asarray(cv2.morphologyEx(core, cv2.MORPH_OPEN, self._open), dtype=np.uint8)
        fluid = self._grow_to_edge(core, local, edge)
        if self._close is not None and fluid.any():  # bridge needle echoes crossing the pool
            fluid = np.asarray(cv2.morphologyEx(fluid, cv2.MORPH_CLOSE, self._close), dtype=np.uint8)
        return self._measure(fluid, tip_mm)

    def _learn(self, local: NDArray[np.uint8]) -> None:
        """Update the per-pixel floor (darkest level) and the running sum for the mean level.

        With registration, each frame is first moved back onto the first learning frame (its shift from
        it, by phase correlation), so the floor stays sharp while the probe drifts."""
        if self._floor is None or self._sum is None or self._floor.shape != local.shape:
            self._floor, self._sum, self._count = local.copy(), np.zeros(local.shape, np.float32), 0
            self._shift_estimator = ShiftEstimator(self._coarse(local)) if self.register else None
        elif self._shift_estimator is not None:
            shift = self._shift_estimator(self._coarse(local))
            if shift is not None:
                self._shift = (shift[0] * self._register_factor, shift[1] * self._register_factor)
            local = _moved(local, -self._shift[0], -self._shift[1])
        self._floor = np.minimum(self._floor, local)
        self._sum += local
        self._count += 1

    @property
    def shift_px(self) -> tuple[float, float]:
        """Shift ``(dx, dy)`` in working pixels of the last frame against the learned mean."""
        return self._shift

    def _coarse(self, image: NDArray[np.generic]) -> NDArray[np.float32]:
        f = self._register_factor
        x = np.asarray(image, dtype=np.float32)
        if f == 1:
            return x
        return np.asarray(
            cv2.resize(x, (x.shape[1] // f, x.shape[0] // f), interpolation=cv2.INTER_AREA), dtype=np.float32
        )

    def _registered(self, local: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """The threshold and outline maps moved with the probe: shifted by this frame's offset from the
        learned mean (phase correlation on a coarse image); the last good shift when matching fails."""
        assert self._threshold is not None and self._edge is not None
        if self._shift_estimator is None:
            return self._threshold, self._edge
        f = self._register_factor
        shift = self._shift_estimator(self._coarse(local))
        if shift is not None:
            self._shift = (shift[0] * f, shift[1] * f)
        dx, dy = self._shift
        return _moved(self._threshold, dx, dy), _moved(self._edge, dx, dy)

    def _grow_to_edge(
        self, core: NDArray[np.uint8], local: NDArray[np.uint8], outline: NDArray[np.uint8]
    ) -> NDArray[np.uint8]:
        """Extend the fluid cores to their outline: connected pixels whose level fell by ``edge_fraction``."""
        if not core.any():
            return core
        edge = np.where(local < outline, np.uint8(255), np.uint8(0)) | core
        n, labels = cv2.connectedComponents(edge, connectivity=4)
        keep = np.zeros(n, dtype=bool)
        keep[np.unique(labels[core > 0])] = True
        keep[0] = False
        return np.where(keep[labels], np.uint8(255), np.uint8(0))

    def _local_mean(self, frame: Frame, work: NDArray[np.uint8] | None) -> NDArray[np.uint8]:
        """1 mm local mean of the working image."""
        ws = self.work_spacing_mm
        if work is None:
            work = working_image(frame.pixels, (frame.col_spacing_mm / ws, frame.row_spacing_mm / ws))
        return np.asarray(cv2.blur(work, self._box), dtype=np.uint8)

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
