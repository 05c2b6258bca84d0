"""Kaplan-Meier curves: a hand-computed example and lifelines' bundled waltons data set against an
independent product-limit computation."""

from __future__ import annotations

import numpy as np
import pytest

from painguide.errors import ValidationError
from painguide.outcomes.survival import ReliefDuration, kaplan_meier


def test_small_example_by_hand() -> None:
    # Days 1 (ended), 2 (ended), 2 (censored), 3 (ended), 4 (censored).
    # S(1) = 4/5 = 0.8; at day 2, 4 at risk, 1 ended: 0.8 * 3/4 = 0.6; the censored one leaves;
    # at day 3, 2 at risk, 1 ended: 0.6 * 1/2 = 0.3; day 4 censored: stays 0.3. Median: day 3.
    data = [ReliefDuration(d, e) for d, e in [(1, True), (2, True), (2, False), (3, True), (4, False)]]
    (curve,) = kaplan_meier(data)
    assert curve.days == (0, 1, 2, 3, 4)
    assert curve.survival == pytest.approx((1, 0.8, 0.6, 0.3, 0.3))
    assert curve.at_risk == (5, 5, 4, 2, 1)
    assert (curve.n, curve.events, curve.median_days) == (5, 3, 3)
    assert all(lo <= s <= hi for lo, s, hi in zip(curve.low, curve.survival, curve.high, strict=True))


def test_median_not_reached() -> None:
    (curve,) = kaplan_meier([ReliefDuration(d, False) for d in (10, 20, 30)] + [ReliefDuration(5, True)])
    assert curve.median_days is None and min(curve.survival) == pytest.approx(0.75)


def _product_limit(times: np.ndarray, events: np.ndarray) -> dict[float, float]:
    survival, out = 1.0, {}
    for t in np.unique(times[events == 1]):
        at_risk = np.sum(times >= t)
        died = np.sum((times == t) & (events == 1))
        survival *= 1 - died / at_risk
        out[float(t)] = survival
    return out


def test_waltons_groups_match_independent_product_limit() -> None:
    from lifelines.datasets import load_waltons

    df = load_waltons()
    durations = [
        ReliefDuration(float(t), bool(e), procedure_id=str(g))
        for t, e, g in zip(df["T"], df["E"], df["group"], strict=True)
    ]
    curves = {c.group: c for c in kaplan_meier(durations, group_by=lambda r: r.procedure_id)}
    assert set(curves) == {"control", "miR-137"}
    for name, curve in curves.items():
        rows = df[df["group"] == name]
        expected = _product_limit(rows["T"].to_numpy(), rows["E"].to_numpy())
        got = dict(zip(curve.days, curve.survival, strict=True))
        assert curve.n == len(rows) and curve.events == int(rows["E"].sum())
        for day, value in expected.items():
            assert got[day] == pytest.approx(value, abs=1e-12)
        median = min(day for day, value in expected.items() if value <= 0.5)
        assert curve.median_days == median


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"^days: "):
        ReliefDuration(-1, True)
