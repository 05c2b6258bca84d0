"""Line enhancement for needle detection: Hessian ridge filter and an orientation-gated, weighted Hough vote.

The working image is a downsampled, isotropic copy of the frame. The ridge filter is the most negative
eigenvalue of the Hessian of the Gaussian-smoothed image, so it responds to thin bright lines. Each
ridge pixel also has the orientation of its line. In the Hough vote, each pixel votes only for angles near
its own orientation, weighted by its ridge strength. Speckle is elongated laterally, so its ridges are
near-horizontal, and they cannot vote for oblique lines. A faint needle collects the votes of every pixel
along it, so it can win even where no single pixel stands out.

Angles are in degrees to the horizontal, positive when the line goes deeper to the right (rows grow down).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import scipy.sparse
from numpy.typing import NDArray

__all__ = ["HoughLine", "oriented_hough", "ridge_response", "shadow_mask", "working_image"]

FloatImage = NDArray[np.float32]


def working_image(pixels: NDArray[np.uint8], scale: tuple[float, float]) -> NDArray[np.uint8]:
    """Downsample a frame to the working pixel size by area averaging.

    Parameters
    ----------
    pixels : ndarray of shape (rows, cols), dtype uint8
        The frame.
    scale : tuple of float
        ``(fx, fy)``: column and row scale factors (frame spacing over working spacing).

    Returns
    -------
    ndarray, dtype uint8
        The working image.
    """
    fx, fy = scale
    if not (_area_by_rows(fx) and _area_by_rows(fy)):
        whole = cv2.resize(pixels, None, fx=fx, fy=fy, interpolation=cv2.INTER_AREA)
        return np.asarray(whole, dtype=np.uint8)
    # OpenCV's area averaging over a fractional factor sums each source row across (in single precision,
    # each output pixel's source pixels in their order), then sums those row sums down in the same way,
    # and rounds. Done as two products with sparse matrices of OpenCV's own weights, the sums are the same
    # operations in the same order, so the same bits (tests/unit/sono/test_sono_speed_resize.py), in
    # about 60 % less time.
    rows, cols = pixels.shape
    across = _area_weights(cols, fx) @ cv2.transpose(pixels).astype(np.float32)  # (working cols, rows)
    down = _area_weights(rows, fy) @ cv2.transpose(across)
    return np.asarray(cv2.convertScaleAbs(down), dtype=np.uint8)  # rounded half to even, as the resize


@lru_cache(maxsize=16)
def _area_weights(size: int, factor: float) -> scipy.sparse.csr_matrix:
    """OpenCV's area-averaging weights for reducing ``size`` pixels by ``factor`` along one axis: row ``i``
    holds the weight of each source pixel in output pixel ``i``, in the source pixels' order.

    They are read from OpenCV itself, as the area resize of the identity (down its rows, where each
    output pixel is the weight times one, plus zeros): the same weights, whatever its version computes."""
    identity = np.eye(size, dtype=np.float32)
    weights = cv2.resize(identity, None, fx=1.0, fy=factor, interpolation=cv2.INTER_AREA)
    matrix = scipy.sparse.csr_matrix(weights)
    matrix.sort_indices()
    return matrix


def _area_by_rows(factor: float) -> bool:
    """Whether OpenCV's area resize by ``factor`` takes its general path (a reduction by a fraction that is
    not one over a whole number), where it can be done as the two passes of :func:`working_image`."""
    if not 0.0 < factor < 1.0:
        return False
    inverse = 1.0 / factor
    return abs(inverse - round(inverse)) >= sys.float_info.epsilon


def ridge_response(
    work: NDArray[np.uint8], *, sigmas_px: tuple[float, ...] = (1.0, 2.0)
) -> tuple[FloatImage, FloatImage]:
    """Bright-ridge strength and line orientation of every pixel, the best over a few scales.

    Parameters
    ----------
    work : ndarray of shape (rows, cols), dtype uint8
        Working image.
    sigmas_px : tuple of float
        Scales of the Gaussian derivatives, in working pixels (about the half-width of the line); the
        responses are scale-normalised (times sigma squared) and the largest is kept.

    Returns
    -------
    strength : ndarray of shape (rows, cols), dtype float32
        ``-min(eigenvalue, 0)`` of the Hessian: large on thin bright lines.
    angle : ndarray of shape (rows, cols), dtype float32
        Orientation of the line through each pixel, in radians (-pi/2, pi/2], positive deeper to the right.
    """
    image = work.astype(np.float32)
    best: FloatImage | None = None
    best_angle: FloatImage | None = None
    for sigma in sigmas_px:
        smooth = cv2.GaussianBlur(image, (0, 0), sigma)
        dxx = np.asarray(cv2.Sobel(smooth, cv2.CV_32F, 2, 0, ksize=3), dtype=np.float32)
        dyy = np.asarray(cv2.Sobel(smooth, cv2.CV_32F, 0, 2, ksize=3), dtype=np.float32)
        dxy = np.asarray(cv2.Sobel(smooth, cv2.CV_32F, 1, 1, ksize=3), dtype=np.float32)
        # in place, in the same order of operations as the formulas in the docstring's terms:
        # root = sqrt((0.5 (dxx - dyy))^2 + dxy^2), strength = max(root - 0.5 (dxx + dyy), 0) sigma^2,
        # angle = 0.5 atan2(2 dxy, dxx - dyy)
        diff = dxx - dyy
        strength = 0.5 * diff
        np.multiply(strength, strength, out=strength)
        strength += dxy * dxy
        np.sqrt(strength, out=strength)
        np.add(dxx, dyy, out=dxx)
        dxx *= 0.5
        strength -= dxx
        np.maximum(strength, 0.0, out=strength)
        strength *= np.float32(sigma * sigma)
        dxy *= 2.0
        angle = np.arctan2(dxy, diff, out=diff)
        angle *= 0.5
        if best is None or best_angle is None:
            best, best_angle = strength, angle
        else:
            np.copyto(best_angle, angle, where=strength > best)
            np.maximum(best, strength, out=best)
    assert best is not None and best_angle is not None
    return best, best_angle


def shadow_mask(
    work: NDArray[np.uint8], *, gap_px: int, depth_px: int, ratio: float = 0.45
) -> NDArray[np.bool_]:
    """Pixels that lie just above an acoustic shadow (bone, air) or another much darker region.

    Parameters
    ----------
    work : ndarray of shape (rows, cols), dtype uint8
        Working image.
    gap_px, depth_px : int
        The mean of a window ``depth_px`` tall starting ``gap_px`` below a pixel is compared with the mean
        of the same window above it.
    ratio : float
        A pixel is masked when the mean below is under this fraction of the mean above.

    Returns
    -------
    ndarray of shape (rows, cols), dtype bool
        ``True`` above a shadow.
    """
    rows = work.shape[0]
    box = cv2.boxFilter(work.astype(np.float32), -1, (5, depth_px), borderType=cv2.BORDER_REPLICATE)
    reach = gap_px + depth_px // 2
    index = np.arange(rows)
    above = box[np.clip(index - reach, 0, rows - 1)]
    below = box[np.clip(index + reach, 0, rows - 1)]
    mask: NDArray[np.bool_] = (below < ratio * above + 1.0) & (index + reach < rows)[:, None]
    return mask


@dataclass(frozen=True, slots=True)
class HoughLine:
    """A line found by the vote, in working pixels.

    Attributes
    ----------
    angle_deg : float
        Line angle, positive deeper to the right.
    rho : float
        Signed distance of the line from the origin: ``-x sin(angle) + y cos(angle)``.
    extent : tuple of float
        ``(t0, t1)``: the supported run along the line, as ``x cos(angle) + y sin(angle)``.
    score : float
        Summed ridge strength of the supporting pixels, over the image's ridge level.
    """

    angle_deg: float
    rho: float
    extent: tuple[float, float]
    score: float


def oriented_hough(
    strength: FloatImage,
    angle: FloatImage,
    *,
    angle_range_deg: tuple[float, float],
    quantile: float = 0.9,
    max_lines: int = 3,
    max_gap_px: float = 8.0,
    spread_deg: int = 2,
    weight_cap: float = 4.0,
    accept: Callable[[HoughLine], bool] | None = None,
    max_peaks: int = 24,
    region: NDArray[np.bool_] | None = None,
) -> list[HoughLine]:
    """Weighted Hough vote of the strongest ridge pixels, each only near its own orientation.

    Parameters
    ----------
    strength, angle : ndarray of shape (rows, cols)
        Output of :func:`ridge_response`.
    angle_range_deg : tuple of float
        Accepted absolute line angles.
    quantile : float
        Only pixels above this quantile of the ridge strength vote.
    max_lines : int
        Number of peaks returned.
    max_gap_px : float
        Largest gap in the supporting pixels bridged when measuring the extent.
    spread_deg : int
        Each pixel votes for its own angle rounded to a degree, plus or minus this many degrees.
    weight_cap : float
        Votes are ridge strength over the selection level, capped here so that long lines beat short
        bright structures.
    accept : callable, optional
        Test of a found line (for example whether it can be a needle entering the image); lines that fail
        it do not count towards ``max_lines``, so a curved bright surface (bone) that yields many peaks
        cannot crowd out a fainter needle.
    max_peaks : int
        Most accumulator peaks examined.
    region : ndarray of bool, optional
        Only pixels inside it vote (the selection level is still the quantile over the whole image).

    Returns
    -------
    list of HoughLine
        Best first.
    """
    level = _quantile(strength[::2, ::2], quantile) + 1e-6
    selected = strength > level
    if region is not None:
        selected &= region
    ys, xs = np.nonzero(selected)
    degrees = np.degrees(angle[ys, xs])
    lo, hi = angle_range_deg
    keep = (np.abs(degrees) >= lo - spread_deg) & (np.abs(degrees) <= hi + spread_deg)
    ys, xs, degrees = ys[keep], xs[keep], degrees[keep]
    if xs.size < 8:
        return []
    weights = np.minimum(strength[ys, xs] / level, np.float32(weight_cap))
    rows, cols = strength.shape
    offset = math.ceil(math.hypot(rows, cols))
    n_rho = 2 * offset + 1
    thetas = np.arange(-90, 91)
    sin_t, cos_t = np.sin(np.radians(thetas)), np.cos(np.radians(thetas))
    k = np.arange(-spread_deg, spread_deg + 1)
    t_idx = np.clip(np.rint(degrees).astype(np.intp)[None, :] + k[:, None] + 90, 0, thetas.size - 1)
    rho = np.rint(-xs * sin_t[t_idx] + ys * cos_t[t_idx]).astype(np.intp) + offset
    votes = np.bincount(
        (t_idx * n_rho + rho).ravel(), weights=np.tile(weights, k.size), minlength=thetas.size * n_rho
    )
    grid = votes.reshape(thetas.size, n_rho)
    allowed = (np.abs(thetas) >= lo) & (np.abs(thetas) <= hi)
    grid[~allowed] = 0.0
    cells = (t_idx * n_rho + rho).T  # (pixels, angles): the accumulator cells each pixel voted for
    return _peaks(
        grid,
        xs,
        ys,
        weights,
        offset,
        max_lines=max_lines,
        max_gap_px=max_gap_px,
        cells=cells,
        accept=accept,
        max_peaks=max(max_peaks, max_lines),
    )


def _quantile(values: FloatImage, q: float) -> float:
    """The ``q`` quantile of ``values``: the value of ``np.quantile(values, q)`` (linear interpolation, in
    the arithmetic of the array's type), from a partition at the two order statistics around it."""
    flat = values.ravel()
    n = flat.size
    virtual = (n - 1) * q
    lo = min(max(math.floor(virtual), 0), n - 1)
    hi = n - 1 if virtual >= n - 1 else min(lo + 1, n - 1)
    lo = hi if virtual >= n - 1 else lo
    part = np.partition(flat, (lo, hi))
    below, above = part[lo], part[hi]
    gamma = virtual - lo
    diff = above - below
    return float(above - diff * (1.0 - gamma) if gamma >= 0.5 else below + diff * gamma)


def _peaks(
    grid: NDArray[np.number],
    xs: NDArray[np.number],
    ys: NDArray[np.number],
    weights: NDArray[np.number],
    offset: int,
    *,
    max_lines: int,
    max_gap_px: float,
    cells: NDArray[np.number] | None = None,
    accept: Callable[[HoughLine], bool] | None = None,
    max_peaks: int = 24,
) -> list[HoughLine]:
    """The strongest accumulator peaks, with the extent of their supporting pixels.

    After a peak that ``accept`` rejects, the votes of the pixels of its supporting run are taken back
    (when ``cells`` gives the cells they voted for), so the chords of one curved structure (a bone
    surface) do not come back as further peaks.
    """
    found: list[HoughLine] = []
    flat = grid.reshape(-1)
    n_rho = grid.shape[1]
    alive = np.ones(xs.size, dtype=bool)
    x_neg, y_pos = -np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    distance = np.empty_like(y_pos)
    scratch = np.empty_like(y_pos)
    for _ in range(max_peaks):
        if len(found) >= max_lines:
            break
        peak = int(flat.argmax())
        t_idx, r_idx = divmod(peak, n_rho)
        if flat[peak] <= 0:
            break
        theta = math.radians(float(t_idx) - 90.0)
        rho = float(r_idx - offset)
        sin_t, cos_t = math.sin(theta), math.cos(theta)
        grid[max(0, t_idx - 4) : t_idx + 5, max(0, r_idx - 6) : r_idx + 7] = 0.0
        # the distance of every pixel from the line, as -x sin + y cos - rho, without temporaries
        np.multiply(x_neg, sin_t, out=distance)
        distance += np.multiply(y_pos, cos_t, out=scratch)
        distance -= rho
        np.abs(distance, out=distance)
        near = np.flatnonzero((distance <= 1.5) & alive)
        if near.size < 4:
            continue
        along = -x_neg[near] * cos_t + y_pos[near] * sin_t
        run = _best_run(along, weights[near], max_gap_px)
        if run is None:
            continue
        line = HoughLine(float(t_idx) - 90.0, rho, run[:2], run[2])
        if accept is None or accept(line):
            found.append(line)
        elif cells is not None:
            used = near[(along >= run[0] - 0.5) & (along <= run[1] + 0.5)]
            voted = np.asarray(cells[used], dtype=np.intp).ravel()
            np.subtract.at(flat, voted, np.repeat(weights[used], cells.shape[1]))
            np.maximum(flat, 0.0, out=flat)
            alive[used] = False
    found.sort(key=lambda line: -line.score)
    return found


def _best_run(
    along: NDArray[np.number], weights: NDArray[np.number], max_gap: float
) -> tuple[float, float, float] | None:
    """The run of positions (gaps up to ``max_gap``) with the largest summed weight: (start, end, weight)."""
    order = np.argsort(along)
    t, w = along[order], weights[order].astype(np.float64)
    breaks = np.flatnonzero(np.diff(t) > max_gap)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [t.size - 1]])
    sums = np.add.reduceat(w, starts)
    best = int(np.argmax(sums))
    if ends[best] - starts[best] < 3:
        return None
    return float(t[starts[best]]), float(t[ends[best]]), float(sums[best])
