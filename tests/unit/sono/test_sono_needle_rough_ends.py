"""A short steep shaft at the image side whose ridge scatters: the rough steep side rule (off by default,
switched on here with ``rough_residual_mm``), and a short confirmed shaft kept by its ends while its fitted
angle jumps from frame to frame."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker, ShaftCandidate

from .test_sono_needle_reacquire import _run  # a tracker over a scripted detector (follow: 3 degrees)

WIDTH_MM = 36.5
ROUGH = 0.35  # ``rough_residual_mm`` that switches the rough rule on


def _frame(index: int = 0) -> Frame:
    return Frame(np.zeros((200, 365), dtype=np.uint8), 0.1, 0.1, 0.05 * index, index)


def _shaft(
    angle_deg: float = -45.0,
    length_mm: float = 6.0,
    contrast: float = 3.0,
    residual_mm: float = 0.3,
    *,
    fitted_deg: float | None = None,
) -> ShaftCandidate:
    """A shaft entering from the right side at 14 mm depth, going deeper to the left; ``fitted_deg`` is the
    angle its line fit reports (the ends stay those of ``angle_deg``)."""
    t = math.radians(abs(angle_deg))
    start = (WIDTH_MM - 0.3, 14.0)
    tip = (start[0] - length_mm * math.cos(t), start[1] + length_mm * math.sin(t))
    angle = angle_deg if fitted_deg is None else fitted_deg
    return ShaftCandidate(*start, *tip, angle, contrast, residual_mm)


@pytest.mark.parametrize("residual_mm", [0.26, 0.3, 0.34])
def test_rough_steep_side_shaft_passes_when_the_rule_is_on(residual_mm: float) -> None:
    detector = NeedleDetector(rough_residual_mm=ROUGH)
    shaft = _shaft(residual_mm=residual_mm)
    assert detector.rough(shaft)
    assert detector._side_shaft(shaft, _frame())
    assert detector._flagged(shaft, weak=False, side=True).rough
    assert not NeedleDetector(rough_residual_mm=ROUGH, rough_deg=math.inf)._side_shaft(shaft, _frame())


@pytest.mark.parametrize("residual_mm", [0.26, 0.3, 0.34])
def test_the_rough_rule_is_off_by_default(residual_mm: float) -> None:
    detector = NeedleDetector()
    shaft = _shaft(residual_mm=residual_mm)
    assert not detector.rough(shaft)
    assert not detector._side_shaft(shaft, _frame())


@pytest.mark.parametrize(
    ("angle_deg", "length_mm", "contrast", "residual_mm"),
    [(-29.0, 6.0, 3.0, 0.3), (-45.0, 6.0, 1.8, 0.3), (-45.0, 6.0, 3.0, 0.4), (-45.0, 12.0, 3.0, 0.3)],
)
def test_rough_rule_needs_steep_short_bright_and_not_too_curved(
    angle_deg: float, length_mm: float, contrast: float, residual_mm: float
) -> None:
    """Too flat, too faint, too curved or too long (a long steep line that curves is tissue)."""
    shaft = _shaft(angle_deg, length_mm, contrast, residual_mm)
    assert not NeedleDetector(rough_residual_mm=ROUGH)._side_shaft(shaft, _frame())


def test_straight_side_shaft_is_not_rough() -> None:
    detector = NeedleDetector(rough_residual_mm=ROUGH)
    assert not detector._flagged(_shaft(residual_mm=0.15), weak=False, side=True).rough
    assert not detector._flagged(_shaft(residual_mm=0.3), weak=False, side=False).rough


def test_rough_shaft_needs_the_weak_frames() -> None:
    shaft = _shaft(length_mm=8.0, residual_mm=0.15)
    assert _run([shaft] * 4) == [False, True, True, True]
    assert _run([replace(shaft, side=True, rough=True)] * 4) == [False, False, True, True]


class _TwoFits:
    """A detector stub that finds each scripted shaft twice: a rough fit first and a straight one."""

    def __init__(self, shafts: list[ShaftCandidate]) -> None:
        self.shafts = shafts
        self.min_contrast, self.max_residual_mm = 2.0, 0.35

    def follow(self, frame: Frame, prior: ShaftCandidate, **_: object) -> ShaftCandidate | None:
        return None

    def __call__(self, frame: Frame, **_: object) -> list[ShaftCandidate]:
        shaft = self.shafts[frame.index]
        return [replace(shaft, residual_mm=0.3, side=True, rough=True), shaft]


def test_rough_fit_with_a_straight_fit_of_the_same_shaft_needs_no_more_frames() -> None:
    tracker = NeedleTracker(still_ratio=0.0, detector=_TwoFits([_shaft(length_mm=8.0, residual_mm=0.1)] * 3))  # type: ignore[arg-type]
    assert [tracker(_frame(i)).visible for i in range(3)] == [False, True, True]


def test_confirmed_short_shaft_is_kept_by_its_ends_when_its_angle_jumps() -> None:
    steady = _shaft(length_mm=6.0, residual_mm=0.15)
    jumped = _shaft(length_mm=6.0, residual_mm=0.15, fitted_deg=-51.0)  # the same ends
    moved = replace(jumped, start_z_mm=jumped.start_z_mm + 1.5, tip_z_mm=jumped.tip_z_mm + 1.5)
    assert _run([steady] * 4 + [jumped, steady]) == [False] + [True] * 5
    assert _run([steady] * 4 + [jumped], confirmed_ends_mm=0.0)[4] is False
    assert _run([steady] * 4 + [moved])[4] is False
    flat = _shaft(-20.0, length_mm=6.0, residual_mm=0.15)
    flat_jumped = _shaft(-20.0, length_mm=6.0, residual_mm=0.15, fitted_deg=-26.0)
    assert _run([flat] * 4 + [flat_jumped])[4] is False  # the rule is kept to steep shafts


class _Refined(NeedleDetector):
    """A detector whose refinement along any line returns one scripted shaft (the scene is left out)."""

    def __init__(self, refined: ShaftCandidate, **kwargs: float) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.refined = refined

    def _refine(
        self,
        frame: Frame,
        line: object,
        extent: tuple[float, float],
        *,
        tracked: bool = False,
        bend: bool = True,
    ) -> ShaftCandidate | None:
        return self.refined


def test_short_tracked_shaft_is_found_again_by_its_ends() -> None:
    prior = _shaft(residual_mm=0.15)
    jumped = _shaft(residual_mm=0.25, fitted_deg=-51.0)  # follow turns it down: 6 degrees off
    assert _Refined(jumped).follow(_frame(), prior) is None
    assert _Refined(jumped)(_frame(), prior=prior) == [jumped]
    assert _Refined(jumped, follow_ends_mm=0.0)(_frame(), prior=prior) == []
    moved = replace(jumped, tip_x_mm=jumped.tip_x_mm - 1.5)
    assert _Refined(moved)(_frame(), prior=prior) == []
    long_prior = _shaft(length_mm=12.0, residual_mm=0.15)
    long_jumped = _shaft(length_mm=12.0, residual_mm=0.25, fitted_deg=-51.0)
    assert _Refined(long_jumped)(_frame(), prior=long_prior) == []
    flat_prior = _shaft(-20.0, residual_mm=0.15)
    assert _Refined(_shaft(-20.0, residual_mm=0.25, fitted_deg=-26.0))(_frame(), prior=flat_prior) == []
