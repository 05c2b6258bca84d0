"""An intravascular injection counts as flagged when any warning that asks to check for one fired
(``no_visible_spread``, ``fluid_in_vessel``, ``spread_away_from_tip``); cines with local spread are its
negatives."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from painguide.sono.familyeval import INTRAVASCULAR_WARNINGS, score_family_cine
from painguide.sono.frames import Frame, FrameTruth
from painguide.sono.needle import NeedleObservation
from painguide.sono.pipeline import Event, FrameResult
from painguide.sono.scenes import development_seed, scene_params
from painguide.sono.simulate import SimulatedCine
from painguide.sono.spread import SpreadObservation

from .replayed_pipeline import replay_pipeline

NAN = float("nan")


def _cine(family: str, *, fluid: bool) -> SimulatedCine:
    """Six empty frames of a cine of ``family``; with ``fluid`` its true fluid appears at 0.2 s."""
    params = scene_params(family, development_seed(family, 0))
    frames = [Frame(np.zeros((8, 8), np.uint8), 0.5, 0.5, k / 10.0, index=k) for k in range(6)]
    truth = [
        FrameTruth(False, NAN, NAN, NAN, 0.0, fluid and k >= 2, 4.0 if fluid and k >= 2 else 0.0)
        for k in range(6)
    ]
    return SimulatedCine(params, frames, truth, 0.2 if fluid else None)


def _score(
    monkeypatch: pytest.MonkeyPatch, cine: SimulatedCine, event: str | None
) -> list[tuple[bool, bool]]:
    """Score ``cine`` with a pipeline that reports nothing but ``event`` on its fourth frame."""

    def result(frame: Frame) -> FrameResult:
        events = [Event(frame.time_s, event, "")] if event and frame.index == 3 else []
        nothing = SpreadObservation(False)
        return FrameResult(frame.index, frame.time_s, NeedleObservation(False), nothing, 1.0, events)

    replay_pipeline(monkeypatch, result)
    return score_family_cine(cine).warnings["intravascular_flag"]


@pytest.mark.parametrize("event", INTRAVASCULAR_WARNINGS)
def test_any_of_the_warnings_flags_an_intravascular_cine(monkeypatch: pytest.MonkeyPatch, event: str) -> None:
    assert _score(monkeypatch, _cine("intravascular", fluid=False), event) == [(True, True)]


def test_an_intravascular_cine_without_them_is_missed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _score(monkeypatch, _cine("intravascular_moving", fluid=False), "spread_onset") == [(True, False)]


def test_fluid_into_a_vein_is_an_intravascular_injection_too(monkeypatch: pytest.MonkeyPatch) -> None:
    cine = _cine("fluid_in_vessel", fluid=True)
    assert cine.params.vessel_distends
    assert _score(monkeypatch, cine, "fluid_in_vessel") == [(True, True)]


def test_a_warning_in_a_cine_with_local_spread_is_a_false_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    cine = _cine("baseline", fluid=True)
    assert _score(monkeypatch, cine, "spread_away_from_tip") == [(False, True)]
    assert _score(monkeypatch, cine, None) == [(False, False)]
    assert not cine.params.vessel_distends


def test_a_cine_that_ends_without_spread_counts_as_warned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real pipeline, fed frames without anything in them: the injection starts at 0.1 s (the scene's
    start is moved there) and the cine ends 0.4 s later, before the warning's 4 s wait. Its end says "no
    visible spread", which counts as the warning: right for an intravascular cine, false for one with
    fluid whose onset was missed."""
    for family, fluid, expected in (("intravascular", False, True), ("baseline", True, False)):
        cine = _cine(family, fluid=fluid)
        cine = SimulatedCine(
            replace(cine.params, injection_at_s=0.1), cine.frames, cine.truth, cine.spread_onset_s
        )
        score = score_family_cine(cine)
        assert score.warnings["no_visible_spread"] == [(expected, True)]
        assert score.warnings["intravascular_flag"] == [(expected, True)]
