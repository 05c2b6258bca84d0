"""The reported tip of a shaft whose end the beam smears: a wider end fit moves only the report."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import (
    _END_WIDE_MODELS,
    NeedleDetector,
    NeedleTracker,
    _fit_end,
)

from .shaft_scene import speckled_line_mm

SPACING_MM = 0.07
ROWS, COLS = 600, 480
ANGLE_DEG = 50.0
ENTRY = np.array([0.5, 1.0])  # x, z in mm: the shaft enters from the left under the probe
TIP_ALONG_MM = 22.0
SMEAR_MM = 0.8
"""Blur of the shaft's end along its line: wider than the narrow end fit tries (up to 0.45 mm)."""


def _end_profile(s: np.ndarray, end_mm: float, sigma_mm: float, bevel: float) -> np.ndarray:
    x = (s - end_mm) / sigma_mm
    edge = np.array([0.5 * math.erfc(v / math.sqrt(2.0)) for v in x])
    return 100.0 + 50.0 * edge + bevel * np.exp(-0.5 * x * x)


@pytest.mark.parametrize("bevel", [40.0, 80.0])
def test_wide_end_fit_finds_a_smeared_end_the_narrow_one_leaves_beyond_it(bevel: float) -> None:
    s = np.arange(0.0, 30.0, 0.1)
    profile = _end_profile(s, 20.0, SMEAR_MM, bevel)
    half = float(s[np.flatnonzero(profile >= 125.0)[-1]])  # the half-contrast crossing
    narrow = _fit_end(s, profile, half, 50.0)
    wide = _fit_end(s, profile, half, 50.0, models=_END_WIDE_MODELS)
    assert narrow is not None and wide is not None
    assert abs(wide - 20.0) <= 0.1
    assert narrow - 20.0 >= 0.5  # the narrow fit cannot reach back that far


def _scene(seed: int) -> Frame:
    """Speckled tissue crossed by a steep shaft whose end and bevel echo are smeared by :data:`SMEAR_MM`."""
    _, _, along, below, speckle = speckled_line_mm(seed, (ROWS, COLS), SPACING_MM, ENTRY, ANGLE_DEG)
    u = (along - TIP_ALONG_MM) / SMEAR_MM
    ends = np.vectorize(lambda v: 0.5 * math.erfc(v / math.sqrt(2.0)))(u) + 0.8 * np.exp(-0.5 * u * u)
    shaft = np.exp(-0.5 * (below / 0.15) ** 2)
    pixels = np.clip(100.0 + speckle + 80.0 * shaft * ends, 0, 255).astype(np.uint8)
    return Frame(pixels, SPACING_MM, SPACING_MM, 0.0)


def _error_mm(x_mm: float, z_mm: float) -> float:
    theta = math.radians(ANGLE_DEG)
    truth = ENTRY + TIP_ALONG_MM * np.array([math.cos(theta), math.sin(theta)])
    return math.hypot(x_mm - truth[0], z_mm - truth[1])


def test_reported_tip_moves_back_to_a_smeared_end_and_the_detected_one_does_not() -> None:
    detected_errors, shown_errors = [], []
    for seed in range(1, 7):
        frame = _scene(seed)
        found = NeedleDetector()(frame)
        assert found
        detected = found[0]
        shown = NeedleTracker()._report(frame, detected, consistent=False)
        # only the tip of the report moves: along the shaft, back by the wider fit's distance
        assert (shown.start_x_mm, shown.start_z_mm, shown.angle_deg) == (
            detected.start_x_mm,
            detected.start_z_mm,
            detected.angle_deg,
        )
        moved = math.hypot(shown.tip_x_mm - detected.tip_x_mm, shown.tip_z_mm - detected.tip_z_mm)
        assert moved == pytest.approx(detected.end_back_mm, abs=1e-9)
        detected_errors.append(_error_mm(detected.tip_x_mm, detected.tip_z_mm))
        shown_errors.append(_error_mm(shown.tip_x_mm, shown.tip_z_mm))
    assert max(shown_errors) < 0.4
    assert float(np.mean(shown_errors)) < 0.3
    assert float(np.mean(detected_errors)) - float(np.mean(shown_errors)) >= 0.15
