"""A cine with local spread whose tip lies inside a vessel lumen when the injection starts is counted apart
from the no-spread warning's specificity: in practice such an injection goes into the vessel."""

from __future__ import annotations

from dataclasses import replace

from painguide.sono.familyeval import score_family_cine, tip_in_lumen_at_injection
from painguide.sono.frames import FrameTruth
from painguide.sono.scenes import development_seed, scene_params
from painguide.sono.simulate import SimulatedCine, simulate_cine


def _cine(family: str, index: int) -> SimulatedCine:
    return simulate_cine(scene_params(family, development_seed(family, index), rows=96, cols=128))


def _with_vessels(cine: SimulatedCine, lumen: object) -> SimulatedCine:
    """The same cine whose truth has, from the injection start on, the vessels ``lumen(truth)`` gives."""
    start = cine.params.injection_at_s
    assert start is not None
    truth: list[FrameTruth] = [
        t if f.time_s < start else replace(t, vessels=lumen(t))  # type: ignore[operator]
        for f, t in zip(cine.frames, cine.truth, strict=True)
    ]
    return SimulatedCine(cine.params, cine.frames, truth, cine.spread_onset_s)


def test_the_tip_inside_a_lumen_at_the_injection_start_is_told_from_one_beside_it() -> None:
    cine = _cine("baseline", 2)  # a scene with spread and no vessel
    assert cine.spread_onset_s is not None and not cine.params.vessel
    assert not tip_in_lumen_at_injection(cine)
    around = _with_vessels(cine, lambda t: ((t.tip_x_mm + 0.5, t.tip_z_mm, 1.0, 0.8),))
    assert tip_in_lumen_at_injection(around)
    beside = _with_vessels(cine, lambda t: ((t.tip_x_mm + 1.2, t.tip_z_mm, 1.0, 0.8),))
    assert not tip_in_lumen_at_injection(beside)
    second = _with_vessels(cine, lambda t: ((0.0, 0.0, 1.0, 1.0), (t.tip_x_mm, t.tip_z_mm - 0.5, 2.0, 1.0)))
    assert tip_in_lumen_at_injection(second)  # any lumen counts, not only the first


def test_a_tip_in_a_lumen_only_before_the_injection_does_not_count() -> None:
    cine = _cine("baseline", 2)
    start = cine.params.injection_at_s
    assert start is not None
    truth = [
        replace(t, vessels=((t.tip_x_mm, t.tip_z_mm, 1.0, 1.0),)) if f.time_s < start else t
        for f, t in zip(cine.frames, cine.truth, strict=True)
    ]
    assert not tip_in_lumen_at_injection(SimulatedCine(cine.params, cine.frames, truth, cine.spread_onset_s))


def test_only_cines_with_local_spread_are_asked() -> None:
    intravascular = _cine("intravascular", 0)  # the tip is in the vessel, and there is no spread at all
    assert intravascular.spread_onset_s is None
    at_tip = lambda t: ((t.tip_x_mm, t.tip_z_mm, 2, 2),)  # noqa: E731
    assert not tip_in_lumen_at_injection(_with_vessels(intravascular, at_tip))
    swelling = _cine("fluid_in_vessel", 0)  # the fluid_in_vessel warning's case, not this one
    assert swelling.params.vessel_distends
    assert not tip_in_lumen_at_injection(_with_vessels(swelling, at_tip))


def test_a_development_scene_that_puts_a_pool_over_a_lumen_is_counted_apart() -> None:
    """Development cine 411 of moving_at_injection: the simulator put a 3.4 mm vessel on the needle's way,
    and the tip is in it when the injection starts."""
    cine = _cine("moving_at_injection", 411)
    assert cine.spread_onset_s is not None and tip_in_lumen_at_injection(cine)
    apart = score_family_cine(cine)
    assert "no_visible_spread" not in apart.warnings
    assert apart.lumen_cines == 1
    # the same cine with its vessels taken out of the truth counts as any cine with spread does
    counted = score_family_cine(_with_vessels(cine, lambda t: ()))
    assert counted.lumen_cines == 0 and len(counted.warnings["no_visible_spread"]) == 1
    expected, warned = counted.warnings["no_visible_spread"][0]
    assert expected is False and apart.lumen_warned == int(warned)
    assert apart.metrics()["no_visible_spread_tip_in_lumen"] == {"cines": 1, "warned": int(warned)}
    assert apart.warnings["fluid_in_vessel"] == counted.warnings["fluid_in_vessel"]  # the others count it


def test_the_count_apart_adds_over_cines() -> None:
    one = score_family_cine(_cine("moving_at_injection", 411))
    two = score_family_cine(_cine("baseline", 2))
    one.add(two)
    assert one.lumen_cines == 1 and one.cines == 2
    assert len(one.warnings["no_visible_spread"]) == 1  # only the cine outside a lumen


def test_a_cine_whose_fluid_never_showed_is_counted_there_alone() -> None:
    """A cine both with its tip in a lumen and with fluid that never shows counts once, as "never showed"."""
    from painguide.sono.familyeval import without_fluid

    cine = _cine("moving_at_injection", 411)
    quiet = simulate_cine(without_fluid(cine.params))
    unseen = SimulatedCine(cine.params, quiet.frames, cine.truth, cine.spread_onset_s)
    assert tip_in_lumen_at_injection(unseen)
    score = score_family_cine(unseen, quiet=quiet)
    assert (score.unshown_cines, score.lumen_cines) == (1, 0)
    assert "no_visible_spread" not in score.warnings
