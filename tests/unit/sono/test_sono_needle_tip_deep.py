"""The tip of a steep shaft found only over its bright shallow part: its fainter deep part is followed on."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleTracker, ShaftCandidate

SPACING_MM = 0.07
ROWS, COLS = 600, 480
ANGLE_DEG = 55.0
ENTRY = np.array([0.5, 1.0])  # x, z in mm: the shaft enters from the left under the probe
BRIGHT_MM = 6.0
"""Length of the bright shallow part of the shaft."""


def _scene(seed: int, *, tip_along_mm: float, reverberation: float) -> Frame:
    """Speckled tissue crossed by a steep straight shaft ending ``tip_along_mm`` along its line.

    Over its first :data:`BRIGHT_MM` the shaft stands 90 grey levels above the tissue, beyond that 60
    (a deep shaft that sends less echo back). Under the deep part lies a reverberation line 0.25 mm
    below the shaft, ``reverberation`` times as bright, which moves the peak of the cross-profile there
    0.2 mm off the shaft's line.
    """
    rng = np.random.default_rng(seed)
    z = np.arange(ROWS)[:, None] * SPACING_MM
    x = np.arange(COLS)[None, :] * SPACING_MM
    speckle = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)), (0, 0), sigmaX=5.0, sigmaY=2.0)
    speckle *= 12.0 / float(speckle.std())
    theta = math.radians(ANGLE_DEG)
    d = np.array([math.cos(theta), math.sin(theta)])
    along = (x - ENTRY[0]) * d[0] + (z - ENTRY[1]) * d[1]
    below = -(x - ENTRY[0]) * d[1] + (z - ENTRY[1]) * d[0]  # positive below the shaft
    ends = 0.5 * (1.0 - np.tanh((along - tip_along_mm) / 0.1))
    deep = along > BRIGHT_MM
    shaft = np.exp(-0.5 * (below / 0.15) ** 2)
    echo = shaft + np.where(deep, reverberation * np.exp(-0.5 * ((below - 0.25) / 0.15) ** 2), 0.0)
    excess = np.where(deep, 60.0, 90.0)
    pixels = np.clip(100.0 + speckle + excess * echo * ends, 0, 255).astype(np.uint8)
    return Frame(pixels, SPACING_MM, SPACING_MM, 0.0)


def _shallow_part(tip_along_mm: float = BRIGHT_MM) -> ShaftCandidate:
    """The shaft of the scene as a tracked search finds it: only up to ``tip_along_mm``."""
    theta = math.radians(ANGLE_DEG)
    tip = ENTRY + tip_along_mm * np.array([math.cos(theta), math.sin(theta)])
    return ShaftCandidate(
        float(ENTRY[0]), float(ENTRY[1]), float(tip[0]), float(tip[1]), ANGLE_DEG, 3.0, 0.05
    )


def _reported_error_mm(frame: Frame, tip_along_mm: float) -> float:
    """Distance of the reported tip (the shallow part carried on along its ridge) from the true tip."""
    shown = NeedleTracker()._report(frame, _shallow_part(), consistent=False)
    theta = math.radians(ANGLE_DEG)
    truth = ENTRY + tip_along_mm * np.array([math.cos(theta), math.sin(theta)])
    return math.hypot(shown.tip_x_mm - truth[0], shown.tip_z_mm - truth[1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_deep_part_whose_ridge_peaks_beside_the_line_is_followed(seed: int) -> None:
    # 8 mm of faint shaft beyond the bright part, its cross-profile peaking 0.2 mm below the line
    tip_along = BRIGHT_MM + 8.0
    frame = _scene(seed, tip_along_mm=tip_along, reverberation=1.0)
    assert _reported_error_mm(frame, tip_along) < 0.5


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_long_deep_part_is_followed_to_its_tip(seed: int) -> None:
    # 24 mm of faint shaft beyond the bright part, peaking on the line
    tip_along = BRIGHT_MM + 24.0
    frame = _scene(seed, tip_along_mm=tip_along, reverberation=0.0)
    assert _reported_error_mm(frame, tip_along) < 0.5


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_shaft_ending_in_speckle_is_not_carried_on(seed: int) -> None:
    # the shaft ends with its bright part: the speckle lined up with it beyond is no shaft
    frame = _scene(seed, tip_along_mm=BRIGHT_MM, reverberation=1.0)
    assert _reported_error_mm(frame, BRIGHT_MM) < 0.5
