"""Case records validate their own fields and name the field in every error."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from painguide.errors import ValidationError
from painguide.pathway.models import (
    CaseInfo,
    Checklist,
    Consent,
    Patient,
    Plan,
    ProcedureRecord,
    build,
    normalise_level,
)

BASE = {"pseudonym": "P-1", "birth_year": 1980, "sex": "female"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pseudonym": "bad id!"}, "pseudonym"),
        ({"birth_year": 1850}, "birth_year"),
        ({"sex": "x"}, "sex"),
        ({"egfr": 40}, "egfr_on"),
        ({"pregnancy": "not_pregnant"}, "pregnancy_asked_on"),
        ({"height_cm": 20}, "height_cm"),
    ],
)
def test_patient_errors_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        build(Patient, **{**BASE, **changes})


def test_patient_facts() -> None:
    p = build(
        Patient, **BASE, height_cm=170, weight_kg=95, drugs=(" Apixaban ", "apixaban"), fused_levels=("l4/5",)
    )
    assert p.bmi == 32.9 and p.drugs == ("apixaban",) and p.fused_levels == ("L4-L5",)
    assert p.age_on(date(2026, 5, 1)) == 46
    assert p.can_be_pregnant(date(2026, 1, 1)) and not p.can_be_pregnant(
        date(2026, 1, 1), age_range=(None, 45)
    )
    assert not build(Patient, **{**BASE, "sex": "male"}).can_be_pregnant(date(2026, 1, 1))
    asked = build(Patient, **BASE, pregnancy="not_pregnant", pregnancy_asked_on=date(2026, 1, 1))
    assert asked.pregnancy_known(date(2026, 1, 20)) and not asked.pregnancy_known(
        date(2026, 1, 20), valid_days=7
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("l4/5", "L4-L5"),
        ("L4-5", "L4-L5"),
        ("L5/S1", "L5-S1"),
        ("C02", "C2"),
        (" knee ", "knee"),
        ("T12-L1", "T12-L1"),
    ],
)
def test_levels_have_one_spelling(given: str, expected: str) -> None:
    assert normalise_level(given) == expected


def test_case_pain_duration_grows_with_time() -> None:
    info = CaseInfo(
        complaint="c", region="lumbar", side="left", pain_duration_weeks=4, opened_on=date(2026, 1, 1)
    )
    assert info.pain_weeks_on(date(2026, 1, 15)) == 6
    with pytest.raises(ValidationError, match="disability_scale"):
        build(
            CaseInfo,
            complaint="c",
            region="lumbar",
            side="left",
            pain_duration_weeks=4,
            opened_on=date(2026, 1, 1),
            disability_score=30,
        )


def test_plan_needs_a_reason_when_not_the_top_modality() -> None:
    data = {
        "procedure": "x",
        "ranking": {},
        "top_modality": "ultrasound",
        "modality": "fluoroscopy",
        "on": date(2026, 1, 1),
    }
    with pytest.raises(ValidationError, match="reason: fluoroscopy is not the top-ranked modality"):
        build(Plan, **data)
    assert build(Plan, **data, reason="obese patient").reason == "obese patient"


def test_consent_for_x_ray_must_explain_the_radiation() -> None:
    data = {
        "given_by": "patient",
        "informed_by": "dr",
        "on": date(2026, 1, 1),
        "alternatives": "a",
        "risks": "r",
    }
    with pytest.raises(ValidationError, match="radiation_explained: ct uses X-rays"):
        build(Consent, **data, modality="ct")
    assert build(Consent, **data, modality="ultrasound").radiation_explained is False


def test_checklist_refuses_unknown_items_and_times_need_a_zone() -> None:
    with pytest.raises(ValidationError, match="items: unknown items"):
        build(Checklist, items={"coffee": True}, by="n", on=date(2026, 1, 1))
    with pytest.raises(ValidationError, match="performed_at: give a time with its time zone"):
        build(ProcedureRecord, performed_at=datetime(2026, 1, 1, 9), operator="o", modality="ct", side="left")
    record = build(
        ProcedureRecord,
        performed_at=datetime(2026, 1, 1, 9, tzinfo=UTC),
        operator="o",
        modality="ct",
        side="left",
        levels=("l5/s1",),
    )
    assert record.levels == ("L5-S1",)
