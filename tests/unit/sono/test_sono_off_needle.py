"""A needle reported off the true one (a still line held while the true needle is faint or not yet in the
plane) is counted as such, whether or not the true needle is visible: it is neither a false needle nor a tip
error."""

from __future__ import annotations

import math

from painguide.sono.familyeval import OFF_NEEDLE_MM, FamilyScore, score_needle
from painguide.sono.frames import FrameTruth
from painguide.sono.needle import NeedleObservation
from painguide.sono.scenes import development_seed, scene_params

PARAMS = scene_params("steep_deep", development_seed("steep_deep", 0), rows=40, cols=40, n_frames=2)


def _truth(*, visible: bool, tip: tuple[float, float] = (20.0, 15.0)) -> FrameTruth:
    return FrameTruth(visible, tip[0], tip[1], 50.0, 12.0 if visible else 0.0, False, 0.0, math.nan, math.nan)


def _reported(x: float, z: float) -> NeedleObservation:
    return NeedleObservation(True, x, z, 50.0, 8.0, 0.2, x - 5.0, z - 6.0)


def _score(needle: NeedleObservation, truth: FrameTruth) -> FamilyScore:
    score = FamilyScore("steep_deep")
    score_needle(score, needle, truth, PARAMS)
    return score


def test_a_line_held_while_the_true_needle_is_invisible_is_off_the_needle() -> None:
    far = _score(_reported(35.0, 3.0), _truth(visible=False))  # a line at the skin across from the needle
    assert (far.off_needle_frames, far.needle_reported) == (1, 1)
    assert far.false_needles == 0 and far.tip_errors_mm == []  # counted nowhere before
    assert far.metrics()["off_needle_frames"] == 1 and far.metrics()["needle_reported_frames"] == 1


def test_a_faint_true_needle_followed_while_invisible_is_not_off() -> None:
    near = _score(_reported(20.0 + OFF_NEEDLE_MM - 0.5, 15.0), _truth(visible=False))
    assert (near.off_needle_frames, near.needle_reported) == (0, 1)


def test_a_tip_reported_short_on_the_needles_own_line_is_not_off() -> None:
    """The deep part of a steep needle fades: the tip reported 8 mm short lies on the needle, not off it."""
    a = math.radians(50.0)
    short = _reported(20.0 - 8.0 * math.cos(a), 15.0 - 8.0 * math.sin(a))
    assert _score(short, _truth(visible=False)).off_needle_frames == 0
    x, z = 20.0 - 8.0 * math.cos(a), 15.0 - 8.0 * math.sin(a)
    aside = _reported(x + 6.0 * math.sin(a), z - 6.0 * math.cos(a))
    assert _score(aside, _truth(visible=False)).off_needle_frames == 1  # 6 mm beside that line


def test_a_visible_needle_reported_far_away_is_off_and_a_tip_error() -> None:
    far = _score(_reported(20.0, 15.0 + OFF_NEEDLE_MM + 1.0), _truth(visible=True))
    assert far.off_needle_frames == 1 and far.detected == 1
    assert far.tip_errors_mm and far.tip_errors_mm[0] > OFF_NEEDLE_MM


def test_nothing_reported_or_no_true_tip_is_not_counted() -> None:
    assert _score(NeedleObservation(False), _truth(visible=False)).needle_reported == 0
    unknown = _score(_reported(4.0, 2.0), _truth(visible=False, tip=(math.nan, math.nan)))
    assert unknown.needle_reported == 0 and unknown.false_needles == 1  # not yet entered: a false needle
