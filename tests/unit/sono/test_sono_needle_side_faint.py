"""A long, straight, faint shaft found only by the side vote meets the faint rule, as from the main vote."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, ShaftCandidate

WIDTH_MM = 45.0


def _frame() -> Frame:
    return Frame(np.zeros((400, 450), dtype=np.uint8), 0.1, 0.1, 0.0, 0)


def _shaft(length_mm: float, contrast: float, residual_mm: float, angle_deg: float = -60.0) -> ShaftCandidate:
    """A shaft entering from the right side at 10 mm depth, going deeper to the left."""
    t = math.radians(abs(angle_deg))
    start = (WIDTH_MM - 0.5, 10.0)
    tip = (start[0] - length_mm * math.cos(t), start[1] + length_mm * math.sin(t))
    return ShaftCandidate(*start, *tip, angle_deg, contrast, residual_mm)


@pytest.mark.parametrize("contrast", [0.9, 1.2, 1.6])
def test_long_straight_faint_side_shaft_passes(contrast: float) -> None:
    detector = NeedleDetector()
    shaft = _shaft(14.0, contrast, 0.08)
    assert detector.faint(shaft)
    assert detector._side_shaft(shaft, _frame())


@pytest.mark.parametrize(
    ("length_mm", "residual_mm"),
    [(5.0, 0.08), (14.0, 0.16)],  # too short, or not straight enough, for the faint rule
)
def test_side_shaft_outside_the_faint_rule_still_needs_the_side_contrast(
    length_mm: float, residual_mm: float
) -> None:
    detector = NeedleDetector()
    shaft = _shaft(length_mm, 1.2, residual_mm)
    assert not detector.faint(shaft)
    assert not detector._side_shaft(shaft, _frame())
    assert detector._side_shaft(_shaft(length_mm, 2.1, residual_mm), _frame())


def test_faint_side_shaft_below_the_faint_contrast_fails() -> None:
    assert not NeedleDetector()._side_shaft(_shaft(14.0, 0.7, 0.08), _frame())


def test_fainter_straight_shaft_at_the_side_is_returned_as_just_entered() -> None:
    """Below the faint contrast, a long straight shaft that begins at the side it enters from is kept as
    just entered (confirmed only as it grows); away from the side, fainter still, or curved, it is not."""
    detector = NeedleDetector()
    frame = _frame()
    assert detector._entering_faint(_shaft(10.0, 0.6, 0.08), frame)
    assert not detector._entering_faint(_shaft(10.0, 0.4, 0.08), frame)
    assert not detector._entering_faint(_shaft(10.0, 0.6, 0.2), frame)
    assert not detector._entering_faint(_shaft(10.0, 1.0, 0.08), frame)  # meets the faint rule itself
    away = ShaftCandidate(30.0, 10.0, 25.0, 18.66, -60.0, 0.6, 0.08)  # begins 15 mm from the right side
    assert not detector._entering_faint(away, frame)
