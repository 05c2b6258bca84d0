"""When the fluid first shows in the image: the evaluation's second onset latency counts from the first frame
on which the fluid darkens the image against the same cine simulated without it."""

from __future__ import annotations

import numpy as np
import pytest

from painguide.sono.familyeval import (
    SHOWN_AREA_MM2,
    SHOWN_DARKER,
    score_family_cine,
    shown_onset_s,
    visible_onset_s,
    without_fluid,
)
from painguide.sono.frames import Frame
from painguide.sono.scenes import development_seed, scene_params
from painguide.sono.simulate import SimulatedCine, simulate_cine

SPACING = 0.1  # mm per pixel: a 1 mm mean is 10 by 10 pixels


def _pair(darkening: list[tuple[float, int]]) -> tuple[SimulatedCine, SimulatedCine]:
    """A cine of 10 flat frames (grey level 100, one every 0.1 s) whose true fluid appears at 0.3 s, and the
    same cine without it; ``darkening[k]`` is (grey levels, side of a square in pixels) on frame k."""
    params = scene_params("baseline", development_seed("baseline", 0), rows=40, cols=40, n_frames=10)
    plain, fluid = [], []
    for k in range(10):
        image = np.full((60, 60), 100, np.uint8)
        plain.append(Frame(image.copy(), SPACING, SPACING, k / 10.0, index=k))
        drop, side = darkening[k] if k < len(darkening) else darkening[-1]
        image[20 : 20 + side, 20 : 20 + side] -= np.uint8(drop)
        fluid.append(Frame(image, SPACING, SPACING, k / 10.0, index=k))
    quiet = SimulatedCine(params, plain, [], None)
    return SimulatedCine(params, fluid, [], 0.3), quiet


def test_fluid_shows_once_it_darkens_a_square_millimetre_by_more_than_the_margin() -> None:
    faint = int(SHOWN_DARKER) - 1
    clear = int(SHOWN_DARKER) + 3
    side = int(np.ceil(np.sqrt(SHOWN_AREA_MM2) / SPACING)) + 12  # its 1 mm means cover more than 1 mm²
    # a 1 mm square 2 margins darker: its 1 mm means pass the margin over about 0.6 mm² only
    dot = (2 * int(SHOWN_DARKER), round(1.0 / SPACING))
    cine, quiet = _pair([(0, 0)] * 3 + [(faint, 30)] * 2 + [dot] * 2 + [(clear, side)])
    assert shown_onset_s(cine, quiet) == pytest.approx(0.7)  # not the faint wide fluid, not the small dot


def test_a_darkening_before_the_true_onset_does_not_count() -> None:
    cine, quiet = _pair([(20, 30)])  # dark from the first frame: shown at the true onset, not before
    assert shown_onset_s(cine, quiet) == pytest.approx(0.3)


def test_fluid_that_never_shows_has_no_time() -> None:
    cine, quiet = _pair([(0, 0)] * 3 + [(int(SHOWN_DARKER) - 1, 30)])
    assert shown_onset_s(cine, quiet) is None
    assert visible_onset_s(cine, quiet) is None
    assert visible_onset_s(cine) == pytest.approx(0.3)  # without the quiet cine: the true onset


@pytest.mark.parametrize("family", ["baseline", "fascial_spread", "fluid_in_vessel"])
def test_the_cine_without_fluid_is_the_same_cine_until_the_fluid_appears(family: str) -> None:
    params = scene_params(family, development_seed(family, 1), rows=120, cols=160, n_frames=60)
    cine, quiet = simulate_cine(params), simulate_cine(without_fluid(params))
    onset = cine.spread_onset_s
    assert onset is not None and quiet.spread_onset_s is None
    same = [np.array_equal(a.pixels, b.pixels) for a, b in zip(cine.frames, quiet.frames, strict=True)]
    before = [k for k, f in enumerate(cine.frames) if f.time_s < onset]
    assert before and all(same[k] for k in before)
    assert not all(same)
    shown, visible = shown_onset_s(cine, quiet), visible_onset_s(cine, quiet)
    assert shown is not None and shown >= onset
    assert visible is not None and visible >= max(shown, visible_onset_s(cine) or onset)


def test_a_missed_onset_whose_fluid_never_shows_is_counted_apart() -> None:
    params = scene_params("baseline", development_seed("baseline", 2), rows=120, cols=160, n_frames=60)
    cine, quiet = simulate_cine(params), simulate_cine(without_fluid(params))
    # the truth of a cine with fluid over the frames without it: the fluid is there and never shows
    unseen = SimulatedCine(params, quiet.frames, cine.truth, cine.spread_onset_s)
    with_quiet = score_family_cine(unseen, quiet=quiet)
    assert with_quiet.spread_missed == 1 and with_quiet.spread_missed_unshown == 1
    assert with_quiet.metrics()["spread_missed_unshown"] == 1
    assert score_family_cine(unseen).spread_missed_unshown == 0  # without the quiet cine it cannot be told
    shown = score_family_cine(cine, quiet=quiet)
    assert shown.spread_missed == 0 and shown.spread_missed_unshown == 0


def test_a_cine_whose_fluid_never_shows_is_left_out_of_the_no_spread_specificity() -> None:
    """Fluid that went in but never showed is no visible spread: the warning is right to fire there, so the
    cine is counted apart, not as a false warning in a cine with spread."""
    params = scene_params("baseline", development_seed("baseline", 2), rows=120, cols=160, n_frames=60)
    cine, quiet = simulate_cine(params), simulate_cine(without_fluid(params))
    unseen = SimulatedCine(params, quiet.frames, cine.truth, cine.spread_onset_s)
    apart = score_family_cine(unseen, quiet=quiet)
    assert "no_visible_spread" not in apart.warnings
    assert (apart.unshown_cines, apart.unshown_warned) == (1, 1)  # it ends before the wait: said at the end
    assert apart.metrics()["no_visible_spread_unshown"] == {"cines": 1, "warned": 1}
    assert apart.warnings["fluid_in_vessel"] == [(False, False)]  # the other warnings still count it
    blind = score_family_cine(unseen)  # without the quiet cine it cannot be told: a false warning
    assert blind.warnings["no_visible_spread"] == [(False, True)] and blind.unshown_cines == 0
    shown = score_family_cine(cine, quiet=quiet)
    assert shown.warnings["no_visible_spread"] == [(False, False)] and shown.unshown_cines == 0
