"""The working image in two passes is OpenCV's area resize in one, bit for bit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from painguide.sono.ridge import _area_by_rows, working_image


def _one_pass(pixels: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    return np.asarray(cv2.resize(pixels, None, fx=scale[0], fy=scale[1], interpolation=cv2.INTER_AREA))


@pytest.mark.parametrize("seed", range(12))
def test_working_image_is_the_area_resize(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(40, 500)), int(rng.integers(40, 700))
    speckle = rng.gamma(1.5, 40.0, (rows, cols))
    pixels = np.clip(cv2.GaussianBlur(speckle, (0, 0), float(rng.uniform(0.5, 2.0))), 0, 255).astype(np.uint8)
    pixels[rng.random((rows, cols)) < 0.01] = 255  # saturated and black pixels too
    pixels[rng.random((rows, cols)) < 0.01] = 0
    for _ in range(8):
        scale = (float(rng.uniform(0.15, 0.95)), float(rng.uniform(0.15, 0.95)))
        assert _area_by_rows(scale[0]) and _area_by_rows(scale[1])
        out = working_image(pixels, scale)
        assert out.dtype == np.uint8
        assert np.array_equal(out, _one_pass(pixels, scale))


@pytest.mark.parametrize(
    "scale",
    [
        (0.06458572322051429 / 0.25, 0.15145604045175365 / 0.25),  # a probe preset of the live benchmark
        (0.5, 0.6),  # a whole factor across: OpenCV's general path, done in one pass here
        (0.25, 0.5),  # whole factors both ways: OpenCV's fast path
        (0.3, 1.0),
        (1.25, 0.7),  # enlarged across
        (1.0, 1.0),
    ],
)
def test_working_image_other_factors(scale: tuple[float, float]) -> None:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (480, 640), dtype=np.uint8)
    assert np.array_equal(working_image(pixels, scale), _one_pass(pixels, scale))


def test_area_by_rows_only_for_fractional_reductions() -> None:
    assert _area_by_rows(0.6) and _area_by_rows(0.2583)
    assert not any(_area_by_rows(f) for f in (0.5, 0.25, 1 / 3, 1.0, 1.5, 0.0, -0.5))
