"""The tip of an advancing needle is held to where the image changed: speckle beyond it stays put."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleTracker, ShaftCandidate, _advance_seen

from .shaft_scene import speckled_line_mm

SPACING_MM = 0.07
ROWS, COLS = 400, 520
ANGLE_DEG = 40.0
ENTRY = np.array([0.5, 1.0])  # x, z in mm: the shaft enters from the left under the probe
DIRECTION = np.array([math.cos(math.radians(ANGLE_DEG)), math.sin(math.radians(ANGLE_DEG))])
TIP_MM = 16.0  # along the line from ENTRY, in the later frame
STEP_MM = 2.0  # the needle's advance between the two frames
STREAK_MM = (0.8, 4.0)  # bright speckle lined up with the shaft beyond the tip, from the later tip


def _frame(seed: int, tip_along_mm: float, index: int) -> Frame:
    """Static speckled tissue with a bright streak on the line beyond :data:`TIP_MM`, and the shaft up to
    ``tip_along_mm`` with the echo of its bevel there (blurred by the beam)."""
    # the same tissue in every frame of a seed
    shape = (ROWS, COLS)
    _, _, along, across, speckle = speckled_line_mm(seed, shape, SPACING_MM, ENTRY, ANGLE_DEG, rms=12.0)
    line = np.exp(-0.5 * (across / 0.12) ** 2)
    shaft = line * 0.5 * (1.0 - np.tanh((along - tip_along_mm) / 0.1))
    lo, hi = TIP_MM + STREAK_MM[0], TIP_MM + STREAK_MM[1]
    streak = line * 0.25 * (1.0 + np.tanh((along - lo) / 0.1)) * (1.0 - np.tanh((along - hi) / 0.1))
    bevel = np.exp(-0.5 * ((along - tip_along_mm) / 0.3) ** 2 - 0.5 * (across / 0.2) ** 2)
    pixels = np.clip(110.0 + speckle + 40.0 * (shaft + streak + bevel), 0, 255).astype(np.uint8)
    return Frame(pixels, SPACING_MM, SPACING_MM, index / 30.0, index)


def _shaft(tip_along_mm: float) -> ShaftCandidate:
    tip = ENTRY + tip_along_mm * DIRECTION
    start_x, start_z = float(ENTRY[0]), float(ENTRY[1])
    return ShaftCandidate(start_x, start_z, float(tip[0]), float(tip[1]), ANGLE_DEG, 3.0, 0.05)


def _along(point: tuple[float, float]) -> float:
    return float(np.dot(np.asarray(point) - ENTRY, DIRECTION))


def _point(along_mm: float) -> tuple[float, float]:
    p = ENTRY + along_mm * DIRECTION
    return float(p[0]), float(p[1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tip_carried_into_speckle_beyond_an_advancing_needle_is_drawn_back(seed: int) -> None:
    before, now = _frame(seed, TIP_MM - STEP_MM, 0), _frame(seed, TIP_MM, 1)
    reported = TIP_MM + STREAK_MM[1]  # the half-contrast end ran on along the streak
    drawn = _advance_seen(now, before, _shaft(reported), _point(TIP_MM - STEP_MM))
    assert drawn is not None
    assert abs(_along(drawn) - TIP_MM) < 0.5


@pytest.mark.parametrize("seed", [4, 5])
def test_tip_of_an_advancing_needle_reported_where_it_is_stays(seed: int) -> None:
    before, now = _frame(seed, TIP_MM - STEP_MM, 0), _frame(seed, TIP_MM, 1)
    assert _advance_seen(now, before, _shaft(TIP_MM), _point(TIP_MM - STEP_MM)) is None


@pytest.mark.parametrize("seed", [6, 7])
def test_still_needle_keeps_its_tip_when_the_report_runs_on(seed: int) -> None:
    before, now = _frame(seed, TIP_MM, 0), _frame(seed, TIP_MM, 1)
    kept = _advance_seen(now, before, _shaft(TIP_MM + 1.5), _point(TIP_MM))
    assert kept is not None
    assert abs(_along(kept) - TIP_MM) < 1e-6


@pytest.mark.parametrize("seed", [6, 7])
def test_still_needle_does_not_keep_a_tip_that_the_image_change_never_placed(seed: int) -> None:
    # the earlier tip was only a detection (it may have been short): the longer one now is not undone
    before, now = _frame(seed, TIP_MM, 0), _frame(seed, TIP_MM, 1)
    assert _advance_seen(now, before, _shaft(TIP_MM + 1.5), _point(TIP_MM), hold=False) is None


def test_long_advance_over_an_unchanged_image_is_left_alone() -> None:
    # a shaft found much further on in the same image is a better detection, not a needle that moved
    before, now = _frame(8, TIP_MM, 0), _frame(8, TIP_MM, 1)
    assert _advance_seen(now, before, _shaft(TIP_MM + 6.0), _point(TIP_MM)) is None


@pytest.mark.parametrize("seed", [9, 10])
def test_probe_moved_between_the_frames_leaves_the_tip_alone(seed: int) -> None:
    # the whole image moved by 3 pixels (0.2 mm): the change along the line tells nothing about the needle
    before, now = _frame(seed, TIP_MM - STEP_MM, 0), _frame(seed, TIP_MM, 1)
    shifted = Frame(np.roll(before.pixels, 3, axis=0), SPACING_MM, SPACING_MM, 0.0, 0)
    reported = TIP_MM + STREAK_MM[1]
    assert _advance_seen(now, shifted, _shaft(reported), _point(TIP_MM - STEP_MM)) is None


@pytest.mark.parametrize("before", [(1e13, 1e13), (-5e12, 3.0), (math.inf, 2.0), (math.nan, 1.0)])
def test_an_earlier_tip_no_needle_could_reach_is_not_compared(before: tuple[float, float]) -> None:
    """A step longer than the image's diagonal (or not finite) is no advance: nothing is sampled for it."""
    previous, now = _frame(1, TIP_MM - STEP_MM, 0), _frame(1, TIP_MM, 1)
    assert _advance_seen(now, previous, _shaft(TIP_MM), before) is None


def test_a_ridge_tip_outside_the_image_is_not_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reported tip stays the detected one when the ridge would carry it out of the image."""
    monkeypatch.setattr("painguide.sono.needle._ridge_tip", lambda frame, shaft, **_: (1e13, 1e13))
    tracker = NeedleTracker()
    shaft = _shaft(TIP_MM)
    shown = tracker._report(_frame(1, TIP_MM, 0), shaft, consistent=False)
    assert (shown.tip_x_mm, shown.tip_z_mm) == (shaft.tip_x_mm, shaft.tip_z_mm)
