"""The evaluation can run a later block of each family's seeds (a confirmation set never run before)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from painguide.sono import familyeval
from painguide.sono.scenes import confirmation_seed, development_seed, held_out_seed


@pytest.mark.parametrize(
    ("test_set", "confirmation", "seed_of"),
    [
        (True, False, held_out_seed),
        (False, False, development_seed),
        (True, True, confirmation_seed),
        (False, True, confirmation_seed),
    ],
)
def test_first_picks_the_block_of_seeds(
    monkeypatch: pytest.MonkeyPatch, test_set: bool, confirmation: bool, seed_of: Any
) -> None:
    asked: list[tuple[str, int]] = []

    def params(family: str, seed: int, **_: Any) -> Any:
        asked.append((family, seed))
        raise _Stop

    monkeypatch.setattr(familyeval, "scene_params", params)
    for first in (0, 500):
        with pytest.raises(_Stop):
            familyeval.evaluate_families(
                per_family=2,
                families=("needle_free",),
                test_set=test_set,
                first=first,
                confirmation=confirmation,
            )
    assert asked == [("needle_free", seed_of("needle_free", 0)), ("needle_free", seed_of("needle_free", 500))]


def _bench() -> Any:
    """benchmarks/bench_sono.py, loaded as a module."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_sono.py"
    spec = importlib.util.spec_from_file_location("bench_sono", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


class _Stop(Exception):
    """Stops the evaluation once the first scene is asked for."""


def test_parts_of_one_family_are_summed_when_merged() -> None:
    """A block run in pieces (cines 500-511, then 512-529) merges into one table of 30 cines per family."""
    from dataclasses import asdict

    from painguide.sono.familyeval import FamilyScore

    merge_parts = _bench().merge_parts

    def part(first: int, cines: int, detected: int, errors: list[float]) -> dict[str, Any]:
        score = FamilyScore("baseline", cines=cines, frames=60 * cines, truth_visible=50 * cines)
        score.detected, score.tip_errors_mm = detected, errors
        return {
            "set": "test",
            "seeds": [900000, 999999],
            "first": first,
            "per_family": cines,
            "scores": {"baseline": asdict(score)},
            "real_needle_free": {},
        }

    merged = merge_parts([part(500, 12, 540, [0.1, 0.2]), part(512, 18, 880, [0.3])])
    baseline = merged["families"]["baseline"]
    assert (merged["first"], merged["per_family"]) == (500, 30)
    assert baseline["cines"] == 30 and baseline["detection_rate"] == round((540 + 880) / 1500, 3)
    assert merged["families"]["all"]["cines"] == 30


def test_run_on_takes_every_cine_with_an_injection_past_the_no_spread_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``run_on`` the cines with spread reach the warning's check at the timeout, as intravascular
    cines do; a cine without an injection is left as it was."""
    from painguide.sono.pipeline import GuidancePipeline

    simulated: list[Any] = []

    def simulate(params: Any) -> Any:
        simulated.append(params)
        raise _Stop

    monkeypatch.setattr(familyeval, "simulate_cine", simulate)
    for family in ("baseline", "needle_free"):
        for run_on in (False, True):
            with pytest.raises(_Stop):
                familyeval.evaluate_families(per_family=1, families=(family,), run_on=run_on)
    short, long, free, free_on = simulated
    assert short.n_frames < _long_enough(short)  # 60 frames: the cine ends before the wait
    assert long.n_frames == _long_enough(long) and long.seed == short.seed
    assert long.n_frames / long.frame_rate_hz - long.injection_at_s >= GuidancePipeline().no_spread_timeout_s
    assert free.injection_at_s is None and free_on == free


def _long_enough(params: Any) -> int:
    """Frames to 5.5 s after the injection start, computed here independently of the code."""
    from painguide.sono.scenes import AFTER_INJECTION_S

    return math.ceil((params.injection_at_s + AFTER_INJECTION_S) * params.frame_rate_hz)


def test_parts_run_with_and_without_run_on_are_not_merged() -> None:
    from dataclasses import asdict

    from painguide.sono.familyeval import FamilyScore

    scores = {"baseline": asdict(FamilyScore("baseline", cines=1))}
    part = {"set": "test", "seeds": [900000, 999999], "first": 0, "per_family": 1, "scores": scores}
    parts = [{**part, "run_on": True, "real_needle_free": {}}, {**part, "real_needle_free": {}}]
    with pytest.raises(ValueError, match="--run-on"):
        _bench().merge_parts(parts)
    assert _bench().merge_parts([parts[0], parts[0]])["run_on"] is True


def test_the_table_names_the_cines_counted_apart_from_the_no_spread_specificity() -> None:
    """Cines whose fluid never showed and cines whose tip was in a vessel lumen at the injection start are
    left out of the specificity; the table says how many there were and in how many the warning fired."""
    from dataclasses import asdict

    from painguide.sono.familyeval import FamilyScore

    score = FamilyScore("moving_at_injection", cines=3, lumen_cines=1, lumen_warned=1, unshown_cines=1)
    score.warnings = {"no_visible_spread": [(False, False)]}
    part = {"set": "test", "seeds": [900000, 999999], "first": 0, "per_family": 3, "real_needle_free": {}}
    bench = _bench()
    merged = bench.merge_parts([{**part, "scores": {"moving_at_injection": asdict(score)}}])
    family = merged["families"]["moving_at_injection"]
    assert family["no_visible_spread_tip_in_lumen"] == {"cines": 1, "warned": 1}
    row = next(line for line in bench.family_table(merged).splitlines() if "moving_at_injection" in line)
    assert "(warned in 1 of 1 whose tip was in a vessel lumen at the injection start)" in row
    assert "(warned in 0 of 1 whose fluid never showed)" in row
    assert " - / 1.0 (0.207-1.0) (warned in 0 of 1" in row  # the one cine left in: 1 of 1, no positive


def test_the_false_needles_are_printed_under_the_table() -> None:
    """The table has no column for false needles; the line under it counts them per family (always for
    ``needle_free``, for another family only when it has some) and on the real needle-free cines."""
    from dataclasses import asdict

    from painguide.sono.familyeval import FamilyScore

    part = {"set": "confirmation", "seeds": [800000, 899999], "first": 0, "per_family": 30}
    free = FamilyScore("needle_free", cines=30, frames=1800, false_needles=4)
    base = FamilyScore("baseline", cines=30, frames=3600)
    bent = FamilyScore("bent", cines=30, frames=3500, false_needles=2)
    real = {"examples_ybr_color.dcm": {"false_frames": 0, "frames": 30}}
    parts = [
        {**part, "scores": {"baseline": asdict(base), "bent": asdict(bent)}, "real_needle_free": real},
        {**part, "scores": {"needle_free": asdict(free)}, "real_needle_free": {}},
    ]
    bench = _bench()
    line = bench.false_needles_line(bench.merge_parts(parts))
    assert line == (
        "False needles (a needle reported in a frame without one): `bent` 2 of 3500 frames; "
        "`needle_free` 4 of 1800 frames; real needle-free cines: examples_ybr_color.dcm 0 of 30 frames"
    )
    alone = bench.false_needles_line(bench.merge_parts(parts[1:]))
    assert alone.endswith("`needle_free` 4 of 1800 frames; real needle-free cines: not run (run with --real)")
