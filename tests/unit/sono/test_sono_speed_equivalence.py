"""The fast numeric helpers of the guidance pipeline give what the NumPy routines they replace give."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.needle import _line_fit, _median, _nearest_index, _sample_mean, _segment
from painguide.sono.ridge import HoughLine, _best_run, _peaks, _quantile


@pytest.mark.parametrize("seed", range(20))
def test_line_fit_matches_polyfit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    x = rng.uniform(0.0, 60.0, n) + rng.uniform(-100.0, 100.0)
    z = rng.uniform(-3.0, 3.0) * x + rng.uniform(-50.0, 50.0) + rng.normal(0.0, rng.uniform(0.01, 2.0), n)
    w = rng.uniform(0.0, 40.0, n)
    a, b = _line_fit(x, z, w)
    ref_a, ref_b = np.polyfit(x, z, 1, w=np.sqrt(w))
    assert a == pytest.approx(float(ref_a), rel=1e-11, abs=1e-12)
    assert b == pytest.approx(float(ref_b), rel=1e-11, abs=1e-10)


def test_line_fit_weights_count() -> None:
    # a zero weight leaves its point out: the fit is the line through the other points
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    z = 2.0 * x + 1.0
    z[2] = 100.0
    w = np.array([1.0, 2.0, 0.0, 1.0, 3.0])
    a, b = _line_fit(x, z, w)
    assert (a, b) == pytest.approx((2.0, 1.0), abs=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 8, 101, 1000])
def test_median_is_numpy_median(n: int) -> None:
    rng = np.random.default_rng(n)
    for values in (rng.normal(size=n), np.round(rng.normal(size=n), 1), np.abs(rng.normal(size=n))):
        assert _median(values) == float(np.median(values))
        assert values.size == n  # the input is left alone
    pixels = rng.integers(0, 256, 2 * n, dtype=np.uint8)  # an even count of integers: no overflow
    assert _median(pixels) == float(np.median(pixels))


def test_median_of_nothing_is_nan_as_numpy() -> None:
    empty = np.arange(5.0)[np.arange(5.0) > 9.0]  # a selection that keeps nothing
    with pytest.warns(RuntimeWarning):
        expected = float(np.median(empty))
    assert math.isnan(expected) and math.isnan(_median(empty))


@pytest.mark.parametrize("seed", range(10))
def test_segment_is_linspace(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(50):
        start, stop = (float(v) for v in rng.uniform(-500.0, 500.0, 2))
        n = int(rng.integers(2, 800))
        assert np.array_equal(_segment(start, stop, n), np.linspace(start, stop, n))
    assert np.array_equal(_segment(3.25, 3.25, 9), np.linspace(3.25, 3.25, 9))
    assert np.array_equal(_segment(0.0, 9000.0, 5000), np.linspace(0.0, 9000.0, 5000))


def test_nearest_index_rounds_half_to_even_and_clips() -> None:
    values = np.array([-3.2, -0.5, 0.5, 1.5, 2.5, 8.7, 9.5, 12.0])
    expected = np.clip(np.rint(values).astype(np.intp), 0, 9)
    assert np.array_equal(_nearest_index(values, 10), expected)


def _sample_mean_reference(image: np.ndarray, p1: tuple[float, float], p2: tuple[float, float]) -> float:
    n = max(2, int(math.hypot(p2[0] - p1[0], p2[1] - p1[1])))
    cols = np.clip(np.rint(np.linspace(p1[0], p2[0], n)).astype(np.intp), 0, image.shape[1] - 1)
    rows = np.clip(np.rint(np.linspace(p1[1], p2[1], n)).astype(np.intp), 0, image.shape[0] - 1)
    return float(image[rows, cols].mean())


def test_sample_mean_matches_linspace_sampling() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (90, 120), dtype=np.uint8)
    for _ in range(300):
        p1 = (float(rng.uniform(-10, 130)), float(rng.uniform(-10, 100)))
        p2 = (float(rng.uniform(-10, 130)), float(rng.uniform(-10, 100)))
        assert _sample_mean(image, p1, p2) == _sample_mean_reference(image, p1, p2)


def _peaks_reference(
    grid: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    weights: np.ndarray,
    offset: int,
    cells: np.ndarray,
    accept: object,
) -> list[HoughLine]:
    """The accumulator peak search written plainly (a boolean mask over every pixel per peak)."""
    found: list[HoughLine] = []
    flat = grid.reshape(-1)
    alive = np.ones(xs.size, dtype=bool)
    for _ in range(24):
        if len(found) >= 3:
            break
        t_idx, r_idx = np.unravel_index(int(np.argmax(grid)), grid.shape)
        if grid[t_idx, r_idx] <= 0:
            break
        theta = math.radians(float(t_idx) - 90.0)
        rho = float(r_idx - offset)
        grid[max(0, t_idx - 4) : t_idx + 5, max(0, r_idx - 6) : r_idx + 7] = 0.0
        distance = -xs * math.sin(theta) + ys * math.cos(theta) - rho
        near = (np.abs(distance) <= 1.5) & alive
        if near.sum() < 4:
            continue
        along_all = xs * math.cos(theta) + ys * math.sin(theta)
        run = _best_run(along_all[near], weights[near], 8.0)
        if run is None:
            continue
        line = HoughLine(float(t_idx) - 90.0, rho, run[:2], run[2])
        if accept(line):  # type: ignore[operator]
            found.append(line)
        else:
            used = near & (along_all >= run[0] - 0.5) & (along_all <= run[1] + 0.5)
            np.subtract.at(flat, cells[used].ravel(), np.repeat(weights[used], cells.shape[1]))
            np.maximum(flat, 0.0, out=flat)
            alive &= ~used
    found.sort(key=lambda line: -line.score)
    return found


@pytest.mark.parametrize("seed", range(8))
def test_peaks_match_plain_search(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, cols = 120, 90
    # a few random segments of pixels plus scattered ones, each voting near its own angle
    xs_list, ys_list, deg_list = [], [], []
    for _ in range(6):
        angle = rng.uniform(-70.0, 70.0)
        x0, y0, length = rng.uniform(0, cols), rng.uniform(0, rows), rng.uniform(10, 60)
        t = np.arange(0.0, length, 0.7)
        x = np.rint(x0 + t * math.cos(math.radians(angle))).astype(np.intp)
        y = np.rint(y0 + t * math.sin(math.radians(angle))).astype(np.intp)
        inside = (x >= 0) & (x < cols) & (y >= 0) & (y < rows)
        xs_list.append(x[inside])
        ys_list.append(y[inside])
        deg_list.append(np.full(int(inside.sum()), angle))
    n_noise = 300
    xs_list.append(rng.integers(0, cols, n_noise))
    ys_list.append(rng.integers(0, rows, n_noise))
    deg_list.append(rng.uniform(-90.0, 90.0, n_noise))
    xs, ys, degrees = np.concatenate(xs_list), np.concatenate(ys_list), np.concatenate(deg_list)
    weights = rng.uniform(1.0, 4.0, xs.size).astype(np.float32)
    offset = math.ceil(math.hypot(rows, cols))
    n_rho = 2 * offset + 1
    thetas = np.arange(-90, 91)
    sin_t, cos_t = np.sin(np.radians(thetas)), np.cos(np.radians(thetas))
    k = np.arange(-2, 3)
    t_idx = np.clip(np.rint(degrees).astype(np.intp)[None, :] + k[:, None] + 90, 0, thetas.size - 1)
    rho = np.rint(-xs * sin_t[t_idx] + ys * cos_t[t_idx]).astype(np.intp) + offset
    votes = np.bincount(
        (t_idx * n_rho + rho).ravel(), weights=np.tile(weights, k.size), minlength=thetas.size * n_rho
    )
    cells = (t_idx * n_rho + rho).T

    def accept(line: HoughLine) -> bool:  # reject every other line, so that votes are taken back
        return int(line.rho) % 2 == 0

    new = _peaks(
        votes.reshape(thetas.size, n_rho).copy(),
        xs,
        ys,
        weights,
        offset,
        max_lines=3,
        max_gap_px=8.0,
        cells=cells,
        accept=accept,
    )
    old = _peaks_reference(votes.reshape(thetas.size, n_rho).copy(), xs, ys, weights, offset, cells, accept)
    assert new == old
    assert new  # the segments are found


@pytest.mark.parametrize("seed", range(10))
def test_quantile_is_numpy_quantile(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(100):
        n = int(rng.integers(1, 3000))
        values = (rng.gamma(0.5, 3.0, n) * (rng.random(n) < 0.7)).astype(np.float32)
        q = float(rng.choice([0.0, 0.1, 0.5, 0.9, 0.95, 1.0, float(rng.random())]))
        assert _quantile(values, q) == float(np.quantile(values, q))
    image = rng.random((41, 23)).astype(np.float32)
    assert _quantile(image[::2, ::2], 0.9) == float(np.quantile(image[::2, ::2], 0.9))
