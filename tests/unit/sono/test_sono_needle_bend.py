"""Bent needles (distal refit), the entry pre-filter of coarse lines and the confirmation of short shafts."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import (
    NeedleDetector,
    NeedleTracker,
    ShaftCandidate,
    _fit_ridge,
    _Line,
    _locate_ends,
    _oriented,
    _past_bend,
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


def _drawn(points_mm: list[list[tuple[float, float]]], *, seed: int = 3) -> Frame:
    """A 48 x 40 mm frame of noise (0.2 mm pixels) with bright 0.4 mm polylines through ``points_mm``."""
    rng = np.random.default_rng(seed)
    pixels = rng.normal(70.0, 12.0, (200, 240)).clip(0, 255).astype(np.uint8)
    for polyline in points_mm:
        for (x0, z0), (x1, z1) in itertools.pairwise(polyline):
            a, b = (round(x0 * 40), round(z0 * 40)), (round(x1 * 40), round(z1 * 40))
            cv2.line(pixels, a, b, 200, thickness=2, lineType=cv2.LINE_AA, shift=3)
    return Frame(pixels, 0.2, 0.2, 0.0)


def _along(start: tuple[float, float], angle_deg: float, length_mm: float) -> tuple[float, float]:
    theta = math.radians(angle_deg)
    return (start[0] + length_mm * math.cos(theta), start[1] + length_mm * math.sin(theta))


@pytest.mark.parametrize("turn_deg", [-9.0, -5.0, 5.0, 9.0])
def test_the_tip_is_found_past_a_deflection_where_the_straight_line_ends(turn_deg: float) -> None:
    start, angle = (1.0, 6.0), 20.0
    bend = _along(start, angle, 22.0)
    tip = _along(bend, angle + turn_deg, 8.0)
    frame = _drawn([[start, bend, tip]])
    # what the straight line's end finds: something bright goes on beyond it (continuation)
    at_bend = ShaftCandidate(*start, *bend, angle, 6.0, 0.05, continuation=1.0)
    found = _past_bend(frame, at_bend)
    assert math.hypot(found.tip_x_mm - tip[0], found.tip_z_mm - tip[1]) < 0.5
    assert found.distal_angle_deg == pytest.approx(angle + turn_deg, abs=1.5)
    assert (found.start_x_mm, found.start_z_mm, found.angle_deg) == (*start, angle)  # the shaft is kept


@pytest.mark.parametrize(
    "beyond",
    [[], [(0.3, 0.7), (8.0, 0.7)], [(0.3, 0.0), (1.0, 0.0)]],
    ids=["nothing-beyond", "a-parallel-line-beside", "under-1.5-mm"],
)
def test_the_tip_stays_where_no_shaft_goes_on(beyond: list[tuple[float, float]]) -> None:
    start, angle = (1.0, 6.0), 20.0
    end = _along(start, angle, 22.0)
    theta = math.radians(angle)
    along = np.array([math.cos(theta), math.sin(theta)])
    across = np.array([-math.sin(theta), math.cos(theta)])
    other = [tuple(np.array(end) + s * along + a * across) for s, a in beyond]
    frame = _drawn([[start, end], other] if other else [[start, end]])
    candidate = ShaftCandidate(*start, *end, angle, 6.0, 0.05, continuation=1.0)  # past the first check
    assert _past_bend(frame, candidate) is candidate


def test_a_needle_deflected_at_a_point_is_tracked_past_the_bend() -> None:
    """Development cine ``bent`` 403 (a 7° deflection two thirds along an 11° needle): the straight line's
    end stayed at the bend, 9 mm short of the tip, once the needle had passed it."""
    from painguide.sono.scenes import development_seed, scene_params

    cine = simulate_cine(replace(scene_params("bent", development_seed("bent", 403)), n_frames=40))
    errors: dict[bool, list[float]] = {}
    for past in (True, False):
        tracker = NeedleTracker(detector=NeedleDetector(past_bends=past))
        seen = [tracker(frame) for frame in cine.frames]
        errors[past] = [
            math.hypot(o.tip_x_mm - t.tip_x_mm, o.tip_z_mm - t.tip_z_mm)
            for o, t in zip(seen[30:], cine.truth[30:], strict=True)
            if o.visible
        ]
    assert len(errors[True]) == 10 and max(errors[True]) < 1.0
    assert min(errors[False]) > 5.0  # the fault: the tip held at the bend


def test_a_shaft_bent_early_is_straight_in_two_parts() -> None:
    start, angle = (1.0, 6.0), 30.0
    bend = _along(start, angle, 10.0)
    tip = _along(bend, angle + 10.0, 22.0)
    frame = _drawn([[start, bend, tip]])
    theta = math.radians(angle + 5.0)  # a line between the two parts' angles, as the whole-shaft fit finds
    line = _Line(np.array(start), _oriented(math.cos(theta), math.sin(theta)))
    fitted = _fit_ridge(frame, line, (0.0, 31.0))
    assert fitted is not None
    assert fitted.rms > 0.35  # over the tracking straightness limit as a whole
    assert fitted.two_part_rms() < 0.1


def test_a_straight_shaft_has_no_better_two_part_fit_to_speak_of() -> None:
    start, angle = (1.0, 6.0), 30.0
    frame = _drawn([[start, _along(start, angle, 30.0)]])
    theta = math.radians(angle)
    line = _Line(np.array(start), _oriented(math.cos(theta), math.sin(theta)))
    fitted = _fit_ridge(frame, line, (0.0, 29.0))
    assert fitted is not None
    assert fitted.rms < 0.1 and fitted.two_part_rms() <= fitted.rms


def test_a_needle_deflected_early_keeps_its_track() -> None:
    """Development cine ``bent`` 453 (a 7° deflection 13 mm along a 37 mm needle): the whole-shaft fit across
    the bend went over the straightness limit, the track was dropped and its straight part found again, its
    tip 7-8 mm short."""
    from painguide.sono.scenes import development_seed, scene_params

    cine = simulate_cine(scene_params("bent", development_seed("bent", 453)))
    errors: dict[bool, list[float]] = {}
    for parts in (True, False):
        tracker = NeedleTracker(detector=NeedleDetector(bent_parts=parts))
        seen = [tracker(frame) for frame in cine.frames]
        errors[parts] = [
            math.hypot(o.tip_x_mm - t.tip_x_mm, o.tip_z_mm - t.tip_z_mm) if o.visible else math.inf
            for o, t in zip(seen[30:], cine.truth[30:], strict=True)
        ]
    assert max(errors[True]) < 1.0
    assert sum(e > 5.0 for e in errors[False]) >= 20  # the fault: the straight part's tip, or none
