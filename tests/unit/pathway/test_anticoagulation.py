"""The anticoagulation planner against KNOWLEDGE §2 (N18), written out value by value."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from painguide.catalogue.drugs import (
    DATA_FILE,
    AmbiguousDrugError,
    DrugTable,
    load_drug_table,
    parse_drug_table,
)
from painguide.catalogue.models import BleedingRisk, Fact
from painguide.errors import UnknownDrugError, ValidationError
from painguide.pathway.anticoagulation import (
    WARNING_CODES,
    AnticoagulationPlan,
    escalate_bleeding_risk,
    plan_anticoagulation,
)

TABLE: DrugTable = load_drug_table()
V, S = "verified", "secondary"
HI: BleedingRisk = "high"
MID: BleedingRisk = "intermediate"
LO: BleedingRisk = "low"

# (drug, aspirin indication, risk, action, hold min, hold max, restart min, restart max, normal INR, status)
# Days x 24 = hours; single values have min = max; a shared decision carries the restart interval of the
# row (if the drug is held), a continued drug carries no hours.
Case = tuple[str, str | None, str, str, float | None, float | None, float | None, float | None, bool, str]
CASES: list[Case] = [
    # aspirin, primary prophylaxis: 6 days | shared decision | continue; restart 24 h
    ("aspirin", "primary", HI, "hold", 144, 144, 24, 24, False, V),
    ("aspirin", "primary", MID, "shared_decision", None, None, 24, 24, False, V),
    ("aspirin", "primary", LO, "continue", None, None, None, None, False, V),
    # aspirin, secondary prophylaxis: shared decision | shared decision | continue; restart 24 h
    ("aspirin", "secondary", HI, "shared_decision", None, None, 24, 24, False, V),
    ("aspirin", "secondary", MID, "shared_decision", None, None, 24, 24, False, V),
    ("aspirin", "secondary", LO, "continue", None, None, None, None, False, V),
    # NSAIDs: held for high risk only (5 half-lives); restart 24 h
    ("ibuprofen", None, HI, "hold", 24, 24, 24, 24, False, V),
    ("ibuprofen", None, MID, "continue", None, None, None, None, False, V),
    ("ibuprofen", None, LO, "continue", None, None, None, None, False, V),
    ("diclofenac", None, HI, "hold", 24, 24, 24, 24, False, V),
    ("diclofenac", None, MID, "continue", None, None, None, None, False, V),
    ("ketorolac", None, HI, "hold", 24, 24, 24, 24, False, V),
    ("ketorolac", None, LO, "continue", None, None, None, None, False, V),
    ("etodolac", None, HI, "hold", 48, 48, 24, 24, False, V),
    ("etodolac", None, MID, "continue", None, None, None, None, False, V),
    ("indomethacin", None, HI, "hold", 48, 48, 24, 24, False, V),
    ("indomethacin", None, LO, "continue", None, None, None, None, False, V),
    ("naproxen", None, HI, "hold", 96, 96, 24, 24, False, V),
    ("naproxen", None, MID, "continue", None, None, None, None, False, V),
    ("naproxen", None, LO, "continue", None, None, None, None, False, V),
    ("meloxicam", None, HI, "hold", 96, 96, 24, 24, False, V),
    ("meloxicam", None, MID, "continue", None, None, None, None, False, V),
    ("nabumetone", None, HI, "hold", 144, 144, 24, 24, False, V),
    ("nabumetone", None, LO, "continue", None, None, None, None, False, V),
    ("oxaprozin", None, HI, "hold", 240, 240, 24, 24, False, V),
    ("oxaprozin", None, MID, "continue", None, None, None, None, False, V),
    ("piroxicam", None, HI, "hold", 240, 240, 24, 24, False, V),
    ("piroxicam", None, LO, "continue", None, None, None, None, False, V),
    # cilostazol: 2 days | continue | continue; restart 24 h
    ("cilostazol", None, HI, "hold", 48, 48, 24, 24, False, V),
    ("cilostazol", None, MID, "continue", None, None, None, None, False, V),
    ("cilostazol", None, LO, "continue", None, None, None, None, False, V),
    # warfarin: 5 days, normal INR | 5 days, normal INR | shared decision; restart 6 h
    ("warfarin", None, HI, "hold", 120, 120, 6, 6, True, V),
    ("warfarin", None, MID, "hold", 120, 120, 6, 6, True, V),
    ("warfarin", None, LO, "shared_decision", None, None, 6, 6, False, V),
    # acenocoumarol: 3 days, normal INR | 3 days, normal INR | shared decision; restart 24 h
    ("acenocoumarol", None, HI, "hold", 72, 72, 24, 24, True, V),
    ("acenocoumarol", None, MID, "hold", 72, 72, 24, 24, True, V),
    ("acenocoumarol", None, LO, "shared_decision", None, None, 24, 24, False, V),
    # heparin IV: 6 h for every category; restart 2 h
    ("heparin-iv", None, HI, "hold", 6, 6, 2, 2, False, V),
    ("heparin-iv", None, MID, "hold", 6, 6, 2, 2, False, V),
    ("heparin-iv", None, LO, "hold", 6, 6, 2, 2, False, V),
    # heparin SC 2-3x daily: 24 h | 6 h | 6 h; restart 6 h (high), 2 h (others)
    ("heparin-sc", None, HI, "hold", 24, 24, 6, 6, False, V),
    ("heparin-sc", None, MID, "hold", 6, 6, 2, 2, False, V),
    ("heparin-sc", None, LO, "hold", 6, 6, 2, 2, False, V),
    # LMWH prophylactic: 12 h for every category; restart 12-24 h (4 h low risk)
    ("enoxaparin-prophylactic", None, HI, "hold", 12, 12, 12, 24, False, V),
    ("enoxaparin-prophylactic", None, MID, "hold", 12, 12, 12, 24, False, V),
    ("enoxaparin-prophylactic", None, LO, "hold", 12, 12, 4, 4, False, V),
    ("dalteparin-prophylactic", None, HI, "hold", 12, 12, 12, 24, False, V),
    ("dalteparin-prophylactic", None, LO, "hold", 12, 12, 4, 4, False, V),
    ("tinzaparin-prophylactic", None, MID, "hold", 12, 12, 12, 24, False, V),
    ("tinzaparin-prophylactic", None, LO, "hold", 12, 12, 4, 4, False, V),
    # LMWH therapeutic: 24 h for every category; restart 12-24 h
    ("enoxaparin-therapeutic", None, HI, "hold", 24, 24, 12, 24, False, V),
    ("enoxaparin-therapeutic", None, MID, "hold", 24, 24, 12, 24, False, V),
    ("enoxaparin-therapeutic", None, LO, "hold", 24, 24, 12, 24, False, V),
    ("dalteparin-therapeutic", None, HI, "hold", 24, 24, 12, 24, False, V),
    ("tinzaparin-therapeutic", None, LO, "hold", 24, 24, 12, 24, False, V),
    # clopidogrel (secondary): 7 days | 7 days | shared decision; restart 12-24 h
    ("clopidogrel", None, HI, "hold", 168, 168, 12, 24, False, S),
    ("clopidogrel", None, MID, "hold", 168, 168, 12, 24, False, S),
    ("clopidogrel", None, LO, "shared_decision", None, None, 12, 24, False, S),
    # prasugrel (secondary): 7-10 days | 7-10 days | shared decision; restart 24 h
    ("prasugrel", None, HI, "hold", 168, 240, 24, 24, False, S),
    ("prasugrel", None, MID, "hold", 168, 240, 24, 24, False, S),
    ("prasugrel", None, LO, "shared_decision", None, None, 24, 24, False, S),
    # ticagrelor (secondary): 5 days | 5 days | shared decision; restart 24 h
    ("ticagrelor", None, HI, "hold", 120, 120, 24, 24, False, S),
    ("ticagrelor", None, MID, "hold", 120, 120, 24, 24, False, S),
    ("ticagrelor", None, LO, "shared_decision", None, None, 24, 24, False, S),
    # dabigatran (secondary): 4-5 days | 4-5 days | shared decision; restart 24 h
    ("dabigatran", None, HI, "hold", 96, 120, 24, 24, False, S),
    ("dabigatran", None, MID, "hold", 96, 120, 24, 24, False, S),
    ("dabigatran", None, LO, "shared_decision", None, None, 24, 24, False, S),
    # rivaroxaban, apixaban, edoxaban (secondary): 3 days | 3 days | shared decision; restart 24 h
    ("rivaroxaban", None, HI, "hold", 72, 72, 24, 24, False, S),
    ("rivaroxaban", None, MID, "hold", 72, 72, 24, 24, False, S),
    ("rivaroxaban", None, LO, "shared_decision", None, None, 24, 24, False, S),
    ("apixaban", None, HI, "hold", 72, 72, 24, 24, False, S),
    ("apixaban", None, MID, "hold", 72, 72, 24, 24, False, S),
    ("apixaban", None, LO, "shared_decision", None, None, 24, 24, False, S),
    ("edoxaban", None, HI, "hold", 72, 72, 24, 24, False, S),
    ("edoxaban", None, MID, "hold", 72, 72, 24, 24, False, S),
    ("edoxaban", None, LO, "shared_decision", None, None, 24, 24, False, S),
    # fondaparinux (secondary): 4 days | 4 days | shared decision; restart 24 h
    ("fondaparinux", None, HI, "hold", 96, 96, 24, 24, False, S),
    ("fondaparinux", None, MID, "hold", 96, 96, 24, 24, False, S),
    ("fondaparinux", None, LO, "shared_decision", None, None, 24, 24, False, S),
]


def _one(drug: str, risk: Any, **kwargs: Any) -> AnticoagulationPlan:
    result = plan_anticoagulation(TABLE, [drug], bleeding_risk=risk, **kwargs)
    assert len(result.plans) == 1
    return result.plans[0]


def _codes(plan: AnticoagulationPlan) -> list[str]:
    return [w.code for w in plan.warnings]


def test_case_table_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1] or ''}-{c[2]}" for c in CASES])
def test_plan_matches_knowledge(case: Case) -> None:
    drug, indication, risk, action, hold_min, hold_max, restart_min, restart_max, inr, status = case
    plan = _one(drug, risk, aspirin_indication=indication)
    assert plan.action == action
    assert (plan.hold_before_hours_min, plan.hold_before_hours_max) == (hold_min, hold_max)
    assert (plan.restart_after_hours_min, plan.restart_after_hours_max) == (restart_min, restart_max)
    assert plan.normal_inr_required is inr
    assert (plan.source, plan.status) == ("N18", status)
    assert plan.override is None


# ---------------------------------------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    ("drug", "risk", "text"),
    [
        ("warfarin", MID, "Hold warfarin 120 h (5 days) before; INR must be normal; restart 6 h after."),
        ("prasugrel", HI, "Hold prasugrel 168-240 h (7-10 days) before; restart 24 h (1 day) after."),
        (
            "enoxaparin-therapeutic",
            LO,
            "Hold enoxaparin (therapeutic dose) 24 h (1 day) before; restart 12-24 h after.",
        ),
        ("heparin-iv", HI, "Hold heparin IV 6 h before; restart 2 h after."),
        ("ibuprofen", LO, "Continue ibuprofen."),
        (
            "apixaban",
            LO,
            "Shared decision on apixaban with the prescribing physician;"
            " if held, restart 24 h (1 day) after.",
        ),
    ],
)
def test_plan_text(drug: str, risk: str, text: str) -> None:
    assert _one(drug, risk).text == text


# ---------------------------------------------------------------------------------------- renal impairment


def test_dabigatran_high_risk_with_renal_impairment_holds_six_days() -> None:
    plan = _one("dabigatran", HI, renal_impairment=True)
    assert (plan.action, plan.hold_before_hours_min, plan.hold_before_hours_max) == ("hold", 144, 144)
    assert (plan.restart_after_hours_min, plan.restart_after_hours_max) == (24, 24)
    assert plan.status == "secondary"
    assert "renal_impairment" in _codes(plan)
    assert plan.text == "Hold dabigatran 144 h (6 days) before; restart 24 h (1 day) after."


@pytest.mark.parametrize("risk", [MID, LO])
def test_renal_impairment_changes_dabigatran_only_where_the_source_says(risk: str) -> None:
    assert _one("dabigatran", risk, renal_impairment=True) == _one("dabigatran", risk)


def test_renal_impairment_does_not_change_other_drugs() -> None:
    for drug in ("apixaban", "warfarin", "enoxaparin-therapeutic"):
        assert _one(drug, HI, renal_impairment=True) == _one(drug, HI)


def test_renal_impairment_is_reported_as_a_bleeding_risk_marker() -> None:
    result = plan_anticoagulation(TABLE, ["apixaban"], bleeding_risk=LO, renal_impairment=True)
    assert [w.code for w in result.warnings] == ["renal_impairment"]
    assert result.effective_bleeding_risk.value == "low"
    raised = plan_anticoagulation(
        TABLE, ["apixaban"], bleeding_risk=LO, renal_impairment=True, high_bleeding_risk_patient=True
    )
    assert raised.warnings == ()


# ---------------------------------------------------------------------------------------------- escalation


@pytest.mark.parametrize(("risk", "escalated"), [(LO, MID), (MID, HI), (HI, HI)])
def test_escalation_moves_up_one_category_as_a_secondary_fact(risk: Any, escalated: str) -> None:
    fact = escalate_bleeding_risk(risk, high_bleeding_risk_patient=True)
    assert (fact.value, fact.source, fact.status) == (escalated, "N18", "secondary")
    assert fact.note


@pytest.mark.parametrize("risk", [LO, MID, HI])
def test_no_escalation_without_a_high_risk_patient(risk: Any) -> None:
    fact = escalate_bleeding_risk(risk, high_bleeding_risk_patient=False)
    assert (fact.value, fact.source) == (risk, "N18")


def test_a_given_fact_keeps_its_provenance_when_not_escalated() -> None:
    given = Fact[Any](value="low", source="N18", status="secondary", note="sacral lateral branch")
    assert escalate_bleeding_risk(given, high_bleeding_risk_patient=False) is given


def test_escalation_uses_the_table_rule_passed_in() -> None:
    raw = copy.deepcopy(yaml.safe_load(DATA_FILE.read_text(encoding="utf-8")))
    raw["escalation"]["steps"]["low"] = {"value": "high", "source": "site-policy", "status": "site"}
    rule = parse_drug_table(raw, path="x.yaml").escalation
    assert escalate_bleeding_risk(LO, high_bleeding_risk_patient=True, rule=rule).value == "high"


def test_invalid_bleeding_risk_is_refused() -> None:
    with pytest.raises(ValidationError, match="bleeding_risk"):
        escalate_bleeding_risk("medium", high_bleeding_risk_patient=True)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="bleeding_risk"):
        plan_anticoagulation(TABLE, ["warfarin"], bleeding_risk="medium")  # type: ignore[arg-type]


def test_high_bleeding_risk_patient_plans_with_the_next_category() -> None:
    result = plan_anticoagulation(TABLE, ["warfarin"], bleeding_risk=LO, high_bleeding_risk_patient=True)
    assert result.effective_bleeding_risk.value == "intermediate"
    assert result.effective_bleeding_risk.status == "secondary"
    plan = result.plans[0]
    assert (plan.action, plan.hold_before_hours_min, plan.normal_inr_required) == ("hold", 120, True)
    assert plan.status == "secondary"  # the category rests on the secondary escalation rule


def test_high_risk_procedure_stays_high_and_keeps_the_verified_rule() -> None:
    result = plan_anticoagulation(TABLE, ["warfarin"], bleeding_risk=HI, high_bleeding_risk_patient=True)
    assert result.effective_bleeding_risk.value == "high"
    assert result.plans[0].status == "verified"


def test_a_secondary_procedure_category_makes_the_plan_secondary() -> None:
    given = Fact[Any](value="low", source="N18", status="secondary")
    plan = plan_anticoagulation(TABLE, ["warfarin"], bleeding_risk=given).plans[0]
    assert (plan.action, plan.status) == ("shared_decision", "secondary")


# ----------------------------------------------------------------------------------------------- warnings


@pytest.mark.parametrize("drug", sorted(TABLE.drugs))
@pytest.mark.parametrize("risk", [LO, MID, HI])
def test_thrombotic_risk_warning_iff_stopping_is_proposed(drug: str, risk: str) -> None:
    plan = _one(drug, risk)
    stopping = plan.action in ("hold", "shared_decision")
    assert ("thrombotic_risk" in _codes(plan)) is stopping
    assert ("anticoagulant" in _codes(plan)) is stopping
    assert ("inr_required" in _codes(plan)) is plan.normal_inr_required
    assert set(_codes(plan)) <= set(WARNING_CODES)


def test_thrombotic_warning_carries_the_n18_text() -> None:
    warning = next(w for w in _one("clopidogrel", HI).warnings if w.code == "thrombotic_risk")
    assert (warning.source, warning.status) == ("N18", "verified")
    assert "recent coronary stent" in warning.text


def test_several_agents_warn_but_do_not_escalate() -> None:
    result = plan_anticoagulation(TABLE, ["warfarin", "ibuprofen", "apixaban"], bleeding_risk=MID)
    assert [p.drug for p in result.plans] == ["warfarin", "ibuprofen", "apixaban"]
    assert result.effective_bleeding_risk.value == "intermediate"
    assert [w.code for w in result.warnings] == ["multiple_agents"]
    warning = result.warnings[0]
    assert (warning.source, warning.status) == ("N18", "secondary")
    assert "warfarin, ibuprofen, apixaban" in warning.text


def test_one_agent_has_no_multiple_agents_warning() -> None:
    assert plan_anticoagulation(TABLE, ["warfarin"], bleeding_risk=MID).warnings == ()


def test_all_warnings_deduplicates() -> None:
    result = plan_anticoagulation(TABLE, ["warfarin", "apixaban"], bleeding_risk=HI)
    codes = [w.code for w in result.all_warnings]
    assert codes.count("thrombotic_risk") == 1
    assert "multiple_agents" in codes


# -------------------------------------------------------------------------------------------------- aspirin


def test_aspirin_without_indication_at_high_risk_is_a_shared_decision_with_the_hold_interval() -> None:
    plan = _one("aspirin", HI)
    assert plan.drug == "aspirin"
    assert plan.action == "shared_decision"
    assert (plan.hold_before_hours_min, plan.hold_before_hours_max) == (144, 144)
    assert (plan.restart_after_hours_min, plan.restart_after_hours_max) == (24, 24)
    assert _codes(plan)[0] == "aspirin_indication_missing"
    assert "thrombotic_risk" in _codes(plan)
    assert "for primary prophylaxis hold 144 h (6 days) before" in plan.text


@pytest.mark.parametrize(("risk", "action"), [(MID, "shared_decision"), (LO, "continue")])
def test_aspirin_without_indication_where_both_agree(risk: str, action: str) -> None:
    plan = _one("aspirin", risk)
    assert plan.action == action
    assert plan.hold_before_hours_min is None
    assert "aspirin_indication_missing" in _codes(plan)


def test_aspirin_with_indication_has_no_missing_warning() -> None:
    plan = _one("acetylsalicylic acid", HI, aspirin_indication="primary")
    assert plan.drug == "aspirin-primary"
    assert "aspirin_indication_missing" not in _codes(plan)


def test_aspirin_entry_conflicting_with_the_indication_is_refused() -> None:
    with pytest.raises(ValidationError, match="aspirin_indication"):
        _one("aspirin-primary", HI, aspirin_indication="secondary")


def test_invalid_aspirin_indication_is_refused() -> None:
    with pytest.raises(ValidationError, match="aspirin_indication"):
        _one("aspirin", HI, aspirin_indication="tertiary")


# ----------------------------------------------------------------------------------------- names and input


def test_unknown_drug_names_close_matches() -> None:
    with pytest.raises(UnknownDrugError, match="apixaban"):
        plan_anticoagulation(TABLE, ["warfarin", "apixiban"], bleeding_risk=HI)


def test_plain_heparin_is_ambiguous() -> None:
    with pytest.raises(AmbiguousDrugError) as info:
        plan_anticoagulation(TABLE, ["heparin"], bleeding_risk=HI)
    assert info.value.suggestions == ("heparin-iv", "heparin-sc")


def test_one_string_instead_of_a_list_is_refused() -> None:
    with pytest.raises(ValidationError, match="drugs"):
        plan_anticoagulation(TABLE, "warfarin", bleeding_risk=HI)


def test_no_drugs_no_plans() -> None:
    result = plan_anticoagulation(TABLE, [], bleeding_risk=HI)
    assert (result.plans, result.warnings) == ((), ())


def test_to_dict_has_the_cli_keys() -> None:
    data = _one("warfarin", HI).to_dict()
    assert set(data) == {
        "drug",
        "drug_class",
        "action",
        "hold_before_hours_min",
        "hold_before_hours_max",
        "restart_after_hours_min",
        "restart_after_hours_max",
        "normal_inr_required",
        "source",
        "status",
        "text",
        "warnings",
    }
    assert data["drug_class"] == "vitamin_k_antagonist"
    assert {"code": "inr_required", "text": "warfarin: INR must be normal before the procedure."} | {
        "source": "N18",
        "status": "verified",
    } in data["warnings"]
    result = plan_anticoagulation(TABLE, ["warfarin"], bleeding_risk=HI).to_dict()
    assert result["effective_bleeding_risk"]["value"] == "high"


def test_site_override_is_carried_into_the_plan() -> None:
    raw = copy.deepcopy(yaml.safe_load(DATA_FILE.read_text(encoding="utf-8")))
    rule = raw["drugs"]["warfarin"]["rules"]["intermediate"]
    signature = {"author": "Dr A", "date": "2026-01-05", "reason": "local audit", "previous": 120}
    for key in ("hold_before_hours_min", "hold_before_hours_max"):
        rule[key] = {"value": 144, "source": "site-policy", "status": "site", "override": signature}
    table = parse_drug_table(raw, path="x.yaml")
    plan = plan_anticoagulation(table, ["warfarin"], bleeding_risk=MID).plans[0]
    assert (plan.hold_before_hours_min, plan.hold_before_hours_max) == (144, 144)
    assert (plan.source, plan.status) == ("N18, site-policy", "site")
    assert plan.override is not None and plan.override.author == "Dr A"
    assert plan_anticoagulation(table, ["warfarin"], bleeding_risk=HI).plans[0].override is None


def test_repeated_calls_give_equal_results() -> None:
    first = plan_anticoagulation(
        TABLE, ["apixaban", "aspirin"], bleeding_risk=MID, aspirin_indication="primary"
    )
    again = plan_anticoagulation(
        TABLE, ["apixaban", "aspirin"], bleeding_risk=MID, aspirin_indication="primary"
    )
    assert first == again


# ------------------------------------------------------------------------------------------------ property

NAMES = sorted({*TABLE.drugs, "aspirin", "warfarin", "acetylsalicylic acid"})


@settings(max_examples=300, deadline=None)
@given(
    drugs=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4),
    risk=st.sampled_from([LO, MID, HI]),
    high_risk_patient=st.booleans(),
    renal=st.booleans(),
    indication=st.sampled_from([None, "primary", "secondary"]),
)
def test_plans_are_consistent_for_any_input(
    drugs: list[str], risk: Any, high_risk_patient: bool, renal: bool, indication: Any
) -> None:
    if indication is not None and any(d.startswith("aspirin-") for d in drugs):
        drugs = [d for d in drugs if not d.startswith("aspirin-")] or ["warfarin"]
    result = plan_anticoagulation(
        TABLE,
        drugs,
        bleeding_risk=risk,
        high_bleeding_risk_patient=high_risk_patient,
        renal_impairment=renal,
        aspirin_indication=indication,
    )
    assert len(result.plans) == len(drugs)
    for plan in result.plans:
        if plan.hold_before_hours_min is not None:
            assert plan.hold_before_hours_max is not None
            assert 0 <= plan.hold_before_hours_min <= plan.hold_before_hours_max
        if plan.restart_after_hours_min is not None:
            assert plan.restart_after_hours_max is not None
            assert 0 <= plan.restart_after_hours_min <= plan.restart_after_hours_max
        if plan.action == "hold":
            assert plan.hold_before_hours_min is not None
        if plan.action == "continue":
            assert plan.hold_before_hours_min is None and plan.restart_after_hours_min is None
        assert ("thrombotic_risk" in _codes(plan)) is (plan.action != "continue")
        assert plan.status in {"verified", "secondary"}
        assert plan.text.endswith(".")
