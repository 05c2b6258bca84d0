"""The band-row test reads every tilt's segments in one pass and decides as one pass per tilt and side."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import (
    BAND_FRACTION,
    BAND_TILTS,
    _band_rows,
    _Line,
    _oriented,
    _segment_excess,
)


def _per_tilt(frame: Frame, line: _Line, s: np.ndarray, across: np.ndarray, length: float, excess: float):
    """The rule as written out: each tilt, each side, one read of the image."""
    dx, dz = float(line.direction[0]), float(line.direction[1])
    nx, nz = (-dz, dx) if -dx > 0 else (dz, -dx)
    points = np.stack([line.point[0] + s * dx + across * nx, line.point[1] + s * dz + across * nz], axis=1)
    m = points.shape[0]
    reach = 1.0 + 0.5 * length
    best = np.full(m, -np.inf)
    for slope in BAND_TILTS:
        d = np.array([1.0, slope]) / math.hypot(1.0, slope)
        normal = np.tile([-d[1], d[0]], (m, 1))
        crossing = -across / (d[0] * nx + d[1] * nz)
        sides = [
            _segment_excess(
                frame,
                points + (crossing + sign * reach)[:, None] * d,
                np.tile(d, (m, 1)),
                normal,
                0.5 * length,
            )
            for sign in (-1.0, 1.0)
        ]
        best = np.maximum(best, np.minimum(sides[0], sides[1]))
    return best, best >= BAND_FRACTION * excess


def _banded(seed: int) -> Frame:
    """Speckle with a few near-horizontal bright bands and a steep bright line."""
    rng = np.random.default_rng(seed)
    pixels = rng.gamma(2.0, 25.0, (400, 500))
    for row in rng.integers(40, 360, 4):
        tilt = rng.uniform(-0.06, 0.06)
        for col in range(500):
            r = int(row + tilt * col)
            pixels[max(r - 2, 0) : r + 3, col] += 90.0
    return Frame(np.clip(pixels, 0, 255).astype(np.uint8), 0.1, 0.08, 0.0, 0)


@pytest.mark.parametrize("seed", range(6))
def test_band_rows_as_per_tilt(seed: int) -> None:
    frame = _banded(seed)
    rng = np.random.default_rng(100 + seed)
    theta = math.radians(rng.uniform(20.0, 70.0))
    line = _Line(
        np.array([rng.uniform(5.0, 15.0), rng.uniform(2.0, 8.0)]), _oriented(math.cos(theta), math.sin(theta))
    )
    s = np.sort(rng.uniform(5.0, 30.0, 40))
    across = rng.choice([-0.6, -0.2, 0.0, 0.2, 0.6, 1.0], 40)
    length = float(rng.uniform(2.0, 8.0))
    best, _ = _per_tilt(frame, line, s, across, length, 1.0)
    # the shaft's excess set so that the rule sits at the points' median: half are band rows, half not
    excess = float(np.median(best)) / BAND_FRACTION
    _, expected = _per_tilt(frame, line, s, across, length, excess)
    assert 0 < int(expected.sum()) < expected.size
    assert np.array_equal(_band_rows(frame, line, s, across, length, excess), expected)
