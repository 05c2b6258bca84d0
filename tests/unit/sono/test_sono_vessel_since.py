"""``fluid_in_vessel`` by the outline rule asks only of a vessel followed since the injection start or before:
a pool of injectate is itself an anechoic blob that appears after the start, and its growing, jittering
area can make it look ``compressible``."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.pipeline import GuidancePipeline
from painguide.sono.simulate import SimulatedCine
from painguide.sono.vessel import Vessel, VesselDetector

from .vessel_scene import pulsing_frames


@pytest.mark.parametrize("appears_at", [0, 5])
def test_a_vessel_says_since_when_its_blob_has_been_followed(appears_at: int) -> None:
    detector = VesselDetector()
    frames = pulsing_frames(0.12, appears_at=appears_at)
    found = [detector(f) for f in frames][-1]
    assert len(found) == 1 and found[0].cue == "pulsatile"
    assert found[0].seen_since_s == frames[appears_at].time_s


def test_a_doppler_vessel_has_always_been_there() -> None:
    frame = pulsing_frames(0.12, n=1)[0]
    rgb = np.repeat(frame.pixels[:, :, None], 3, axis=2)
    rgb[60:80, 90:110] = (220, 20, 20)
    found = VesselDetector()(Frame(frame.pixels, 0.2, 0.2, 3.0, 0, "test", rgb))
    assert found and found[0].cue == "doppler" and found[0].seen_since_s == -math.inf


class _Around:
    """A vessel detector that reports one vessel over the true fluid of ``cine``, followed since ``since``."""

    def __init__(self, cine: SimulatedCine, since: float) -> None:
        last = cine.truth[-1]
        self.centre = (float(last.spread_x_mm), float(last.spread_z_mm))
        self.since = since

    def __call__(self, frame: Frame, **_: Any) -> list[Vessel]:
        a = np.linspace(0, 2 * math.pi, 40, endpoint=False)
        ring = np.stack([self.centre[0] + 6 * np.cos(a), self.centre[1] + 6 * np.sin(a)], axis=1)
        return [Vessel(*self.centre, math.pi * 36, ring, "compressible", self.since)]


def _fluid_in_vessel(cine: SimulatedCine, since: float, **options: Any) -> list[str]:
    pipeline = GuidancePipeline(
        injection_at_s=cine.params.injection_at_s,
        vessels=_Around(cine, since),  # type: ignore[arg-type]
        **options,
    )
    return [e.detail for f in cine.frames for e in pipeline(f).events if e.type == "fluid_in_vessel"]


def test_fluid_in_a_vessel_seen_before_the_injection_warns(clear_cine: SimulatedCine) -> None:
    start = clear_cine.params.injection_at_s
    assert start is not None and clear_cine.spread_onset_s is not None
    for since in (0.0, start):
        for rule in (True, False):
            warned = _fluid_in_vessel(clear_cine, since, vessel_before_injection=rule)
            assert len(warned) == 1 and "inside a vessel outline" in warned[0]


def test_fluid_in_a_vessel_first_seen_after_the_injection_does_not(clear_cine: SimulatedCine) -> None:
    start = clear_cine.params.injection_at_s
    assert start is not None
    assert _fluid_in_vessel(clear_cine, start + 0.2, vessel_before_injection=True) == []
    # by default (so that no vein that shows only as it swells goes unwarned) every vessel is asked
    asked = _fluid_in_vessel(clear_cine, start + 0.2)
    assert len(asked) == 1 and "inside a vessel outline" in asked[0]


@functools.cache
def _simulated(family: str, index: int, run_on: bool) -> SimulatedCine:
    from painguide.sono.scenes import development_seed, run_on_past_the_wait, scene_params
    from painguide.sono.simulate import simulate_cine

    params = scene_params(family, development_seed(family, index))
    return simulate_cine(run_on_past_the_wait(params) if run_on else params)


def _scene(family: str, index: int, **options: Any) -> tuple[list[Any], float, list[Any]]:
    """The vessel events of a development cine (up to ``until_s`` after the injection start), each with the
    vessels reported on its frame and those reported since the start, and the injection start."""
    cine = _simulated(family, index, options.pop("run_on", False))
    until = options.pop("until_s", math.inf)
    start = cine.params.injection_at_s
    assert start is not None
    pipeline = GuidancePipeline(injection_at_s=start, **options)
    found, since_start = [], []
    for frame in cine.frames:
        if frame.time_s > start + until:
            break
        result = pipeline(frame)
        if frame.time_s >= start:
            since_start.extend(result.vessels)
        for event in result.events:
            if event.type in ("fluid_in_vessel", "vessel_near_path"):
                found.append((event, result.vessels))
    return found, start, since_start


def test_a_vein_followed_only_once_it_swelled_still_warns() -> None:
    """Development fluid_in_vessel cine 621: the vein is followed as a blob only 0.27 s after the injection
    start, once it has swollen; it lies on a dark structure of the learned floor, so it counts."""
    found, start, _ = _scene("fluid_in_vessel", 621, vessel_before_injection=True)
    warned = [(event, vessels) for event, vessels in found if event.type == "fluid_in_vessel"]
    assert len(warned) == 1
    event, vessels = warned[0]
    assert "inside a vessel outline" in event.detail
    named = min(vessels, key=lambda v: math.hypot(v.x_mm - event.params["x"], v.z_mm - event.params["z"]))
    assert named.seen_since_s > start


def test_a_pool_followed_as_a_compressible_vessel_is_not_reported_with_the_rule() -> None:
    """Development probe_motion cine 857, run on past the no-spread wait: the pool, followed as a blob from
    0.5 s after the injection start, is called compressible; the tip lies in it and it holds the fluid."""
    found, start, since_start = _scene(
        "probe_motion", 857, run_on=True, until_s=2.0, vessel_before_injection=True
    )
    assert found == [] and all(v.seen_since_s <= start for v in since_start)
    found, start, since_start = _scene("probe_motion", 857, run_on=True, until_s=2.0)  # the default
    assert sorted(event.type for event, _ in found) == ["fluid_in_vessel", "vessel_near_path"]
    pool = [v for v in since_start if v.seen_since_s > start]
    assert pool and {v.cue for v in pool} == {"compressible"}
