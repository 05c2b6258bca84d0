"""Only local spread stops the no-spread timer: fluid near the needle tip or the path ahead of it.

Fluid seen far from a needle in view (``spread_away_from_tip``) is reported as before, but the "no visible
spread" warning still fires when no fluid shows at the needle: a moving probe can make a far dark patch look
like fluid for a while. While the needle is not seen, any fluid counts (its last tip may be stale), and
fluid on the path ahead of the tip counts (the tracker may place the tip short of the true one).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleObservation
from painguide.sono.pipeline import FrameResult, GuidancePipeline
from painguide.sono.simulate import SimulatedCine, SimulationParams, simulate_cine
from painguide.sono.spread import SpreadObservation


def _run(pipeline: GuidancePipeline, cine: SimulatedCine) -> list[FrameResult]:
    results = [pipeline(f) for f in cine.frames]
    events = pipeline.finish(cine.frames[-1].time_s)
    if events:
        results[-1].events.extend(events)
    return results


def _events(results: list[FrameResult]) -> list[tuple[float, str, str]]:
    return [(e.time_s, e.type, e.detail) for r in results for e in r.events]


FAR_MM = 14.0
"""Pool centre this far from the tip, mostly across the shaft: its edge lies > 8 mm from the tip and path."""


def _longer(params: SimulationParams, **changes: object) -> SimulatedCine:
    return simulate_cine(replace(params, rows=160, cols=200, n_frames=70, **changes))  # 3.5 s at 20 Hz


def test_local_spread_stops_the_timer(clear_params: SimulationParams) -> None:
    cine = _longer(clear_params)
    pipeline = GuidancePipeline(injection_at_s=cine.params.injection_at_s, no_spread_timeout_s=1.5)
    types = [kind for _, kind, _ in _events(_run(pipeline, cine))]
    assert pipeline.local_spread_s is not None and pipeline.local_spread_s == pipeline.spread_onset_s
    assert "spread_onset" in types
    assert "no_visible_spread" not in types and "cine_ended_without_spread" not in types


def test_fluid_away_from_the_tip_leaves_the_timer_running(clear_params: SimulationParams) -> None:
    cine = _longer(clear_params, spread_offset_mm=FAR_MM)
    pipeline = GuidancePipeline(injection_at_s=cine.params.injection_at_s, no_spread_timeout_s=1.5)
    events = _events(_run(pipeline, cine))
    types = [kind for _, kind, _ in events]
    assert "spread_onset" in types and "spread_away_from_tip" in types
    assert pipeline.spread_onset_s is not None and pipeline.local_spread_s is None
    warnings = [e for e in events if e[1] == "no_visible_spread"]
    assert len(warnings) == 1
    time_s, _, detail = warnings[0]
    assert time_s - cine.params.injection_at_s >= 1.5  # type: ignore[operator]
    assert time_s > pipeline.spread_onset_s
    assert detail.startswith("no visible spread at the needle tip 1.")
    assert "the fluid seen lies away from the needle" in detail


def test_far_fluid_in_a_cine_shorter_than_the_wait_ends_with_the_warning(
    clear_params: SimulationParams,
) -> None:
    cine = _longer(clear_params, spread_offset_mm=FAR_MM)
    pipeline = GuidancePipeline(injection_at_s=cine.params.injection_at_s)  # 4 s: longer than the cine
    types = [kind for _, kind, _ in _events(_run(pipeline, cine))]
    assert "spread_away_from_tip" in types
    assert types[-1] == "cine_ended_without_spread"


class _Tracker:
    """A prepared needle in place of the tracker."""

    work_spacing_mm = 0.0

    def __init__(self, needle: NeedleObservation) -> None:
        self.needle, self.detector = needle, self

    def working(self, frame: Frame) -> None:
        return None

    def __call__(self, frame: Frame, work: object = None) -> NeedleObservation:
        return self.needle


class _Fluid:
    """Prepared fluid per frame in place of the spread detector."""

    work_spacing_mm = -1.0  # never the tracker's: the pipeline passes it no shared working image

    def __init__(self, fluid: list[SpreadObservation]) -> None:
        self.fluid = fluid

    def __call__(self, frame: Frame, **_: object) -> SpreadObservation:
        return self.fluid[frame.index]


def _square(x: float, z: float, half: float = 1.0) -> np.ndarray:
    """A dense square outline (every 0.1 mm) centred on ``(x, z)``."""
    s = np.linspace(-half, half, int(20 * half) + 1)
    edges = [np.c_[s, np.full_like(s, -half)], np.c_[np.full_like(s, half), s]]
    edges += [np.c_[s[::-1], np.full_like(s, half)], np.c_[np.full_like(s, -half), s[::-1]]]
    return np.concatenate(edges) + np.array([x, z])


def _warned_with(needle: NeedleObservation, fluid_at: tuple[float, float]) -> tuple[bool, float | None]:
    """Whether the timer warned, and when local spread was confirmed, with fluid at ``fluid_at`` from 0.5 s
    (injection at 0.2 s, warning after 3 s)."""
    n = 60
    tip = (needle.tip_x_mm, needle.tip_z_mm) if needle.visible else (20.0, 10.0)
    fluid = [
        SpreadObservation(
            visible=True,
            area_mm2=2.0,  # below the strong-spread area: confirmed on its second frame
            centre_x_mm=fluid_at[0],
            centre_z_mm=fluid_at[1],
            distance_to_tip_mm=max(0.0, math.dist(tip, fluid_at) - 1.0),
            contours_mm=[_square(*fluid_at)],
        )
        if i >= 5
        else SpreadObservation(visible=False)
        for i in range(n)
    ]
    pipeline = GuidancePipeline(injection_at_s=0.2, no_spread_timeout_s=3.0, spread=_Fluid(fluid))  # type: ignore[arg-type]
    pipeline.tracker = _Tracker(needle)  # type: ignore[assignment]
    pixels = np.zeros((10, 10), np.uint8)
    events = [e.type for i in range(n) for e in pipeline(Frame(pixels, 0.1, 0.1, i / 10.0, i)).events]
    return "no_visible_spread" in events, pipeline.local_spread_s


# a needle from (0, 0) to its tip at (10, 10): it points down and to the right
NEEDLE = NeedleObservation(True, 10.0, 10.0, 45.0, 14.1, 1.0, 0.0, 0.0)


def test_fluid_next_to_the_tip_is_local() -> None:
    assert _warned_with(NEEDLE, (12.0, 13.0)) == (False, 0.6)


def test_fluid_far_from_the_tip_and_its_path_is_not_local() -> None:
    warned, local = _warned_with(NEEDLE, (10.0, 30.0))  # 20 mm below the tip, 12 mm from the path
    assert warned and local is None


def test_fluid_on_the_path_ahead_of_the_tip_is_local() -> None:
    warned, local = _warned_with(NEEDLE, (17.0, 17.0))  # 10 mm from the tip, on its path
    assert not warned and local == 0.6


def test_any_fluid_is_local_while_the_needle_is_not_seen() -> None:
    assert _warned_with(NeedleObservation(False), (10.0, 30.0)) == (False, 0.6)
