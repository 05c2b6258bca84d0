"""Scene families (ground truth, seed ranges), vessel detection and the vessel warnings."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from painguide.errors import ValidationError
from painguide.sono.familyeval import VISIBLE_GROWTH_MM, visible_onset_s, warning_rates, wilson
from painguide.sono.pipeline import EVENT_TYPES, GuidancePipeline
from painguide.sono.scenes import (
    DEVELOPMENT_SEEDS,
    FAMILIES,
    TEST_SEEDS,
    development_seed,
    held_out_seed,
    scene_params,
)
from painguide.sono.simulate import SimulationParams, simulate_cine
from painguide.sono.vessel import Vessel, VesselDetector, fluid_overlap, path_distance

from .vessel_scene import pulsing_frames

SMALL = {"rows": 120, "cols": 160, "n_frames": 12}


def test_development_and_test_seeds_are_disjoint() -> None:
    assert not set(DEVELOPMENT_SEEDS) & set(TEST_SEEDS)
    dev = {development_seed(f, i) for f in FAMILIES for i in (0, 999)}
    test = {held_out_seed(f, i) for f in FAMILIES for i in (0, 999)}
    assert not dev & test
    assert all(s in DEVELOPMENT_SEEDS for s in dev) and all(s in TEST_SEEDS for s in test)
    assert len(dev) == 2 * len(FAMILIES)  # families do not share seeds


def test_unknown_family_names_the_field() -> None:
    with pytest.raises(ValidationError, match="family"):
        scene_params("nonsense", 1)


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "needle_free"])
def test_every_family_has_a_needle_and_an_injection(family: str) -> None:
    params = scene_params(family, development_seed(family, 0), **SMALL)
    assert params.family == family and params.needle and params.injection_at_s is not None
    assert 10.0 <= params.needle_angle_deg <= 70.0


def test_intravascular_cines_last_past_the_no_spread_timeout() -> None:
    params = scene_params("intravascular", development_seed("intravascular", 0), **SMALL)
    assert not params.spread_visible and params.vessel_at is not None
    assert params.n_frames / params.frame_rate_hz >= (params.injection_at_s or 0.0) + 4.5
    cine = simulate_cine(replace(params, rows=64, cols=80))
    assert cine.spread_onset_s is None and not any(t.spread_visible for t in cine.truth)


def test_intravascular_moving_is_an_intravascular_injection_while_the_probe_moves() -> None:
    params = scene_params("intravascular_moving", development_seed("intravascular_moving", 0), **SMALL)
    still = scene_params("intravascular", development_seed("intravascular", 0), **SMALL)
    assert not params.spread_visible and params.vessel_at is not None
    assert params.n_frames / params.frame_rate_hz >= (params.injection_at_s or 0.0) + 4.5
    assert 1.0 <= params.probe_motion_mm <= 2.0 and 1.0 <= params.probe_rotation_deg <= 3.0
    assert still.probe_motion_mm <= 0.6 and still.probe_rotation_deg == 0.0


def test_needle_still_moves_at_the_injection() -> None:
    params = scene_params("moving_at_injection", development_seed("moving_at_injection", 0), **SMALL)
    cine = simulate_cine(
        replace(params, n_frames=round(((params.injection_at_s or 0) + 0.5) * params.frame_rate_hz))
    )
    at = round((params.injection_at_s or 0.0) * params.frame_rate_hz)
    before, after = cine.truth[at - 1], cine.truth[-1]
    assert math.hypot(after.tip_x_mm - before.tip_x_mm, after.tip_z_mm - before.tip_z_mm) > 1.0


def test_mid_probe_needle_enters_from_the_top(clear_params: SimulationParams) -> None:
    params = replace(clear_params, needle_entry_x_mm=15.0, needle_entry_z_mm=0.5, needle_angle_deg=40.0)
    truth = simulate_cine(replace(params, n_frames=30, rows=100, cols=120)).truth[-1]
    assert truth.tip_x_mm > 15.0 and truth.tip_z_mm > 0.5
    assert truth.angle_deg == pytest.approx(40.0, abs=0.1)


def test_bent_needle_truth_angle_follows_the_tip(clear_params: SimulationParams) -> None:
    straight = simulate_cine(replace(clear_params, n_frames=30, rows=100, cols=120)).truth[-1]
    bent = simulate_cine(
        replace(clear_params, n_frames=30, rows=100, cols=120, needle_deflect_deg=6.0)
    ).truth[-1]
    assert bent.angle_deg == pytest.approx(straight.angle_deg + 6.0, abs=1.5)
    assert bent.tip_z_mm > straight.tip_z_mm  # turned deeper


def test_out_of_plane_tip_is_not_counted_as_visible(clear_params: SimulationParams) -> None:
    params = replace(
        clear_params, n_frames=30, rows=100, cols=120, elevation_tilt=0.05, elevation_beam_mm=0.6
    )
    truth = simulate_cine(params).truth[-1]
    assert truth.needle_visible and not truth.tip_visible  # the shaft fades towards the tip
    assert truth.visible_length_mm < 24.0


def test_probe_motion_moves_the_truth_by_a_fraction_of_a_pixel(clear_params: SimulationParams) -> None:
    params = replace(clear_params, needle=False, probe_motion_mm=0.05, probe_rotation_deg=0.0, n_frames=20)
    cine = simulate_cine(params)
    first, moved = cine.frames[0].pixels.astype(float), [f.pixels.astype(float) for f in cine.frames[1:]]
    assert any(np.mean(np.abs(m - first)) > 0 for m in moved)  # sub-pixel motion changes the image


def test_fascial_spread_is_thin_and_long(clear_params: SimulationParams) -> None:
    pool = simulate_cine(
        replace(clear_params, spread_aspect=6.0, spread_tilt_deg=0.0, needle=False, vessel=False)
    )
    dark = pool.frames[-1].pixels < 30
    rows, cols = np.nonzero(dark[40:160])
    width_mm = np.ptp(cols) * pool.params.col_spacing_mm
    height_mm = np.ptp(rows) * pool.params.row_spacing_mm
    assert width_mm > 3 * height_mm


def _ring(x: float, z: float, r: float) -> np.ndarray:
    a = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    return np.stack([x + r * np.cos(a), z + r * np.sin(a)], axis=1)


def test_path_distance_measures_the_extended_path() -> None:
    vessel = Vessel(20.0, 10.0, 12.6, _ring(20.0, 10.0, 2.0), "pulsatile")
    assert path_distance(vessel, (5.0, 10.0), (1.0, 0.0), 5.0) == pytest.approx(8.0, abs=0.1)
    assert path_distance(vessel, (5.0, 10.0), (1.0, 0.0), 20.0) == 0.0
    assert path_distance(vessel, (5.0, 10.0), (0.0, 1.0), 20.0) > 10.0


def test_fluid_overlap_inside_and_beside_a_vessel() -> None:
    vessel = Vessel(20.0, 10.0, 12.6, _ring(20.0, 10.0, 2.0), "pulsatile")
    assert fluid_overlap([_ring(20.0, 10.0, 2.5)], vessel) > 0.9
    assert fluid_overlap([_ring(30.0, 10.0, 2.5)], vessel) == 0.0


def test_pulsatile_lumen_is_a_vessel_and_a_still_one_is_not() -> None:
    pulsing = VesselDetector()
    found = [pulsing(f) for f in pulsing_frames(0.12)][-1]
    detector = VesselDetector()
    still = [detector(f) for f in pulsing_frames(0.0)][-1]
    assert len(found) == 1 and found[0].cue == "pulsatile"
    assert found[0].x_mm == pytest.approx(20.0, abs=0.7) and found[0].z_mm == pytest.approx(14.0, abs=0.7)
    assert still == []


def test_doppler_colour_marks_a_vessel_at_once() -> None:
    frames = [f for f in pulsing_frames(0.0, n=10, colour=True) if f.colour is not None]
    detector = VesselDetector()
    found = detector(frames[0])
    assert found and found[0].cue == "doppler"
    assert found[0].x_mm == pytest.approx(20.0, abs=0.7)


def test_vessel_warnings_are_new_event_types() -> None:
    assert {"vessel_near_path", "fluid_in_vessel"} <= set(EVENT_TYPES)
    assert EVENT_TYPES[:6] == (
        "needle_visible",
        "needle_lost",
        "injection_start",
        "spread_onset",
        "no_visible_spread",
        "spread_away_from_tip",
    )


def test_needle_aimed_at_a_doppler_vessel_warns(clear_params: SimulationParams) -> None:
    params = replace(
        clear_params,
        vessel=True,
        vessel_at=(28.0, 4.0 + 24.0 * math.sin(math.radians(28.0)) + 5.0 * math.sin(math.radians(28.0)), 2.0),
        vessel_doppler=True,
        injection_at_s=None,
        n_frames=30,
    )
    cine = simulate_cine(params)
    pipeline = GuidancePipeline()
    events = [e for f in cine.frames for e in pipeline(f).events]
    near = [e for e in events if e.type == "vessel_near_path"]
    assert len(near) == 1 and near[0].is_warning


def test_fluid_inside_a_swelling_vessel_warns(clear_params: SimulationParams) -> None:
    tip_x = 24.0 * math.cos(math.radians(28.0))
    tip_z = 4.0 + 24.0 * math.sin(math.radians(28.0))
    params = replace(
        clear_params,
        vessel=True,
        vessel_at=(tip_x, tip_z, 2.0),
        vessel_doppler=True,
        vessel_distends=True,
        spread_visible=False,
        spread_max_mm2=30.0,
        n_frames=50,
    )
    cine = simulate_cine(params)
    assert cine.truth[-1].fluid_in_vessel
    pipeline = GuidancePipeline(injection_at_s=params.injection_at_s)
    types = [e.type for f in cine.frames for e in pipeline(f).events]
    assert "fluid_in_vessel" in types and "no_visible_spread" not in types


def test_wilson_interval_and_warning_rates() -> None:
    assert wilson(5, 10) == (0.237, 0.763)  # the textbook Wilson score interval
    rates = warning_rates([(True, True), (True, False), (False, False), (False, True)])
    assert rates["sensitivity"] == 0.5 and rates["specificity"] == 0.5
    assert wilson(0, 0) is None


def test_fluid_in_a_vessel_counts_as_visible_once_the_outline_grows() -> None:
    cine = simulate_cine(
        scene_params(
            "fluid_in_vessel", development_seed("fluid_in_vessel", 0), rows=120, cols=160, n_frames=60
        )
    )
    onset, start = cine.spread_onset_s, cine.params.injection_at_s
    assert onset is not None and start is not None
    visible = visible_onset_s(cine)
    assert visible is not None and visible > onset  # the first inflow only swells the lumen
    before = [t.vessels[0] for f, t in zip(cine.frames, cine.truth, strict=True) if f.time_s < start]
    rx0, rz0 = max(v[2] for v in before), max(v[3] for v in before)

    def grown(truth: object) -> bool:
        _, _, rx, rz = truth.vessels[0]  # type: ignore[attr-defined]
        return bool(rx >= rx0 + VISIBLE_GROWTH_MM or rz >= rz0 + VISIBLE_GROWTH_MM)

    times = [f.time_s for f in cine.frames]
    k = times.index(visible)
    assert grown(cine.truth[k]) and not grown(cine.truth[k - 1])
    pool = simulate_cine(
        scene_params("baseline", development_seed("baseline", 0), rows=120, cols=160, n_frames=60)
    )
    assert pool.spread_onset_s is not None and visible_onset_s(pool) == pool.spread_onset_s
