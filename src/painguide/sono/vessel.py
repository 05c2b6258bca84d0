"""Vessel detection: colour-Doppler regions, and pulsatile or compressible anechoic structures in B-mode.

Two cues, both on a coarse working image (0.5 mm pixels):

- **Colour Doppler.** Pixels of the image region whose colour is saturated (the largest minus the
  smallest of R, G, B above ``chroma``) are flow. Flow comes and goes with the cardiac cycle, so a pixel
  stays "flow" for ``doppler_hold_s`` after it was last coloured; the held pixels, closed by 1 mm, form the
  vessel outlines.
- **B-mode.** Anechoic blobs (1 mm local mean under ``dark_fraction`` of the median tissue level, closed,
  not touching the bottom of the image, where shadows end, and not much longer than wide) are followed
  from frame to frame by their centroid. A blob is a vessel when its area swings up and down by at least
  ``pulsation`` of its median area, twice within ``history_s`` (arterial pulsation, a vein compressed by
  the probe). A growing pool of injectate swings one way only, a cyst or a shadow not at all; but its
  measured area jitters with the speckle and the needle's echoes, so a pool followed long enough can be
  called ``compressible`` or ``pulsatile`` too. Each B-mode vessel therefore says since when its blob has
  been followed (``seen_since_s``), and the pipeline can report after the injection start only the vessels
  followed since the start or before, or lying on a dark structure of the spread detector's learned floor
  (``GuidancePipeline(vessel_before_injection=True)``, off by default: a vein seen only as it swells
  looks the same).

The detector reports each vessel's outline in mm; :func:`path_distance` and :func:`fluid_overlap` are
the geometry behind the ``vessel_near_path`` and ``fluid_in_vessel`` warnings of the pipeline.

Positions are in millimetres from the top-left pixel centre of the image region (``x_mm`` lateral,
``z_mm`` depth).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.sono.frames import Frame
from painguide.sono.needle import _median

__all__ = ["Vessel", "VesselDetector", "fluid_overlap", "path_distance"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Vessel:
    """A vessel seen in one frame.

    Attributes
    ----------
    x_mm, z_mm : float
        Centroid.
    area_mm2 : float
        Area inside the outline.
    outline_mm : ndarray of shape (n, 2)
        Closed outline, (x, z) in mm.
    cue : str
        ``doppler``, ``pulsatile`` or ``compressible``.
    seen_since_s : float
        Since when a B-mode vessel's anechoic blob has been followed, found as a vessel or not yet (on the
        stream's time axis); ``-inf`` for a Doppler vessel: colour flow is blood, never injectate.
    """

    x_mm: float
    z_mm: float
    area_mm2: float
    outline_mm: FloatArray
    cue: str
    seen_since_s: float = float("-inf")


@dataclass(slots=True)
class _Track:
    x: float
    z: float
    areas: deque[tuple[float, float]]
    outline: FloatArray
    last_seen: float
    first_seen: float = float("-inf")
    cue: str = ""
    history: list[float] = field(default_factory=list)


class VesselDetector:
    """Find vessels in a stream of frames.

    Parameters
    ----------
    work_spacing_mm : float
        Pixel size of the working image.
    dark_fraction : float
        A pixel is anechoic when its 1 mm mean is below this fraction of the median level of the image.
    ring_fraction : float
        A lumen's surroundings (1 mm around it) must average at least this fraction of the median level.
    min_area_mm2, max_area_mm2 : float
        Size of a lumen.
    history_s : float
        Time over which pulsation is looked for.
    pulsation : float
        Smallest area swing, as a fraction of the median area, counted as a pulse.
    compressible : float
        A swing of at least this fraction of the largest area is reported as ``compressible``.
    chroma : int
        Colour saturation (max minus min of R, G, B) above which a pixel is Doppler flow.
    doppler_hold_s : float
        How long a Doppler pixel stays part of a vessel after it was last coloured.
    coast_s : float
        How long a vessel is kept (at its last outline) while it is not seen.
    squeeze : float
        A blob whose area swings by at least this fraction of its median area ``squeeze_swings`` times
        (down and back up: a vein pressed and released by the probe) is a vessel as well; a slow
        compression gives fewer swings within ``history_s`` than a pulse.
    squeeze_swings : int
        Swings of at least ``squeeze`` needed (``squeeze_swings`` above 2 disables the cue in practice).
    """

    def __init__(
        self,
        *,
        work_spacing_mm: float = 0.5,
        dark_fraction: float = 0.5,
        ring_fraction: float = 0.75,
        min_area_mm2: float = 2.0,
        max_area_mm2: float = 400.0,
        history_s: float = 2.5,
        pulsation: float = 0.12,
        compressible: float = 0.6,
        chroma: int = 60,
        doppler_hold_s: float = 1.5,
        coast_s: float = 1.0,
        squeeze: float = 0.25,
        squeeze_swings: int = 2,
    ) -> None:
        self.work_spacing_mm = work_spacing_mm
        self.dark_fraction = dark_fraction
        self.ring_fraction = ring_fraction
        self.min_area_mm2 = min_area_mm2
        self.max_area_mm2 = max_area_mm2
        self.history_s = history_s
        self.pulsation = pulsation
        self.compressible = compressible
        self.chroma = chroma
        self.doppler_hold_s = doppler_hold_s
        self.coast_s = coast_s
        self.squeeze = squeeze
        self.squeeze_swings = squeeze_swings
        self._tracks: list[_Track] = []
        self._flow_seen: NDArray[np.float32] | None = None
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def __call__(self, frame: Frame, *, work: NDArray[np.uint8] | None = None) -> list[Vessel]:
        """Update the tracks with one frame and return the vessels seen.

        Parameters
        ----------
        frame : Frame
            The next frame, in time order.
        work : ndarray, optional
            The frame already downsampled (any spacing); it is resized to ``work_spacing_mm``.

        Returns
        -------
        list of Vessel
            Doppler vessels first, then B-mode vessels.
        """
        ws = self.work_spacing_mm
        size = (max(8, round(frame.width_mm / ws)), max(8, round(frame.depth_mm / ws)))
        source = frame.pixels if work is None else work
        coarse = np.asarray(cv2.resize(source, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        scale = (frame.width_mm / size[0], frame.depth_mm / size[1])
        found = self._doppler(frame, size, scale)
        found += self._bmode(coarse, frame.time_s, scale)
        return found

    def _doppler(self, frame: Frame, size: tuple[int, int], scale: tuple[float, float]) -> list[Vessel]:
        if frame.colour is None:
            return []
        colour = np.asarray(cv2.resize(frame.colour, size, interpolation=cv2.INTER_AREA), dtype=np.int16)
        flow = (colour.max(axis=2) - colour.min(axis=2)) > self.chroma
        if self._flow_seen is None or self._flow_seen.shape != flow.shape:
            self._flow_seen = np.full(flow.shape, -np.inf, dtype=np.float32)
        self._flow_seen[flow] = frame.time_s
        held = np.where(frame.time_s - self._flow_seen <= self.doppler_hold_s, np.uint8(255), np.uint8(0))
        held = np.asarray(cv2.morphologyEx(held, cv2.MORPH_CLOSE, self._close), dtype=np.uint8)
        return [
            Vessel(x, z, area, outline, "doppler")
            for x, z, area, outline in _blobs(held, scale, 0.5 * self.min_area_mm2, self.max_area_mm2)
        ]

    def _bmode(self, coarse: NDArray[np.uint8], t: float, scale: tuple[float, float]) -> list[Vessel]:
        local = np.asarray(cv2.blur(coarse, (3, 3)), dtype=np.uint8)
        level = _median(local[::2, ::2].ravel().astype(np.float64))
        dark = (local < self.dark_fraction * level).view(np.uint8)  # 0 or 1: 255 where dark
        dark *= np.uint8(255)
        dark = np.asarray(cv2.morphologyEx(dark, cv2.MORPH_OPEN, self._close), dtype=np.uint8)
        dark[-1, :] = 255  # blobs joined to the bottom row are shadows: label them together and drop them
        blobs = _blobs(
            dark,
            scale,
            self.min_area_mm2,
            self.max_area_mm2,
            drop_touching_bottom=True,
            ring=(local, self.ring_fraction * level),
        )
        for x, z, area, outline in blobs:
            track = self._nearest(x, z, area)
            if track is None:
                track = _Track(x, z, deque(), outline, t, t)
                self._tracks.append(track)
            track.x, track.z, track.outline, track.last_seen = x, z, outline, t
            track.areas.append((t, area))
            while track.areas and track.areas[0][0] < t - self.history_s:
                track.areas.popleft()
            track.cue = track.cue or self._cue(track)
        self._tracks = [tr for tr in self._tracks if t - tr.last_seen <= self.coast_s]
        out = []
        for tr in self._tracks:
            if tr.cue:
                out.append(Vessel(tr.x, tr.z, _polygon_area(tr.outline), tr.outline, tr.cue, tr.first_seen))
        return out

    def _nearest(self, x: float, z: float, area: float) -> _Track | None:
        reach = 2.0 + 0.5 * math.sqrt(area / math.pi)
        best, best_d = None, reach
        for tr in self._tracks:
            d = math.hypot(tr.x - x, tr.z - z)
            if d <= best_d:
                best, best_d = tr, d
        return best

    def _cue(self, track: _Track) -> str:
        """``pulsatile`` or ``compressible`` once the area has swung up and down twice, else ``""``."""
        areas = np.array([a for _, a in track.areas])
        if areas.size < 6:
            return ""
        median = _median(areas)
        swings = _swings(areas, self.pulsation * median)
        if swings < 3 and _swings(areas, self.squeeze * median) < self.squeeze_swings:
            return ""
        return (
            "compressible"
            if float(areas.max() - areas.min()) >= self.compressible * float(areas.max())
            else "pulsatile"
        )


def _polygon_area(outline: FloatArray) -> float:
    """Area inside a closed outline of shape (n, 2) (the shoelace formula).

    >>> _polygon_area(np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 3.0], [0.0, 3.0]]))
    6.0
    """
    xs, zs = outline[:, 0], outline[:, 1]
    # each point with its predecessor (the last point before the first), as np.roll(..., 1) gives them
    xs_before = np.concatenate((xs[-1:], xs[:-1]))
    zs_before = np.concatenate((zs[-1:], zs[:-1]))
    return 0.5 * abs(float(np.dot(xs, zs_before) - np.dot(zs, xs_before)))


def _ringed(
    labels: NDArray[np.int32], i: int, box: tuple[int, int, int, int], ring: tuple[NDArray[np.uint8], float]
) -> bool:
    image, level = ring
    x0, y0, w, h = box
    r0, r1 = max(0, y0 - 3), min(labels.shape[0], y0 + h + 3)
    c0, c1 = max(0, x0 - 3), min(labels.shape[1], x0 + w + 3)
    inside = np.asarray(labels[r0:r1, c0:c1] == i, dtype=np.uint8)
    around = cv2.dilate(inside, np.ones((5, 5), np.uint8)) > inside
    return bool(around.any()) and float(image[r0:r1, c0:c1][around].mean()) >= level


def _swings(series: FloatArray, step: float) -> int:
    """Number of moves up or down by at least ``step`` from the last extreme (a zigzag count).

    >>> _swings(np.array([10, 12, 14, 12, 10, 12, 14.0]), 3.0)
    3
    >>> _swings(np.array([1, 2, 4, 8, 12, 16.0]), 3.0)
    1
    """
    swings, direction, extreme = 0, 0, float(series[0])
    for value in series[1:]:
        a = float(value)
        if direction == 0:
            if abs(a - extreme) >= step:
                swings, direction, extreme = 1, (1 if a > extreme else -1), a
        elif direction * (a - extreme) > 0:
            extreme = a
        elif direction * (extreme - a) >= step:
            swings, direction, extreme = swings + 1, -direction, a
    return swings


def _blobs(
    mask: NDArray[np.uint8],
    scale: tuple[float, float],
    min_area_mm2: float,
    max_area_mm2: float,
    *,
    drop_touching_bottom: bool = False,
    ring: tuple[NDArray[np.uint8], float] | None = None,
) -> list[tuple[float, float, float, FloatArray]]:
    """Compact connected regions: centroid (mm), area (mm²) and outline (mm).

    With ``ring = (image, level)``, a region is kept only when the mean of ``image`` in a 1-2 pixel ring
    around it is at least ``level``: a lumen is surrounded by echogenic tissue, a dark patch inside a
    shadow is not.
    """
    # the block-based labelling (BBDT) numbers the regions as OpenCV's default one (Spaghetti) and gives the
    # same labels, sizes and centroids (tests/unit/sono/test_sono_speed_vessel.py), in less than half the time
    n, labels, stats, centroids = cv2.connectedComponentsWithStatsWithAlgorithm(
        mask, 8, cv2.CV_32S, cv2.CCL_BBDT
    )
    pixel = scale[0] * scale[1]
    out = []
    for i in range(1, n):
        area = float(stats[i, cv2.CC_STAT_AREA]) * pixel
        w, h = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]
        top = stats[i, cv2.CC_STAT_TOP]
        if not min_area_mm2 <= area <= max_area_mm2 or (drop_touching_bottom and top + h >= mask.shape[0]):
            continue
        if (
            max(w * scale[0], h * scale[1]) > 3.5 * min(w * scale[0], h * scale[1])
            or area < 0.45 * w * h * pixel
        ):
            continue
        x0, y0 = stats[i, cv2.CC_STAT_LEFT], top
        if ring is not None and not _ringed(np.asarray(labels, dtype=np.int32), i, (x0, y0, w, h), ring):
            continue
        sub = np.asarray(labels[y0 : y0 + h, x0 : x0 + w] == i, dtype=np.uint8)
        contours, _ = cv2.findContours(sub, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        corner = np.array([x0 + 0.5, y0 + 0.5])
        outline = (max(contours, key=len).reshape(-1, 2).astype(np.float64) + corner) * np.array(scale)
        cx, cz = (centroids[i] + 0.5) * scale
        out.append((float(cx), float(cz), area, outline))
    return out


def path_distance(
    vessel: Vessel, tip: tuple[float, float], direction: tuple[float, float], ahead_mm: float
) -> float:
    """Shortest distance (mm) from the tip and its straight extrapolation to a vessel outline (0 inside).

    Parameters
    ----------
    vessel : Vessel
        The vessel.
    tip : tuple of float
        ``(x_mm, z_mm)`` of the needle tip.
    direction : tuple of float
        Unit vector of the shaft towards the tip.
    ahead_mm : float
        Length of the extrapolated path beyond the tip.

    Returns
    -------
    float
        Distance in mm.

    Examples
    --------
    >>> ring = np.array([[10 + 2 * np.cos(a), 10 + 2 * np.sin(a)] for a in np.linspace(0, 6.28, 40)])
    >>> v = Vessel(10.0, 10.0, 12.6, ring, "pulsatile")
    >>> round(path_distance(v, (0.0, 10.0), (1.0, 0.0), 5.0), 1)
    3.0
    >>> path_distance(v, (0.0, 10.0), (1.0, 0.0), 20.0)
    0.0
    """
    steps = np.arange(0.0, ahead_mm + 0.25, 0.25)
    path = np.asarray(tip)[None, :] + steps[:, None] * np.asarray(direction)[None, :]
    contour = vessel.outline_mm.astype(np.float32).reshape(-1, 1, 2)
    # the test takes each point in single precision: one outside the outline's box is outside the outline
    points = path.astype(np.float32)
    lo, hi = contour.min(axis=(0, 1)), contour.max(axis=(0, 1))
    boxed = np.flatnonzero(((points >= lo) & (points <= hi)).all(axis=1))
    for point in path[boxed]:
        if cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), False) >= 0:
            return 0.0
    diff = path[:, None, :] - vessel.outline_mm[None, :, :]
    return float(np.sqrt(np.min(np.sum(diff * diff, axis=2))))


def fluid_overlap(
    fluid_outlines: list[FloatArray], vessel: Vessel, *, margin_mm: float = 1.0, spacing_mm: float = 0.5
) -> float:
    """Fraction of the fluid area that lies inside the vessel outline widened by ``margin_mm``.

    Parameters
    ----------
    fluid_outlines : list of ndarray of shape (n, 2)
        Outlines of the fluid regions in mm (``SpreadObservation.contours_mm``).
    vessel : Vessel
        The vessel.
    margin_mm : float
        Widening of the vessel outline (a swelling vessel grows past its earlier outline).
    spacing_mm : float
        Raster pixel size.

    Returns
    -------
    float
        0-1.
    """
    if not fluid_outlines:
        return 0.0
    points = np.concatenate([*fluid_outlines, vessel.outline_mm])
    lo = points.min(axis=0) - margin_mm - spacing_mm
    hi = points.max(axis=0) + margin_mm + spacing_mm
    shape = (int((hi[1] - lo[1]) / spacing_mm) + 2, int((hi[0] - lo[0]) / spacing_mm) + 2)
    fluid = np.zeros(shape, np.uint8)
    cv2.fillPoly(fluid, [np.rint((o - lo) / spacing_mm).astype(np.int32) for o in fluid_outlines], 1)
    inside = np.zeros(shape, np.uint8)
    cv2.fillPoly(inside, [np.rint((vessel.outline_mm - lo) / spacing_mm).astype(np.int32)], 1)
    grow = max(1, round(margin_mm / spacing_mm)) * 2 + 1
    inside = np.asarray(
        cv2.dilate(inside, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))), dtype=np.uint8
    )
    total = int(fluid.sum())
    return float(int((fluid & inside).sum()) / total) if total else 0.0
