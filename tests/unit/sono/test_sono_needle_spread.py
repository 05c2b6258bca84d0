"""Needle detection and tracking, spread detection and the guidance events on simulated cines."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from painguide.errors import ValidationError
from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker
from painguide.sono.pipeline import GuidancePipeline
from painguide.sono.simulate import SimulatedCine, SimulationParams, simulate_cine
from painguide.sono.spread import SpreadDetector


def _tip_error(cine: SimulatedCine, index: int, x: float, z: float) -> float:
    truth = cine.truth[index]
    return math.hypot(x - truth.tip_x_mm, z - truth.tip_z_mm)


def test_detector_finds_tip_and_angle(clear_cine: SimulatedCine) -> None:
    detector = NeedleDetector()
    frame = clear_cine.frames[-1]
    candidates = detector(frame)
    assert candidates, "the bright needle was not found"
    best = candidates[0]
    assert _tip_error(clear_cine, -1, best.tip_x_mm, best.tip_z_mm) < 1.0
    assert best.angle_deg == pytest.approx(clear_cine.truth[-1].angle_deg, abs=1.0)
    assert best.length_mm > 15


def test_detector_reports_nothing_without_needle(needle_free_cine: SimulatedCine) -> None:
    detector = NeedleDetector()
    assert not any(detector(f) for f in needle_free_cine.frames)


def test_detector_is_silent_on_uniform_noise() -> None:
    rng = np.random.default_rng(0)
    frame = Frame(rng.integers(60, 120, (200, 240), dtype=np.uint8), 0.15, 0.15, 0.0)
    assert NeedleDetector()(frame) == []


def test_tracker_needs_confirmation_and_reports_honestly(clear_cine: SimulatedCine) -> None:
    tracker = NeedleTracker(confirm_frames=3)
    observations = [tracker(f) for f in clear_cine.frames]
    first_detection = next(i for i, o in enumerate(observations) if o.visible)
    assert first_detection >= 2
    assert not observations[0].visible and math.isnan(observations[0].tip_x_mm)
    visible = [i for i, t in enumerate(clear_cine.truth) if t.needle_visible]
    errors = [
        _tip_error(clear_cine, i, observations[i].tip_x_mm, observations[i].tip_z_mm)
        for i in visible
        if observations[i].visible
    ]
    assert len(errors) >= 0.7 * len(visible)
    assert float(np.median(errors)) < 0.6
    assert all(0 < o.confidence <= 1 for o in observations if o.visible)


def test_tracker_drops_the_needle_when_it_leaves_the_plane(clear_params: SimulationParams) -> None:
    cine = simulate_cine(replace(clear_params, n_frames=40, out_of_plane_s=(1.0, 2.0), injection_at_s=None))
    tracker = NeedleTracker()
    observations = [tracker(f) for f in cine.frames]
    assert observations[15].visible
    assert not any(o.visible for o in observations[24:38])


def test_spread_is_detected_soon_after_onset(clear_cine: SimulatedCine) -> None:
    pipeline = GuidancePipeline(injection_at_s=clear_cine.params.injection_at_s)
    results = [pipeline(f) for f in clear_cine.frames]
    onset = pipeline.spread_onset_s
    assert onset is not None and clear_cine.spread_onset_s is not None
    assert 0 <= onset - clear_cine.spread_onset_s <= 0.5
    assert not any(r.spread.visible for r in results if r.time_s < clear_cine.spread_onset_s)
    last = results[-1].spread
    assert last.visible and last.area_mm2 > 5
    assert last.distance_to_tip_mm < 3.0
    types = [e.type for r in results for e in r.events]
    assert types.count("injection_start") == 1 and "no_visible_spread" not in types
    assert "spread_away_from_tip" not in types


def test_no_visible_spread_warning(clear_params: SimulationParams) -> None:
    cine = simulate_cine(replace(clear_params, rows=160, cols=200, spread_visible=False))
    pipeline = GuidancePipeline(no_spread_timeout_s=0.5)
    results = []
    for frame in cine.frames:
        if frame.index == 22:
            pipeline.start_injection(frame.time_s)
        results.append(pipeline(frame))
    warnings = [e for r in results for e in r.events if e.type == "no_visible_spread"]
    assert len(warnings) == 1
    assert warnings[0].time_s == pytest.approx(1.1 + 0.5, abs=0.06)
    assert warnings[0].is_warning


def test_spread_away_from_tip_is_flagged(clear_params: SimulationParams) -> None:
    cine = simulate_cine(replace(clear_params, rows=160, cols=200, spread_offset_mm=12.0))
    pipeline = GuidancePipeline(injection_at_s=cine.params.injection_at_s)
    types = [e.type for f in cine.frames for e in pipeline(f).events]
    assert "spread_onset" in types and "spread_away_from_tip" in types


def test_no_spread_without_injection(needle_free_cine: SimulatedCine) -> None:
    detector = SpreadDetector(baseline_s=0.5)
    seen = [detector(f, injecting=True).visible for f in needle_free_cine.frames]
    assert not detector.learning
    assert not any(seen)


def test_pipeline_rejects_bad_timeout() -> None:
    with pytest.raises(ValidationError, match="no_spread_timeout_s"):
        GuidancePipeline(no_spread_timeout_s=0)


def test_frame_result_json_contract(clear_cine: SimulatedCine) -> None:
    pipeline = GuidancePipeline()
    document = [pipeline(f).as_dict() for f in clear_cine.frames[:25]][-1]
    assert set(document) == {"index", "time_s", "needle", "spread", "processing_ms", "vessels"}
    assert set(document["needle"]) == {
        "visible",
        "tip_x_mm",
        "tip_z_mm",
        "angle_deg",
        "length_mm",
        "confidence",
    }
    assert set(document["spread"]) == {"visible", "area_mm2"}
    assert document["needle"]["visible"] is True and isinstance(document["needle"]["tip_x_mm"], float)


def test_steep_needle_is_found_and_tracked(clear_params: SimulationParams) -> None:
    cine = simulate_cine(
        replace(
            clear_params,
            needle_angle_deg=45.0,
            needle_brightness=10.0,
            injection_at_s=None,
            needle_speed_mm_s=20,
        )
    )
    tracker = NeedleTracker()
    observations = [tracker(f) for f in cine.frames]
    visible = [i for i, t in enumerate(cine.truth) if t.needle_visible]
    found = [i for i in visible if observations[i].visible]
    assert len(visible) >= 15 and len(found) >= 0.9 * len(visible)
    errors = [_tip_error(cine, i, observations[i].tip_x_mm, observations[i].tip_z_mm) for i in found]
    assert float(np.median(errors)) < 0.6
    assert float(np.median([abs(observations[i].angle_deg - 45.0) for i in found])) < 1.0


def test_spread_area_follows_the_truth_once_grown(clear_cine: SimulatedCine) -> None:
    pipeline = GuidancePipeline(injection_at_s=clear_cine.params.injection_at_s)
    errors = []
    for frame, truth in zip(clear_cine.frames, clear_cine.truth, strict=True):
        result = pipeline(frame)
        if truth.spread_area_mm2 >= 15.0:
            errors.append((result.spread.area_mm2 - truth.spread_area_mm2) / truth.spread_area_mm2)
    assert len(errors) >= 5
    assert all(abs(e) <= 0.3 for e in errors)


def test_spread_ignores_a_pulsating_vessel_after_long_learning(needle_free_cine: SimulatedCine) -> None:
    pipeline = GuidancePipeline()  # no injection signalled: learning stops after baseline_s
    assert not any(pipeline(f).spread.visible for f in needle_free_cine.frames)
    assert not pipeline.spread.learning
