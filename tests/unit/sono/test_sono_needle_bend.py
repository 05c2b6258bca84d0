"""Bent needles (distal refit), the entry pre-filter of coarse lines and the confirmation of short shafts."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import (
    NeedleDetector,
    NeedleTracker,
    ShaftCandidate,
    _Line,
    _locate_ends,
    _oriented,
)
from painguide.sono.simulate import SimulatedCine, SimulationParams, simulate_cine


def _last_frame(params: SimulationParams) -> SimulatedCine:
    return simulate_cine(replace(params, n_frames=30, needle_speed_mm_s=40.0, injection_at_s=None))


@pytest.mark.parametrize(
    "bend",
    [{"needle_bend_deg": 6.0}, {"needle_deflect_deg": 8.0, "needle_deflect_at": 0.5}],
    ids=["gradual", "deflected"],
)
def test_bent_needle_tip_angle_follows_the_distal_shaft(clear_params: SimulationParams, bend: dict) -> None:
    cine = _last_frame(replace(clear_params, **bend))
    truth = cine.truth[-1]
    best = NeedleDetector()(cine.frames[-1])[0]
    assert math.isfinite(best.distal_angle_deg), "the bend was not followed"
    assert abs(best.tip_angle_deg - truth.angle_deg) < 1.0
    assert abs(best.tip_angle_deg - truth.angle_deg) < abs(best.angle_deg - truth.angle_deg)
    assert math.hypot(best.tip_x_mm - truth.tip_x_mm, best.tip_z_mm - truth.tip_z_mm) < 0.8


def test_bend_following_can_be_switched_off(clear_params: SimulationParams) -> None:
    cine = _last_frame(replace(clear_params, needle_deflect_deg=8.0, needle_deflect_at=0.5))
    best = NeedleDetector(follow_bends=False)(cine.frames[-1])[0]
    assert math.isnan(best.distal_angle_deg)
    assert best.tip_angle_deg == best.angle_deg


def test_straight_needle_keeps_the_whole_shaft_angle(clear_cine: SimulatedCine) -> None:
    best = NeedleDetector()(clear_cine.frames[-1])[0]
    assert math.isnan(best.distal_angle_deg)  # no bend evidence: the distal refit is not taken
    assert best.tip_angle_deg == pytest.approx(clear_cine.truth[-1].angle_deg, abs=0.5)


def test_coarse_lines_that_cannot_enter_are_not_refined() -> None:
    frame = Frame(np.zeros((200, 240), np.uint8), 0.2, 0.2, 0.0)  # 48 x 40 mm
    detector = NeedleDetector()
    from_left = _Line(np.array([5.0, 10.0]), _oriented(1.0, 1.0))
    mid_image = _Line(np.array([30.0, 25.0]), _oriented(1.0, 1.0))
    from_top = _Line(np.array([30.0, 6.0]), _oriented(-1.0, 1.0))
    assert detector._may_enter(frame, from_left)
    assert detector._may_enter(frame, from_top)
    assert not detector._may_enter(frame, mid_image)
    assert NeedleDetector(edge_tolerance_mm=math.inf)._may_enter(frame, mid_image)


def test_tip_search_outside_the_image_finds_nothing() -> None:
    frame = Frame(np.full((100, 100), 80, np.uint8), 0.2, 0.2, 0.0)
    line = _Line(np.array([19.0, 19.0]), _oriented(1.0, 1.0))  # the bottom-right corner, pointing out
    assert _locate_ends(frame, line, (20.0, 30.0), 0.1) is None


class _Fixed:
    """A detector stub that reports the same shaft in every frame."""

    def __init__(self, length_mm: float) -> None:
        self.candidate = ShaftCandidate(0.0, 5.0, length_mm * 0.8, 5.0 + length_mm * 0.6, 36.87, 4.0, 0.05)
        self.min_contrast, self.max_residual_mm = 2.0, 0.35
        self.entry_edge_mm = 1.5  # read by the tracker's still test (NeedleTracker(still_ratio=...))

    def __call__(self, frame: Frame, **_: object) -> list[ShaftCandidate]:
        return [self.candidate]


@pytest.mark.parametrize(("length_mm", "first_reported"), [(4.0, 2), (8.0, 1)])
def test_short_shaft_needs_one_more_confirming_frame(length_mm: float, first_reported: int) -> None:
    tracker = NeedleTracker(detector=_Fixed(length_mm))  # type: ignore[arg-type]
    frame = Frame(np.zeros((50, 50), np.uint8), 0.2, 0.2, 0.0)
    seen = [tracker(frame).visible for _ in range(4)]
    assert seen.index(True) == first_reported
