"""An onset counts as the true fluid's only where the fluid it reports lies near that fluid: within
ONSET_REACH_MM of the true centre plus the largest semi-axis (a pool's ellipse, or the swelling vessel's
outline); an onset away from it or before it is counted apart (``onsets_off_fluid``)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from painguide.sono.familyeval import (
    ONSET_REACH_MM,
    FamilyScore,
    on_fluid,
    region_off_fluid,
    score_family_cine,
)
from painguide.sono.frames import Frame, FrameTruth
from painguide.sono.needle import NeedleObservation
from painguide.sono.pipeline import Event, FrameResult
from painguide.sono.scenes import development_seed, scene_params
from painguide.sono.simulate import SimulatedCine
from painguide.sono.spread import SpreadObservation

from .replayed_pipeline import replay_pipeline

PARAMS = replace(scene_params("baseline", development_seed("baseline", 0)), spread_aspect=1.0)
POOL_MM2 = 4 * math.pi  # a round pool of radius 2 mm at (20, 30)


def _truth(*, fluid: bool = True, vessels: tuple[tuple[float, float, float, float], ...] = ()) -> FrameTruth:
    nan = float("nan")
    return FrameTruth(
        needle_visible=False,
        tip_x_mm=nan,
        tip_z_mm=nan,
        angle_deg=nan,
        visible_length_mm=0.0,
        spread_visible=fluid,
        spread_area_mm2=POOL_MM2 if fluid else 0.0,
        spread_x_mm=20.0 if fluid else nan,
        spread_z_mm=30.0 if fluid else nan,
        vessels=vessels,
    )


def _result(x_mm: float, z_mm: float = 30.0, *, visible: bool = True) -> FrameResult:
    spread = SpreadObservation(visible, 3.0 if visible else 0.0, x_mm, z_mm)
    return FrameResult(0, 0.0, NeedleObservation(False), spread, 1.0, [], [])


@pytest.mark.parametrize(
    ("x_mm", "near"),
    [
        (20.0, True),  # on the pool
        (20.0 + 2.0 + ONSET_REACH_MM - 0.1, True),  # just within the reach beyond its radius
        (20.0 + 2.0 + ONSET_REACH_MM + 0.1, False),  # just beyond it
        (49.0, False),  # 29 mm away
    ],
)
def test_fluid_reported_near_the_true_pool_counts_as_it(x_mm: float, near: bool) -> None:
    assert on_fluid(_result(x_mm), _truth(), PARAMS) is near


def test_an_elongated_pool_reaches_farther() -> None:
    x_mm = 20.0 + 2.0 + ONSET_REACH_MM + 1.0  # beyond a round pool's reach, within a layer of aspect 4's
    assert not on_fluid(_result(x_mm), _truth(), PARAMS)
    assert on_fluid(_result(x_mm), _truth(), replace(PARAMS, spread_aspect=4.0))


def test_a_swelling_vessel_reaches_as_far_as_its_outline() -> None:
    params = replace(PARAMS, vessel_distends=True)
    x_mm = 20.0 + 4.0 + ONSET_REACH_MM - 0.1  # within a vessel of semi-axes 4 and 3 mm, not the pool's radius
    assert on_fluid(_result(x_mm), _truth(vessels=((20.0, 30.0, 4.0, 3.0),)), params)
    assert not on_fluid(_result(x_mm), _truth(), PARAMS)


def test_no_true_fluid_yet_or_nothing_reported_is_off_the_fluid() -> None:
    assert not on_fluid(_result(20.0), _truth(fluid=False), PARAMS)
    assert not on_fluid(_result(20.0, visible=False), _truth(), PARAMS)


def _cine(onset_x_mm: float) -> tuple[SimulatedCine, list[FrameResult]]:
    """A cine of 6 frames whose true fluid appears at 0.2 s, and the pipeline's results: fluid reported
    at ``onset_x_mm`` from 0.3 s on (the onset event on the second of those frames)."""
    frames = [Frame(np.zeros((8, 8), np.uint8), 0.5, 0.5, k / 10.0, index=k) for k in range(6)]
    truth = [_truth(fluid=k >= 2) for k in range(6)]
    results = [_result(onset_x_mm, visible=k >= 3) for k in range(6)]
    return SimulatedCine(PARAMS, frames, truth, 0.2), results


@pytest.mark.parametrize(("x_mm", "off"), [(21.0, 0), (49.0, 1)])
def test_the_score_counts_an_onset_off_the_fluid_and_keeps_its_latency(
    monkeypatch: pytest.MonkeyPatch, x_mm: float, off: int
) -> None:

    cine, results = _cine(x_mm)

    def result(frame: Frame) -> FrameResult:
        found = replace(results[frame.index], index=frame.index, time_s=frame.time_s)
        if frame.index == 4:
            found = replace(found, events=[Event(frame.time_s, "spread_onset", "spread onset")])
        return found

    replay_pipeline(monkeypatch, result)
    score: FamilyScore = score_family_cine(cine)
    assert score.onsets_off_fluid == off
    assert score.latencies_s == [pytest.approx(0.2)]
    assert score.metrics()["onsets_off_fluid"] == off


def _square(x_mm: float, z_mm: float, half_mm: float) -> np.ndarray:
    """The outline of a square region centred at (x_mm, z_mm), as the spread detector reports outlines."""
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    return np.array([(x_mm + dx * half_mm, z_mm + dz * half_mm) for dx, dz in corners], dtype=np.float64)


def _regions(*outlines: np.ndarray) -> FrameResult:
    spread = SpreadObservation(True, 3.0, 20.0, 30.0, contours_mm=list(outlines))
    return FrameResult(0, 0.0, NeedleObservation(False), spread, 1.0, [], [])


def test_a_region_beside_the_fluid_counts_as_off_it() -> None:
    pool = _square(20.0, 30.0, 2.0)
    assert not region_off_fluid(_regions(pool), _truth(), PARAMS)
    assert region_off_fluid(_regions(pool, _square(20.0, 63.0, 3.0)), _truth(), PARAMS)  # 33 mm deeper
    near = 30.0 + 2.0 + ONSET_REACH_MM + 1.0 - 0.1  # its outline 1 mm from the pool's reach: within it
    assert not region_off_fluid(_regions(pool, _square(20.0, near, 1.0)), _truth(), PARAMS)


def test_a_region_around_the_fluid_is_on_it_however_large() -> None:
    assert not region_off_fluid(_regions(_square(20.0, 30.0, 20.0)), _truth(), PARAMS)


def test_without_true_fluid_no_region_is_off_it() -> None:
    """Frames without fluid count as false spread frames instead."""
    assert not region_off_fluid(_regions(_square(20.0, 63.0, 3.0)), _truth(fluid=False), PARAMS)


def test_the_score_counts_frames_with_fluid_that_show_a_region_off_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    cine, _ = _cine(21.0)
    regions = _regions(_square(20.0, 30.0, 2.0), _square(20.0, 63.0, 3.0))

    def result(frame: Frame) -> FrameResult:
        if frame.index < 3:
            return _result(21.0, visible=False)
        return replace(regions, index=frame.index, time_s=frame.time_s)

    replay_pipeline(monkeypatch, result)
    metrics = score_family_cine(cine).metrics()
    assert (metrics["fluid_frames"], metrics["fluid_frames_off"]) == (
        4,
        3,
    )  # fluid from frame 2, regions from 3
    assert metrics["false_spread_frames"] == 0
