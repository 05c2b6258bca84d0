"""Tip along the ridge: a short last stretch of shaft beyond a break in its ridge still carries the tip."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import ShaftCandidate, _ridge_tip

SPACING_MM = 0.1
ANGLE_DEG = 57.0
START_MM = (4.0, 2.0)
BREAK_MM = 25.0
"""Arc length where the shaft's ridge breaks (the end a whole-shaft threshold finds)."""
GAP_MM = 0.4


def _frame(seed: int, after_mm: float) -> Frame:
    """Speckle-like tissue with a bright shaft that breaks for :data:`GAP_MM` and goes on ``after_mm``."""
    rng = np.random.default_rng(seed)
    tissue = cv2.GaussianBlur(rng.normal(0.0, 1.0, (400, 400)), (0, 0), 1.2)
    image = 60.0 + 8.0 * tissue / tissue.std()
    rows, cols = np.mgrid[0:400, 0:400] * SPACING_MM
    theta = math.radians(ANGLE_DEG)
    d = np.array([math.cos(theta), math.sin(theta)])
    along = (cols - START_MM[0]) * d[0] + (rows - START_MM[1]) * d[1]
    across = -(cols - START_MM[0]) * d[1] + (rows - START_MM[1]) * d[0]
    on = ((along >= 0.0) & (along <= BREAK_MM)) | (
        (along >= BREAK_MM + GAP_MM) & (along <= BREAK_MM + GAP_MM + after_mm)
    )
    image += 70.0 * np.exp(-0.5 * (across / 0.15) ** 2) * on
    pixels = np.clip(cv2.GaussianBlur(image, (0, 0), 1.0), 0, 255).astype(np.uint8)
    return Frame(pixels, SPACING_MM, SPACING_MM, 0.0, 0)


def _shaft(length_mm: float) -> ShaftCandidate:
    theta = math.radians(ANGLE_DEG)
    tip = (START_MM[0] + length_mm * math.cos(theta), START_MM[1] + length_mm * math.sin(theta))
    return ShaftCandidate(START_MM[0], START_MM[1], tip[0], tip[1], ANGLE_DEG, 3.0, 0.05)


def _reach(frame: Frame) -> float:
    """Arc length of the ridge tip from the shaft's start (the break when the tip is not carried on)."""
    tip = _ridge_tip(frame, _shaft(BREAK_MM))
    if tip is None:
        return BREAK_MM
    return math.hypot(tip[0] - START_MM[0], tip[1] - START_MM[1])


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_short_stretch_beyond_a_break_carries_the_tip(seed: int) -> None:
    """1.8 mm of shaft beyond a 0.4 mm break (2.2 mm in all): the tip is carried to its end, not left at the
    break (the last millimetre of a deep needle beyond a bright layer it crossed)."""
    true_end = BREAK_MM + GAP_MM + 1.8
    assert abs(_reach(_frame(seed, 1.8)) - true_end) < 0.7


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_a_speck_beyond_the_tip_does_not_carry_it(seed: int) -> None:
    """0.5 mm of bright speck beyond a 0.4 mm break is no shaft: the tip stays."""
    assert _reach(_frame(seed, 0.5)) == BREAK_MM
