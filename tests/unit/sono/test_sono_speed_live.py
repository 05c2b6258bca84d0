"""The faster registration and vessel helpers of the live pipeline give what the plain versions give."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.spread import ShiftEstimator, SpreadDetector, _packed_layout, _vertex
from painguide.sono.vessel import _polygon_area


def _shift_reference(
    reference: np.ndarray, image: np.ndarray, min_peak: float = 0.05
) -> tuple[float, float] | None:
    """Phase correlation written plainly with the full complex spectra (NumPy's FFT, double precision)."""
    rows, cols = reference.shape
    shape = (cv2.getOptimalDFTSize(rows), cv2.getOptimalDFTSize(cols))
    window = cv2.createHanningWindow((cols, rows), cv2.CV_32F).astype(np.float64)

    def spectrum(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        padded = np.zeros(shape)
        padded[:rows, :cols] = (x - x.mean()) * window
        return np.fft.fft2(padded)

    cross = spectrum(image) * np.conj(spectrum(reference))
    fy, fx = np.fft.fftfreq(shape[0]), np.fft.fftfreq(shape[1])
    lowpass = np.exp(-2.0 * math.pi**2 * (fy[:, None] ** 2 + fx[None, :] ** 2))
    surface = np.real(np.fft.ifft2(cross / (np.abs(cross) + 1e-6) * lowpass))
    py, px = np.unravel_index(int(np.argmax(surface)), surface.shape)
    peak = float(surface[py, px])
    if peak < min_peak:
        return None
    floor = 1e-3 * peak
    h, w = surface.shape
    dx = px + _vertex(surface[py, (px - 1) % w], peak, surface[py, (px + 1) % w], floor)
    dy = py + _vertex(surface[(py - 1) % h, px], peak, surface[(py + 1) % h, px], floor)
    return (dx - w if dx > w / 2 else dx), (dy - h if dy > h / 2 else dy)


@pytest.mark.parametrize("shape", [(145, 41), (64, 80), (63, 81), (30, 31), (144, 40)])
def test_shift_matches_complex_phase_correlation(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    for _ in range(8):
        ref = cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0), 1.5)
        d = rng.uniform(-4.0, 4.0, 2)
        move = np.array([[1.0, 0.0, d[0]], [0.0, 1.0, d[1]]])
        image = cv2.warpAffine(ref, move, shape[::-1], borderMode=cv2.BORDER_REFLECT)
        image += rng.normal(0.0, 0.02, shape).astype(np.float32)
        found, expected = ShiftEstimator(ref)(image), _shift_reference(ref, image)
        assert found is not None and expected is not None
        assert found == pytest.approx(expected, abs=1e-3)
        assert found == pytest.approx((d[0], d[1]), abs=0.3)


def test_shift_gives_none_for_unrelated_image() -> None:
    rng = np.random.default_rng(5)
    ref = cv2.GaussianBlur(rng.random((60, 50)).astype(np.float32), (0, 0), 1.0)
    other = cv2.GaussianBlur(rng.random((60, 50)).astype(np.float32), (0, 0), 1.0)
    assert ShiftEstimator(ref, min_peak=0.5)(other) is None
    assert _shift_reference(ref, other, min_peak=0.5) is None


@pytest.mark.parametrize("shape", [(6, 5), (6, 6), (7, 5), (7, 8), (150, 45), (16, 2)])
def test_packed_layout_matches_complex_spectrum(shape: tuple[int, int]) -> None:
    rows, cols = shape
    rng = np.random.default_rng(rows * 100 + cols)
    image = rng.random(shape).astype(np.float32)
    packed = cv2.dft(image).reshape(-1).astype(np.float64)
    full = np.fft.fft2(image.astype(np.float64))
    partner, real, (ky, kx) = _packed_layout(rows, cols)
    value = full[ky.reshape(-1), kx.reshape(-1)]
    # every entry is the real or the imaginary part of the full spectrum at its frequency ...
    is_real_part = np.isclose(packed, value.real, rtol=1e-4, atol=1e-4)
    is_imag_part = np.isclose(packed, value.imag, rtol=1e-4, atol=1e-4)
    assert np.all(is_real_part | is_imag_part)
    # ... with its partner the other part, so that together they give the modulus
    modulus = np.hypot(packed, np.where(np.isin(np.arange(packed.size), real), 0.0, packed[partner]))
    assert np.allclose(modulus, np.abs(value), rtol=1e-4, atol=1e-3)
    assert np.allclose(np.abs(value[real].imag), 0.0, atol=1e-4)
    assert np.array_equal(partner[partner], np.arange(rows * cols))


def test_coarse_is_the_block_mean() -> None:
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (91, 67), dtype=np.uint8)
    detector = SpreadDetector(work_spacing_mm=0.25, register_spacing_mm=0.5)
    coarse = detector._coarse(image)
    blocks = image[:90, :66].astype(np.float64).reshape(45, 2, 33, 2).mean(axis=(1, 3))
    assert coarse.shape == (45, 33)
    assert np.allclose(coarse, blocks, atol=1e-4)


def test_vertex_is_clipped_parabola() -> None:
    rng = np.random.default_rng(4)
    for _ in range(500):
        before, centre, after = (float(v) for v in rng.uniform(0.0, 1.0, 3))
        logs = [math.log(max(v, 1e-3)) for v in (before, centre, after)]
        curvature = logs[0] - 2.0 * logs[1] + logs[2]
        expected = 0.0 if curvature >= 0 else float(np.clip(0.5 * (logs[0] - logs[2]) / curvature, -0.5, 0.5))
        assert _vertex(before, centre, after, 1e-3) == expected


def test_polygon_area_is_the_shoelace_with_roll() -> None:
    rng = np.random.default_rng(6)
    for n in (3, 4, 17, 200):
        outline = rng.uniform(-20.0, 20.0, (n, 2))
        xs, zs = outline[:, 0], outline[:, 1]
        expected = 0.5 * abs(float(np.dot(xs, np.roll(zs, 1)) - np.dot(zs, np.roll(xs, 1))))
        assert _polygon_area(outline) == expected
