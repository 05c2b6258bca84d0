"""The reported tip of a still or faint deep needle stays where it was when only the report's chain broke."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import MOTION_HELD_MIN_MM, NeedleTracker, ShaftCandidate, _advance_seen

from .shaft_scene import speckled_line_mm

SPACING_MM = 0.07
ROWS, COLS = 400, 520
ANGLE_DEG = 50.0
ENTRY = np.array([0.5, 1.0])  # x, z in mm: the shaft enters from the left under the probe
DIRECTION = np.array([math.cos(math.radians(ANGLE_DEG)), math.sin(math.radians(ANGLE_DEG))])
TIP_MM = 22.0  # along the line from ENTRY
BRIGHT_MM = 10.0  # the shaft is bright up to here and faint (attenuated) beyond


def _frame(seed: int, tip_along_mm: float, index: int, *, faint: float = 1.0) -> Frame:
    """Static speckled tissue and the shaft up to ``tip_along_mm``: bright up to :data:`BRIGHT_MM`, then
    ``faint`` times as bright, with the echo of its bevel at the tip (blurred by the beam)."""
    # the same tissue in every frame of a seed
    shape = (ROWS, COLS)
    _, _, along, across, speckle = speckled_line_mm(seed, shape, SPACING_MM, ENTRY, ANGLE_DEG, rms=10.0)
    line = np.exp(-0.5 * (across / 0.12) ** 2)
    gain = np.where(along <= BRIGHT_MM, 1.0, faint)
    shaft = line * gain * 0.5 * (1.0 - np.tanh((along - tip_along_mm) / 0.1))
    bevel = faint * np.exp(-0.5 * ((along - tip_along_mm) / 0.3) ** 2 - 0.5 * (across / 0.2) ** 2)
    pixels = np.clip(110.0 + speckle + 60.0 * (shaft + 0.5 * bevel), 0, 255).astype(np.uint8)
    return Frame(pixels, SPACING_MM, SPACING_MM, index / 30.0, index)


def _point(along_mm: float) -> tuple[float, float]:
    """The point ``along_mm`` along the needle's line from :data:`ENTRY`."""
    x, z = (ENTRY + along_mm * DIRECTION).tolist()
    return x, z


def _along(point: tuple[float, float]) -> float:
    """How far along the needle's line ``point`` lies."""
    return float(np.dot(np.asarray(point) - ENTRY, DIRECTION))


def _shaft(tip_along_mm: float) -> ShaftCandidate:
    """The shaft from :data:`ENTRY` to ``tip_along_mm``, as a detection."""
    return ShaftCandidate(*_point(0.0), *_point(tip_along_mm), ANGLE_DEG, 3.0, 0.05)


@pytest.mark.parametrize("seed", [1, 2])
def test_small_step_of_a_held_tip_is_checked_against_the_image(seed: int) -> None:
    """A tip held by the image change that the report moves on by less than 1 mm stays held."""
    before, now = _frame(seed, TIP_MM, 0), _frame(seed, TIP_MM, 1)
    assert _advance_seen(now, before, _shaft(TIP_MM + 0.6), _point(TIP_MM)) is None
    kept = _advance_seen(now, before, _shaft(TIP_MM + 0.6), _point(TIP_MM), least_mm=MOTION_HELD_MIN_MM)
    assert kept is not None
    assert abs(_along(kept) - TIP_MM) < 1e-6


@pytest.mark.parametrize("held", [True, False])
def test_tracker_keeps_a_held_tip_of_a_still_needle(held: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a tip placed by the image change in the frame before is kept over a small step."""
    monkeypatch.setattr("painguide.sono.needle._ridge_tip", lambda frame, shaft, **_: None)
    tracker = NeedleTracker()
    tracker._shown_tip, tracker._shown_frame, tracker._shown_moved = (
        _point(TIP_MM),
        _frame(3, TIP_MM, 0),
        held,
    )
    shown = tracker._report(_frame(3, TIP_MM, 1), _shaft(TIP_MM + 0.6), consistent=True)
    assert abs(_along((shown.tip_x_mm, shown.tip_z_mm)) - (TIP_MM if held else TIP_MM + 0.6)) < 1e-6


@pytest.mark.parametrize("seed", [4, 5, 6])
@pytest.mark.parametrize("there", [True, False])
def test_faint_tip_kept_where_its_ridge_is_still_there(
    seed: int, there: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ridge carried a faint shaft's tip only 1.6 mm short of the tip reported before: the stretch
    between is checked from the carried tip (with the faint shaft's own contrast), not from the bright
    detection far behind it, and the tip stays only where the shaft is still there."""
    carried = TIP_MM - 1.6
    monkeypatch.setattr(
        "painguide.sono.needle._ridge_tip",
        lambda frame, shaft, **_: (
            _point(carried) if _along((shaft.tip_x_mm, shaft.tip_z_mm)) < carried - 0.1 else None
        ),
    )
    tracker = NeedleTracker()
    tracker._shown_tip = _point(TIP_MM)
    frame = _frame(seed, TIP_MM if there else carried, 1, faint=0.35)
    shown = tracker._report(frame, _shaft(BRIGHT_MM), consistent=True)
    assert abs(_along((shown.tip_x_mm, shown.tip_z_mm)) - (TIP_MM if there else carried)) < 1e-6
