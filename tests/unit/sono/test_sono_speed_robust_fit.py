"""The needle's robust line fit stops once a round leaves no point out: the result of all three rounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.needle import _line_fit, _median, _robust_fit


def _three_rounds(x: np.ndarray, z: np.ndarray, w: np.ndarray) -> tuple | None:
    """The fit as it was: always three rounds of outlier rejection."""
    keep = w > 0
    a = b = 0.0
    for _ in range(3):
        if np.count_nonzero(keep) < 5:
            return None
        a, b = _line_fit(x[keep], z[keep], w[keep])
        res = np.abs(z - (a * x + b))
        mad = _median(res[keep]) * 1.4826
        keep &= res <= max(3.0 * mad, 0.15)
    if np.count_nonzero(keep) < 5:
        return None
    res = z[keep] - (a * x[keep] + b)
    return a, b, math.sqrt(float(np.add.reduce(res * res)) / res.size), keep


@pytest.mark.parametrize("seed", range(30))
def test_robust_fit_is_the_three_round_fit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    fitted = 0
    for _ in range(40):
        n = int(rng.integers(3, 400))
        x = np.sort(rng.uniform(0.0, 60.0, n))
        z = rng.uniform(-1.5, 1.5) * x + rng.uniform(0.0, 40.0) + rng.normal(0.0, rng.uniform(0.005, 0.3), n)
        outliers = rng.random(n) < rng.uniform(0.0, 0.4)  # none, a few or many points off the line
        z[outliers] += rng.normal(0.0, rng.uniform(0.2, 5.0), int(outliers.sum()))
        w = np.maximum(rng.normal(20.0, 15.0, n), 0.0)  # some points without weight
        if rng.random() < 0.2:
            z = np.round(z, 1)  # ties among the residuals
        got, want = _robust_fit(x, z, w), _three_rounds(x, z, w)
        assert (got is None) == (want is None)
        if got is not None and want is not None:
            assert got[:3] == want[:3]
            assert np.array_equal(got[3], want[3])
            fitted += 1
    assert fitted > 0


def test_robust_fit_on_a_clean_line_stops_after_one_round() -> None:
    # no point leaves in the first round, so the later rounds would fit the same points again
    x = np.linspace(0.0, 30.0, 50)
    z = 0.4 * x + 3.0 + np.where(np.arange(50) % 2, 0.01, -0.01)
    w = np.full(50, 10.0)
    got, want = _robust_fit(x, z, w), _three_rounds(x, z, w)
    assert got is not None and want is not None
    assert got[:3] == want[:3] and bool(got[3].all())
