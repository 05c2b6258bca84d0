"""CUSUM and LC-CUSUM against hand-computed examples; the exact limit against enumeration and simulation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from painguide.errors import ValidationError
from painguide.training.cusum import (
    CusumDesign,
    competent_at,
    cusum_scores,
    declaration_probability,
    exact_limit,
    lc_cusum_scores,
    learning_curve,
)

DEFAULT = CusumDesign(p0=0.10, p1=0.20, alpha=0.10, beta=0.10)


def test_weights_and_limit_by_hand() -> None:
    # P = ln(0.2/0.1) = ln 2 = 0.693147; Q = ln(0.9/0.8) = 0.117783; P + Q = 0.810930
    # s = Q/(P+Q) = 0.145244; h = ln(0.9/0.1)/(P+Q) = 2.197225/0.810930 = 2.709511
    weights = (DEFAULT.P, DEFAULT.Q)
    assert weights == pytest.approx((0.693147, 0.117783), abs=1e-6)
    assert DEFAULT.s == pytest.approx(0.145244, abs=1e-6)
    assert DEFAULT.h == pytest.approx(2.709511, abs=1e-6)
    assert DEFAULT.h_acceptable == pytest.approx(-2.709511, abs=1e-6)


def test_other_design_by_hand() -> None:
    # p0 = 0.05, p1 = 0.15: P = ln 3 = 1.098612, Q = ln(0.95/0.85) = 0.111226, P + Q = 1.209838
    # s = 0.111226/1.209838 = 0.091934
    # alpha 0.05, beta 0.2: h = ln(0.8/0.05)/(P+Q) = 2.772589/1.209838 = 2.291703
    # lower boundary -ln(0.95/0.2)/(P+Q) = -1.558145/1.209838 = -1.287895
    d = CusumDesign(p0=0.05, p1=0.15, alpha=0.05, beta=0.2)
    assert d.s == pytest.approx(0.091934, abs=1e-6)
    assert d.h == pytest.approx(2.291703, abs=1e-6)
    assert d.h_acceptable == pytest.approx(-1.287895, abs=1e-6)


def test_classic_cusum_by_hand() -> None:
    # outcomes 1, 1, 0, 0, 1 with s = 0.145244, 1 - s = 0.854756, no reset:
    # -0.145244, -0.290489, -0.290489 + 0.854756 = 0.564267, 1.419023, 1.419023 - 0.145244 = 1.273779
    expected = [-0.145244, -0.290489, 0.564267, 1.419023, 1.273779]
    assert cusum_scores([1, 1, 0, 0, 1], DEFAULT) == pytest.approx(expected, abs=1e-6)


def test_lc_cusum_by_hand_floors_at_zero() -> None:
    # 1, 1, 0, 0, 1: 0.145244, 0.290489, max(0, 0.290489 - 0.854756) = 0, max(0, 0 - 0.854756) = 0, 0.145244
    expected = [0.145244, 0.290489, 0.0, 0.0, 0.145244]
    assert lc_cusum_scores([1, 1, 0, 0, 1], DEFAULT) == pytest.approx(expected, abs=1e-6)


def test_competence_needs_nineteen_straight_successes_after_a_failure() -> None:
    # From 0, n successes give n * 0.145244: 18 -> 2.614398 < h = 2.709511, 19 -> 2.759643 >= h.
    # A failure first keeps the score at 0, so the 19th success is index 19 (the 20th procedure).
    curve = learning_curve([0] + [1] * 19, DEFAULT)
    assert curve.competent_at == 19
    assert learning_curve([0] + [1] * 18, DEFAULT).competent_at is None
    # A failure at index 10 drops 0.854756 (to 1.452443 - 0.854756 = 0.597687); 15 more successes are
    # then needed
    # (0.597687 + 14 * 0.145244 = 2.631103 < h; + 15 * 0.145244 = 2.776347 >= h): index 10 + 15 = 25.
    series = [1] * 10 + [0] + [1] * 15
    assert learning_curve(series, DEFAULT).competent_at == 25


def test_competent_at_is_the_first_crossing() -> None:
    assert competent_at([0.0, 1.0, 3.0, 0.0, 3.0], 2.5) == 2
    assert competent_at([0.0, 1.0], 2.5) is None


def test_json_contract_keys() -> None:
    data = learning_curve([1, 0, 1], DEFAULT).to_dict()
    assert {"h", "s", "scores", "lc_scores", "competent_at"} <= set(data)
    assert len(data["scores"]) == len(data["lc_scores"]) == 3
    assert data["limit"] == "wald" and data["horizon"] is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"p0": 0.3, "p1": 0.2}, "p0"),
        ({"p0": 0.2, "p1": 0.2}, "p0"),
        ({"p0": 0.0}, "p0"),
        ({"p1": 1.0}, "p1"),
        ({"alpha": 0.0}, "alpha"),
        ({"beta": 1.2}, "beta"),
        ({"alpha": 0.6, "beta": 0.5}, "alpha"),
    ],
)
def test_bad_design_names_the_field(kwargs: dict[str, float], field: str) -> None:
    values = {"p0": 0.1, "p1": 0.2, "alpha": 0.1, "beta": 0.1, **kwargs}
    with pytest.raises(ValidationError, match=f"^{field}: "):
        CusumDesign(**values)


@pytest.mark.parametrize("bad", [[1, 2], [1, -1], [True, 0.5]])
def test_outcomes_must_be_zero_or_one(bad: list[int]) -> None:
    with pytest.raises(ValidationError, match=r"^outcomes: .*position 2"):
        cusum_scores(bad, DEFAULT)


def _enumerated_probability(design: CusumDesign, h: float, rate: float, horizon: int) -> float:
    total = 0.0
    for seq in itertools.product((0, 1), repeat=horizon):
        if competent_at(lc_cusum_scores(seq, design), h) is not None:
            failures = seq.count(0)
            total += rate**failures * (1 - rate) ** (horizon - failures)
    return total


@pytest.mark.parametrize(("h", "rate"), [(0.5, 0.2), (0.5, 0.1), (1.0, 0.3), (0.29, 0.5)])
def test_declaration_probability_matches_enumeration(h: float, rate: float) -> None:
    assert declaration_probability(DEFAULT, h, rate, 12) == pytest.approx(
        _enumerated_probability(DEFAULT, h, rate, 12), abs=1e-12
    )


def test_declaration_probability_matches_seeded_simulation() -> None:
    rng = np.random.default_rng(20260101)
    runs, horizon = 20000, 50
    success = rng.random((runs, horizon)) >= DEFAULT.p1
    score = np.zeros(runs)
    crossed = np.zeros(runs, dtype=bool)
    for column in success.T:
        score = np.maximum(0.0, score + np.where(column, DEFAULT.s, DEFAULT.s - 1))
        crossed |= score >= DEFAULT.h - 1e-9
    simulated = crossed.mean()
    exact = declaration_probability(DEFAULT, DEFAULT.h, DEFAULT.p1, horizon)
    assert abs(simulated - exact) < 4 * np.sqrt(exact * (1 - exact) / runs)
    assert 0.1 < exact < 0.25  # Wald's limit lets ~16 % of inadequate operators through within 50


def test_exact_limit_keeps_false_declarations_at_alpha() -> None:
    for horizon in (25, 50, 100):
        h = exact_limit(DEFAULT, horizon)
        assert declaration_probability(DEFAULT, h, DEFAULT.p1, horizon) <= DEFAULT.alpha
        assert declaration_probability(DEFAULT, h - 1e-4, DEFAULT.p1, horizon) > DEFAULT.alpha
    assert exact_limit(DEFAULT, 100) > exact_limit(DEFAULT, 50) > exact_limit(DEFAULT, 25)


def test_horizon_is_checked() -> None:
    with pytest.raises(ValidationError, match=r"^horizon: "):
        learning_curve([1], DEFAULT, horizon=0)
