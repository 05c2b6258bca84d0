"""Responder rates and Wilson intervals against published values (Newcombe 1998) and hand counts."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from painguide.errors import ValidationError
from painguide.outcomes.responders import (
    FollowUp,
    load_responder_criteria,
    nrs_reduction_percent,
    responder_rates,
    wilson_interval,
)

CRITERIA = load_responder_criteria()


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    # Newcombe R.G. Two-sided confidence intervals for the single proportion. Stat Med 1998;17:857-872,
    # Table II, method 3 (Wilson score without continuity correction).
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombe(x: int, n: int, low: float, high: float) -> None:
    assert wilson_interval(x, n) == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(("x", "n"), [(8, 10), (3, 7), (20, 20), (1, 3)])
def test_wilson_matches_scipy(x: int, n: int) -> None:
    ci = binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(x, n) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_wilson_rejects_impossible_counts() -> None:
    with pytest.raises(ValidationError, match=r"^n: "):
        wilson_interval(3, 2)


def test_criteria_are_sourced() -> None:
    assert {k: (c.source, c.status) for k, c in CRITERIA.items()} == {
        "nrs30": ("IMMPACT08", "verified"),
        "nrs50": ("IMMPACT08", "verified"),
        "pgic": ("Farrar2001", "secondary"),
    }


def test_reduction_percent() -> None:
    assert nrs_reduction_percent(10, 7) == pytest.approx(30)
    assert nrs_reduction_percent(4, None) is None


def test_rates_per_group_by_hand() -> None:
    us = {"procedure_id": "lumbar-facet-mbb", "modality": "ultrasound"}
    fl = {"procedure_id": "lumbar-facet-mbb", "modality": "fluoroscopy"}
    follow_ups = [
        FollowUp(10, 7, "much_improved", **us),  # 30 %: nrs30 yes, nrs50 no, pgic yes
        FollowUp(8, 4, "very_much_improved", **us),  # 50 %: yes, yes, yes
        FollowUp(6, 5, "minimally_improved", **us),  # 16.7 %: no, no, no
        FollowUp(0, 0, None, **us),  # baseline 0 and no PGIC: not evaluable anywhere
        FollowUp(5, 1, "no_change", **fl),  # 80 %: yes, yes; pgic no
    ]
    groups = {g.group: g for g in responder_rates(follow_ups, CRITERIA)}
    first = groups[("lumbar-facet-mbb", "ultrasound")]
    assert first.follow_ups == 4
    assert (first.rates["nrs30"].responders, first.rates["nrs30"].evaluable) == (2, 3)
    assert (first.rates["nrs50"].responders, first.rates["nrs50"].evaluable) == (1, 3)
    assert (first.rates["pgic"].responders, first.rates["pgic"].evaluable) == (2, 3)
    assert (first.rates["nrs30"].low, first.rates["nrs30"].high) == pytest.approx(wilson_interval(2, 3))
    second = groups[("lumbar-facet-mbb", "fluoroscopy")]
    assert second.rates["pgic"].rate == 0 and second.rates["nrs50"].rate == 1


def test_group_without_evaluable_follow_ups_has_no_rate() -> None:
    (group,) = responder_rates([FollowUp(None, 3)], CRITERIA, group_by=lambda f: "all")
    assert group.rates["nrs30"].rate is None and group.rates["nrs30"].evaluable == 0


def test_nrs_outside_scale_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"^followup_nrs: "):
        FollowUp(5, 11)
