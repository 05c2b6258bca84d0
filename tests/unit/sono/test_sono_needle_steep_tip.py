"""The reported tip of a steep deep needle: a new track's tip taken from still tissue beyond an advancing
needle is drawn back to the image change and held there; a long faint shaft whose ridge runs a little above
the line fitted at its bright start is followed."""

from __future__ import annotations

import numpy as np
import pytest
from tests.unit.sono.test_sono_needle_tip_chain import (
    COLS,
    DIRECTION,
    ENTRY,
    ROWS,
    SPACING_MM,
    _along,
    _point,
    _shaft,
)
from tests.unit.sono.test_sono_needle_tip_chain import _frame as needle_frame

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleTracker, _change_behind

TIP_MM = 12.0  # along the line from ENTRY: the needle's tip in the frame before
STEP_MM = 1.3  # its advance between the two frames
STREAK_MM = (14.5, 18.0)  # a still bright stretch of tissue lined up with the shaft beyond the tip
BRIGHT_MM = 10.0  # the bright shaft the detection fits, from ENTRY
ABOVE_MM = 0.15  # the fainter, blurred shaft beyond it lies this much shallower than that line


def _frame(seed: int, tip_along_mm: float, index: int) -> Frame:
    """The still tissue and shaft of :func:`needle_frame` with a bright streak on the needle's line beyond
    the tip; each frame adds its own small noise."""
    z = np.arange(ROWS)[:, None] * SPACING_MM
    x = np.arange(COLS)[None, :] * SPACING_MM
    along = (x - ENTRY[0]) * DIRECTION[0] + (z - ENTRY[1]) * DIRECTION[1]
    across = -(x - ENTRY[0]) * DIRECTION[1] + (z - ENTRY[1]) * DIRECTION[0]
    streak = np.exp(-0.5 * (across / 0.12) ** 2) * ((along >= STREAK_MM[0]) & (along <= STREAK_MM[1]))
    noise = np.random.default_rng(1000 + index).normal(0.0, 1.5, (ROWS, COLS))
    base = needle_frame(seed, tip_along_mm, index).pixels.astype(np.float64)
    pixels = np.clip(base + noise + 60.0 * streak, 0, 255).astype(np.uint8)
    return Frame(pixels, SPACING_MM, SPACING_MM, index / 30.0, index)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tip_on_still_tissue_is_drawn_back_to_the_advancing_needle(seed: int) -> None:
    """The shaft reported to the end of the streak is drawn back to where the needle changed the image."""
    before, now = _frame(seed, TIP_MM, 0), _frame(seed, TIP_MM + STEP_MM, 1)
    drawn = _change_behind(now, before, _shaft(STREAK_MM[1]))
    assert drawn is not None
    assert abs(_along(drawn) - (TIP_MM + STEP_MM)) < 0.6


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_still_needle_and_a_tip_at_the_change_are_kept(seed: int) -> None:
    """Nothing changed (a still needle), or the change reaches the tip: the tip is not moved."""
    still = _frame(seed, TIP_MM, 0), _frame(seed, TIP_MM, 1)
    assert _change_behind(still[1], still[0], _shaft(STREAK_MM[1])) is None
    advanced = _frame(seed, TIP_MM + STEP_MM, 1)
    assert _change_behind(advanced, still[0], _shaft(TIP_MM + STEP_MM)) is None


def _after_streak(seed: int, tracker: NeedleTracker) -> NeedleTracker:
    """``tracker`` as after a frame whose reported tip was the streak's end, with the needle at
    :data:`TIP_MM`."""
    tracker._shown_tip, tracker._shown_frame, tracker._shown_moved = (
        _point(STREAK_MM[1]),
        _frame(seed, TIP_MM, 0),
        False,
    )
    return tracker


@pytest.mark.parametrize("behind", [True, False])
def test_tracker_draws_back_a_tip_that_did_not_advance(behind: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report of a shaft whose detected tip stayed at the streak's end follows the needle instead."""
    monkeypatch.setattr("painguide.sono.needle._ridge_tip", lambda frame, shaft, **_: None)
    tracker = _after_streak(4, NeedleTracker(behind=behind))
    shown = tracker._report(_frame(4, TIP_MM + STEP_MM, 1), _shaft(STREAK_MM[1]), consistent=True)
    reported = _along((shown.tip_x_mm, shown.tip_z_mm))
    assert abs(reported - (TIP_MM + STEP_MM if behind else STREAK_MM[1])) < 0.6


@pytest.mark.parametrize("hold", [True, False])
@pytest.mark.parametrize("hold_gap", [True, False])
def test_drawn_back_tip_is_held_while_the_needle_stands(
    hold: bool, hold_gap: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once drawn back, the tip stays while nothing changes, though the detection still runs on to the end
    of the streak (more than the usual hold of 4 mm beyond it): held so (``hold_behind``), or held because
    the detected tip stayed where it was in the frame before (``hold_gap``); ``hold_moved``, which holds any
    tip the image change placed in the frame before, is off here."""
    monkeypatch.setattr("painguide.sono.needle._ridge_tip", lambda frame, shaft, **_: None)
    tracker = _after_streak(5, NeedleTracker(hold_behind=hold, hold_gap=hold_gap, hold_moved=False))
    drawn = tracker._report(_frame(5, TIP_MM + STEP_MM, 1), _shaft(STREAK_MM[1]), consistent=True)
    assert abs(_along((drawn.tip_x_mm, drawn.tip_z_mm)) - (TIP_MM + STEP_MM)) < 0.6
    still = tracker._report(_frame(5, TIP_MM + STEP_MM, 2), _shaft(STREAK_MM[1]), consistent=True)
    reported = _along((still.tip_x_mm, still.tip_z_mm))
    assert abs(reported - (TIP_MM + STEP_MM if hold or hold_gap else STREAK_MM[1])) < 0.6


def _above_frame(seed: int, tip_along_mm: float) -> Frame:
    """The bright shaft of :func:`needle_frame` up to :data:`BRIGHT_MM`, then a faint shaft up to
    ``tip_along_mm``, :data:`ABOVE_MM` shallower (the line fitted at the bright start misses it a little)."""
    z = np.arange(ROWS)[:, None] * SPACING_MM
    x = np.arange(COLS)[None, :] * SPACING_MM
    along = (x - ENTRY[0]) * DIRECTION[0] + (z - ENTRY[1]) * DIRECTION[1]
    across = -(x - ENTRY[0]) * DIRECTION[1] + (z - ENTRY[1]) * DIRECTION[0]  # positive deeper
    line = np.exp(-0.5 * ((across + ABOVE_MM) / 0.2) ** 2)
    faint = line * ((along > BRIGHT_MM) & (along <= tip_along_mm))
    bevel = np.exp(-0.5 * ((along - tip_along_mm) / 0.3) ** 2 - 0.5 * ((across + ABOVE_MM) / 0.3) ** 2)
    base = needle_frame(seed, BRIGHT_MM, 0).pixels.astype(np.float64)
    pixels = np.clip(base + 55.0 * (faint + 0.5 * bevel), 0, 255).astype(np.uint8)
    return Frame(pixels, SPACING_MM, SPACING_MM, 0.0, 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("above", [True, False])
def test_long_ridge_above_the_line_carries_the_tip(seed: int, above: bool) -> None:
    """The report follows the faint shaft to its end only when the ridge may lie above the line."""
    tip = 22.0
    shown = NeedleTracker(ridge_above=above)._report(
        _above_frame(seed, tip), _shaft(BRIGHT_MM), consistent=False
    )
    reported = _along((shown.tip_x_mm, shown.tip_z_mm))
    if above:  # carried on along the faint shaft (speckle beyond its tip may carry it up to 2 mm further)
        assert tip - 0.8 < reported < tip + 2.0
    else:
        assert abs(reported - BRIGHT_MM) < 0.8


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_short_ridge_above_the_line_is_not_followed(seed: int) -> None:
    """A stretch above the line shorter than the least carry (speckle lined up beyond a tip) is not."""
    shown = NeedleTracker()._report(_above_frame(seed, BRIGHT_MM + 3.0), _shaft(BRIGHT_MM), consistent=False)
    assert abs(_along((shown.tip_x_mm, shown.tip_z_mm)) - BRIGHT_MM) < 0.8
