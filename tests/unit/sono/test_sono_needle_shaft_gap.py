"""A shaft broken by a dark stretch still begins where the needle entered, and a tracked tip that jumped
ahead is taken up again when the jump holds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono import needle
from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleObservation, NeedleTracker, ShaftCandidate, _run_ends

from .shaft_scene import bright_line, speckled_line_mm, starts_on

SPACING_MM = 0.1
ROWS, COLS = 320, 400  # 32 x 40 mm
ENTRY_MM = (0.0, 5.0)
ANGLE_DEG = 34.0
LENGTH_MM = 22.0
GAP_MM = (8.0, 9.8)
"""Stretch of the shaft (mm along it from the entry) that sends no echo (1.8 mm, over the 1 mm always
bridged)."""


def _runs(*spans: tuple[int, int], size: int = 200) -> np.ndarray:
    above = np.zeros(size, dtype=bool)
    for a, b in spans:
        above[a : b + 1] = True
    return above


def test_a_long_gap_is_bridged_towards_the_start_between_two_solid_runs() -> None:
    above = _runs((0, 40), (60, 150))  # a gap of 19 samples
    assert _run_ends(above, 100, 10) == (60, 150)  # the short gap rule alone stops at the gap
    assert _run_ends(above, 100, 10, long_gap=25, long_run=20) == (0, 150)
    assert _run_ends(above, 100, 10, long_gap=15, long_run=20) == (60, 150)  # longer than allowed


def test_a_long_gap_is_not_bridged_past_a_short_run_nor_beyond_the_seed_run() -> None:
    short_before = _runs((0, 10), (30, 150))  # the run before the gap is only 10 samples long
    assert _run_ends(short_before, 100, 5, long_gap=25, long_run=20) == (30, 150)
    ahead = _runs((0, 80), (100, 150))  # the seed lies before the gap: the tip is not carried over it
    assert _run_ends(ahead, 40, 10, long_gap=25, long_run=20) == (0, 80)


def _gap_frame(seed: int) -> Frame:
    _, _, along, below, speckle = speckled_line_mm(seed, (ROWS, COLS), SPACING_MM, ENTRY_MM, ANGLE_DEG)
    on = (along >= 0.0) & (along <= LENGTH_MM) & ~((along > GAP_MM[0]) & (along < GAP_MM[1]))
    image = 90.0 + speckle + 45.0 * np.exp(-0.5 * (below / 0.25) ** 2) * on
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.0, 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_shaft_broken_by_a_dark_stretch_begins_at_the_side_it_entered_from(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the bridge the run through the middle of the line ends at the gap, so the shaft found begins
    10 mm into the image and fails the entry test; with it, the shaft begins at the image side."""
    frame = _gap_frame(seed)
    found = NeedleDetector()(frame)
    assert found and starts_on(found[0], (0.0, ENTRY_MM[1]), ANGLE_DEG)
    assert found[0].length_mm > LENGTH_MM - 1.5
    monkeypatch.setattr(needle, "BRIDGE_GAP_MM", 0.0)
    unbridged = NeedleDetector()(frame)
    assert not any(starts_on(c, (0.0, ENTRY_MM[1]), ANGLE_DEG) and c.length_mm > 15 for c in unbridged)


LEAP_AT = 10
"""From this frame the shaft is found 5 mm longer (over the 4 mm a tracked tip may move in one frame)."""


def _length(index: int) -> float:
    return 8.0 if index < LEAP_AT else 13.0


def _shaft(index: int) -> ShaftCandidate:
    theta = math.radians(ANGLE_DEG)
    length = _length(index)
    tip = (ENTRY_MM[0] + length * math.cos(theta), ENTRY_MM[1] + length * math.sin(theta))
    return ShaftCandidate(*ENTRY_MM, tip[0], tip[1], ANGLE_DEG, 3.0, 0.1)


class _Leaping:
    """A detector stub: the whole-frame search finds the shaft in the first frames only (then, as for a
    faint rough needle, only the search along the track does); along the track the shaft's tip may move
    ``max_tip_jump_mm`` unless more is allowed."""

    def __init__(self) -> None:
        self.min_contrast, self.max_residual_mm, self.max_tip_jump_mm = 2.0, 0.35, 4.0

    def follow(
        self, frame: Frame, prior: ShaftCandidate, *, max_jump_mm: float | None = None
    ) -> ShaftCandidate | None:
        shaft = _shaft(frame.index)
        jump = math.hypot(shaft.tip_x_mm - prior.tip_x_mm, shaft.tip_z_mm - prior.tip_z_mm)
        return shaft if jump <= (self.max_tip_jump_mm if max_jump_mm is None else max_jump_mm) else None

    def __call__(
        self, frame: Frame, *, prior: ShaftCandidate | None = None, **_: object
    ) -> list[ShaftCandidate]:
        if prior is not None:
            followed = self.follow(frame, prior)
            return [] if followed is None else [followed]
        return [_shaft(frame.index)] if frame.index < 5 else []


def _leap_run(**settings: float) -> list[NeedleObservation]:
    tracker = NeedleTracker(still_ratio=0.0, detector=_Leaping(), **settings)  # type: ignore[arg-type]
    rng = np.random.default_rng(3)
    seen = []
    for i in range(24):
        image = 80.0 + 8.0 * rng.standard_normal((ROWS, COLS))
        image += bright_line((ROWS, COLS), SPACING_MM, *ENTRY_MM, ANGLE_DEG, _length(i), 60.0)
        pixels = np.clip(image, 0, 255).astype(np.uint8)
        seen.append(tracker(Frame(pixels, SPACING_MM, SPACING_MM, i / 15, i)))
    return seen


def _at(seen: NeedleObservation, index: int) -> bool:
    shaft = _shaft(index)
    return seen.visible and math.hypot(seen.tip_x_mm - shaft.tip_x_mm, seen.tip_z_mm - shaft.tip_z_mm) <= 1.0


def test_a_tip_that_jumped_ahead_and_holds_there_continues_the_track() -> None:
    stale = _leap_run(leap_mm=0.0)
    assert all(_at(s, i) for i, s in enumerate(stale[2:LEAP_AT], start=2))
    assert not any(s.visible for s in stale[LEAP_AT:])  # compared with the stale tip, it is never taken
    taken = _leap_run()
    assert all(_at(s, i) for i, s in enumerate(taken[2:LEAP_AT], start=2))
    assert not taken[LEAP_AT].visible  # one frame of a jump is not enough
    assert all(_at(s, i) for i, s in enumerate(taken[LEAP_AT + 1 :], start=LEAP_AT + 1))


def test_a_jump_further_than_leap_mm_is_not_taken() -> None:
    assert not any(s.visible for s in _leap_run(leap_mm=4.5)[LEAP_AT:])
