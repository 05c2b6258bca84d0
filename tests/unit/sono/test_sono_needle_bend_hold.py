"""A tip reported past a bend is kept when the detection loses the part beyond the bend of a still needle
(``hold_bend``), and not when the needle was drawn back from there."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.unit.sono.test_sono_needle_bend import _along, _drawn

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleTracker, ShaftCandidate, _oriented

START, ANGLE_DEG, BEND_MM, DISTAL_MM = (1.0, 6.0), 20.0, 22.0, 8.0


def _needle(turn_deg: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The bend and the tip of a needle deflected by ``turn_deg`` at :data:`BEND_MM`."""
    bend = _along(START, ANGLE_DEG, BEND_MM)
    return bend, _along(bend, ANGLE_DEG + turn_deg, DISTAL_MM)


def _tracker(
    before: Frame, tip: tuple[float, float], turn_deg: float, *, advanced_mm: float = 5.0, **options: bool
) -> NeedleTracker:
    """A tracker that reported ``tip``, past the bend, on ``before``: a detected tip, not one the report
    placed, reached by advancing ``advanced_mm`` past the bend."""
    tracker = NeedleTracker(**options)
    theta = math.radians(ANGLE_DEG + turn_deg)
    tracker._shown_tip, tracker._shown_frame, tracker._detected_tip = tip, before, tip
    tracker._bend_direction = _oriented(math.cos(theta), math.sin(theta))
    tracker._bend_advanced_mm = advanced_mm
    tracker._recent = [tip] * 3
    return tracker


def _at_bend() -> ShaftCandidate:
    """This frame's detection: the straight shaft up to the bend, the part beyond it lost."""
    return ShaftCandidate(*START, *_needle(0.0)[0], ANGLE_DEG, 6.0, 0.05)


@pytest.mark.parametrize("turn_deg", [-8.0, 7.0])
@pytest.mark.parametrize("seed", [3, 4])
def test_tip_past_a_bend_of_a_still_needle_is_kept(turn_deg: float, seed: int) -> None:
    bend, tip = _needle(turn_deg)
    frame = _drawn([[START, bend, tip]], seed=seed)  # the same image in both frames: a still needle
    shown = _tracker(frame, tip, turn_deg)._report(frame, _at_bend(), consistent=True)
    assert math.dist((shown.tip_x_mm, shown.tip_z_mm), tip) < 0.1
    without = _tracker(frame, tip, turn_deg, hold_bend=False)._report(frame, _at_bend(), consistent=True)
    assert math.dist((without.tip_x_mm, without.tip_z_mm), tip) > 4.0  # the fault: back near the bend


@pytest.mark.parametrize("seed", [3, 4])
def test_tip_past_a_bend_is_not_kept_when_the_needle_was_drawn_back(seed: int) -> None:
    bend, tip = _needle(7.0)
    before = _drawn([[START, bend, tip]], seed=seed)
    now = _drawn([[START, bend]], seed=seed)  # the part past the bend is gone
    shown = _tracker(before, tip, 7.0)._report(now, _at_bend(), consistent=True)
    assert math.dist((shown.tip_x_mm, shown.tip_z_mm), bend) < 1.0


def test_a_part_past_a_bend_not_seen_advancing_is_not_kept() -> None:
    """A detection that ran on at another angle beyond a still needle's tip appears at once; it is not
    kept once lost (development `baseline` 614)."""
    bend, tip = _needle(7.0)
    frame = _drawn([[START, bend, tip]], seed=3)
    shown = _tracker(frame, tip, 7.0, advanced_mm=0.6)._report(frame, _at_bend(), consistent=True)
    assert math.dist((shown.tip_x_mm, shown.tip_z_mm), tip) > 4.0


def test_the_advance_past_a_bend_is_counted_report_by_report() -> None:
    """Only reports with a distal part count, and only the tip's steps on along it."""
    bend, _ = _needle(7.0)
    frame = _drawn([[START, bend]], seed=3)
    theta = math.radians(ANGLE_DEG + 7.0)
    direction = np.array([math.cos(theta), math.sin(theta)])

    def report(along_mm: float, *, distal: bool = True) -> None:
        x, z = (np.array(bend) + along_mm * direction).tolist()
        angle = ANGLE_DEG + 7.0 if distal else math.nan
        past = ShaftCandidate(*START, x, z, ANGLE_DEG, 6.0, 0.05, distal_angle_deg=angle)
        tracker._remember_report(frame, past, past, placed=False, moved=False, held=False)

    tracker = NeedleTracker()
    for along in (1.0, 2.0, 3.5, 3.0):  # first seen past the bend, then on 1 and 1.5 mm, then back
        report(along)
    assert tracker._bend_advanced_mm == pytest.approx(2.5, abs=1e-6)
    report(0.0, distal=False)  # the part past the bend lost, and not kept: the count starts again
    assert tracker._bend_direction is None
    report(4.0)
    assert tracker._bend_advanced_mm == 0.0


def test_tip_is_not_kept_off_the_distal_line() -> None:
    """A detection that ends beside the distal line of the tip before is another shaft's end."""
    bend, tip = _needle(7.0)
    frame = _drawn([[START, bend, tip]], seed=3)
    tracker = _tracker(frame, tip, 7.0)
    tracker._bend_direction = np.array([1.0, 0.0])  # a distal line that does not pass this detection's end
    shown = tracker._report(frame, _at_bend(), consistent=True)
    assert math.dist((shown.tip_x_mm, shown.tip_z_mm), tip) > 4.0
