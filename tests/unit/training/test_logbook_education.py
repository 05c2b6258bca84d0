"""Logbook counts and success criteria; education requirements; who may sign a radiation justification."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from painguide.errors import DataFileError, ValidationError
from painguide.training.education import (
    Course,
    RadiationQualification,
    add_months,
    can_sign_justification,
    refresher_due_date,
    requirement_status,
)
from painguide.training.logbook import PerformedProcedure, is_success, logbook, outcome_series
from painguide.training.policy import Requirement, SuccessCriterion, load_training_policy

POLICY = load_training_policy()
CRITERIA = POLICY.success_criteria


def proc(day: int, **kw: object) -> PerformedProcedure:
    values: dict[str, object] = {
        "operator": "dr-t",
        "procedure_id": "lumbar-facet-mbb",
        "modality": "ultrasound",
        "performed_on": date(2026, 1, day),
        "target_reached": True,
        "relief_percent": 80.0,
        **kw,
    }
    return PerformedProcedure(**values)  # type: ignore[arg-type]


def test_packaged_criteria_are_sourced_conventions() -> None:
    block = CRITERIA.for_procedure("lumbar-facet-mbb")
    assert (block.min_relief_percent, block.status, block.source) == (50, "convention", "C20")
    other = CRITERIA.for_procedure("lumbar-tfesi")
    assert other.min_relief_percent is None and other.status == "convention"


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, True),
        ({"relief_percent": 50.0}, True),
        ({"relief_percent": 49.0}, False),
        ({"target_reached": False}, False),
        ({"complications": ("vasovagal",)}, False),
        ({"relief_percent": None}, None),
        ({"relief_percent": None, "target_reached": False}, False),
        ({"target_reached": None}, None),
    ],
)
def test_diagnostic_block_success(kw: dict[str, object], expected: bool | None) -> None:
    assert is_success(proc(1, **kw), CRITERIA.for_procedure("lumbar-facet-mbb")) is expected


def test_relief_not_needed_without_a_relief_criterion() -> None:
    assert is_success(proc(1, relief_percent=None), SuccessCriterion(status="convention")) is True


def test_logbook_groups_and_counts() -> None:
    records = [
        proc(1, supervisor="dr-s", relief_percent=30.0),
        proc(2, supervisor="dr-s"),
        proc(3, complications=("dural puncture",)),
        proc(4, relief_percent=None),
        proc(5, modality="fluoroscopy"),
        proc(6, setting="simulator", relief_percent=None, target_reached=True),
    ]
    entries = {(e.modality, e.setting): e for e in logbook(records, CRITERIA)}
    us = entries[("ultrasound", "patient")]
    assert (us.count, us.supervised, us.unsupervised) == (4, 2, 2)
    assert (us.successes, us.failures, us.not_assessable, us.complications) == (1, 2, 1, 1)
    assert (us.first, us.last) == (date(2026, 1, 1), date(2026, 1, 4))
    assert entries[("fluoroscopy", "patient")].count == 1
    assert entries[("ultrasound", "simulator")].not_assessable == 1
    assert us.to_dict()["first"] == "2026-01-01"


def test_outcome_series_in_date_order_without_unassessable() -> None:
    records = [proc(3, target_reached=False), proc(1), proc(2, relief_percent=None), proc(4)]
    series = outcome_series(
        records, CRITERIA, operator="dr-t", procedure_id="lumbar-facet-mbb", modality="ultrasound"
    )
    assert series == (1, 0, 1)


def test_site_policy_overrides_values(tmp_path: Path) -> None:
    site = tmp_path / "training.yaml"
    site.write_text("cusum:\n  p1: {value: 0.25, source: KB-S6}\n", encoding="utf-8")
    policy = load_training_policy(site)
    assert policy.cusum.p1.value == 0.25 and policy.cusum.p1.status == "site"
    assert policy.cusum.p0.value == 0.10 and policy.cusum.design().p1 == 0.25


def test_site_policy_unknown_source_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "training.yaml"
    site.write_text("cusum:\n  p1: {value: 0.25, source: Nobody2099}\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"cusum\.p1\.source: unknown source id 'Nobody2099'"):
        load_training_policy(site)


def test_refresher_interval_is_open_until_a_site_sets_it() -> None:
    fact = POLICY.education.radiation_refresher_interval_years
    assert fact.value is None and fact.status == "open"


def test_add_months_clamps() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 15), -13) == date(2024, 12, 15)


CME = Requirement(id="cme", roles=("physician",), period_months=12, min_hours=10, status="site")
US = Requirement(
    id="us", roles=("trainee",), period_months=24, min_hours=4, modality="ultrasound", status="site"
)


def course(day: date, hours: float, modality: str | None = None) -> Course:
    return Course("dr-a", day, "Provider", "topic", hours, modality)  # type: ignore[arg-type]


def test_requirement_met_and_due_date() -> None:
    courses = [course(date(2025, 3, 1), 4), course(date(2025, 9, 1), 6), course(date(2024, 1, 1), 20)]
    (status,) = requirement_status(courses, [CME, US], roles=["physician"], on_date=date(2026, 1, 1))
    # Period 2025-01-01 (exclusive) .. 2026-01-01: 4 + 6 = 10 hours, met; the March course leaves the
    # period on 2026-03-01, leaving 6 < 10 hours: due by then.
    assert (status.hours_done, status.hours_missing, status.met) == (10, 0, True)
    assert status.due_by == date(2026, 3, 1)


def test_requirement_missing_hours_and_modality_filter() -> None:
    courses = [course(date(2025, 6, 1), 3, "ultrasound"), course(date(2025, 7, 1), 8, "fluoroscopy")]
    (status,) = requirement_status(courses, [CME, US], roles=["trainee"], on_date=date(2026, 1, 1))
    assert (status.requirement.id, status.hours_done, status.hours_missing) == ("us", 3, 1)
    assert not status.met and status.due_by == date(2026, 1, 1)


def test_course_hours_must_be_positive() -> None:
    with pytest.raises(ValidationError, match=r"^hours: "):
        course(date(2025, 1, 1), 0)


QUAL = RadiationQualification("dr-a", date(2020, 1, 10), refresher_due=date(2025, 1, 10))


@pytest.mark.parametrize(
    ("day", "allowed"),
    [
        (date(2020, 1, 9), False),
        (date(2020, 1, 10), True),
        (date(2025, 1, 10), True),
        (date(2025, 1, 11), False),
    ],
)
def test_justification_depends_on_the_day(day: date, allowed: bool) -> None:
    assert bool(can_sign_justification(QUAL, day)) is allowed


def test_every_reason_is_listed() -> None:
    q = RadiationQualification(
        "dr-b", date(2020, 1, 1), refresher_due=None, modalities=("fluoroscopy",), revoked_on=date(2021, 1, 1)
    )
    result = can_sign_justification(q, date(2022, 1, 1), modality="ct")
    assert not result.allowed
    assert len(result.reasons) == 3
    assert any("no refresher date" in r for r in result.reasons)
    assert any("revoked" in r for r in result.reasons)
    assert any("does not cover ct" in r for r in result.reasons)
    assert not can_sign_justification(None, date(2022, 1, 1)).allowed


def test_refresher_due_date_from_site_interval() -> None:
    assert refresher_due_date(date(2024, 2, 29), 5) == date(2029, 2, 28)
    assert refresher_due_date(date(2024, 2, 29), None) is None
