"""The anticoagulant table: packaged data, name lookup, and errors for malformed data."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from painguide.catalogue.drugs import (
    DATA_FILE,
    AmbiguousDrugError,
    DrugTable,
    find_drug,
    load_drug_table,
    normalise_drug_name,
    parse_drug_table,
)
from painguide.errors import DataFileError, UnknownDrugError

RAW: dict[str, Any] = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))

# KNOWLEDGE §2 marks these rows "(secondary)"; every other row is verified.
SECONDARY = {
    "clopidogrel",
    "prasugrel",
    "ticagrelor",
    "dabigatran",
    "rivaroxaban",
    "apixaban",
    "edoxaban",
    "fondaparinux",
}
SINGLE_ENTRY_NAMES = [
    "apixaban",
    "warfarin",
    "clopidogrel",
    "naproxen",
    "ibuprofen",
    "diclofenac",
    "ketorolac",
    "etodolac",
    "indomethacin",
    "meloxicam",
    "nabumetone",
    "oxaprozin",
    "piroxicam",
    "cilostazol",
    "acenocoumarol",
    "prasugrel",
    "ticagrelor",
    "dabigatran",
    "rivaroxaban",
    "edoxaban",
    "fondaparinux",
]


@pytest.fixture(scope="module")
def table() -> DrugTable:
    return load_drug_table()


def _facts(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if "status" in node and "value" in node else []
        return found + [f for v in node.values() for f in _facts(v)]
    return []


# ------------------------------------------------------------------------------------------- packaged data


def test_packaged_table_has_every_drug_with_three_rules(table: DrugTable) -> None:
    assert len(table.drugs) == 31
    for drug in table.drugs.values():
        assert set(drug.rules) == {"low", "intermediate", "high"}


def test_load_is_cached_and_a_path_reads_the_same_table(table: DrugTable) -> None:
    assert load_drug_table() is table
    assert load_drug_table(DATA_FILE) == table


@pytest.mark.parametrize("drug_id", sorted(yaml.safe_load(DATA_FILE.read_text())["drugs"]))
def test_every_fact_cites_n18_with_the_row_status(drug_id: str) -> None:
    facts = _facts(RAW["drugs"][drug_id])
    assert facts
    expected = "secondary" if drug_id in SECONDARY else "verified"
    assert {f["source"] for f in facts} == {"N18"}
    assert {f["status"] for f in facts} == {expected}


def test_escalation_and_thrombotic_warning_are_sourced(table: DrugTable) -> None:
    steps = table.escalation.steps
    assert {risk: fact.value for risk, fact in steps.items()} == {
        "low": "intermediate",
        "intermediate": "high",
        "high": "high",
    }
    assert all(fact.source == "N18" and fact.status == "secondary" for fact in steps.values())
    warning = table.warnings["thrombotic_risk"]
    assert (warning.source, warning.status) == ("N18", "verified")
    assert "mechanical valve" in warning.text and "coronary stent" in warning.text


def test_dotted_override_path_of_the_data_layout_exists() -> None:
    node: Any = RAW
    for part in ["drugs", "warfarin", "rules", "intermediate", "hold_before_hours_min"]:
        node = node[part]
    assert node == {"value": 120, "source": "N18", "status": "verified", "note": "5 days"}


def test_wrapped_mapping_is_accepted(table: DrugTable) -> None:
    assert parse_drug_table({"anticoagulants": RAW}, path="x.yaml") == table


def test_site_fact_with_override_validates() -> None:
    raw = copy.deepcopy(RAW)
    raw["drugs"]["warfarin"]["rules"]["high"]["hold_before_hours_max"] = {
        "value": 144,
        "source": "site-policy",
        "status": "site",
        "override": {"author": "Dr A", "date": "2026-01-05", "reason": "audit", "previous": 120},
    }
    rule = parse_drug_table(raw, path="x.yaml").drugs["warfarin"].rules["high"]
    assert rule.hold_before_hours_max is not None
    assert rule.hold_before_hours_max.override is not None
    assert rule.hold_before_hours_max.override.previous == 120


# ---------------------------------------------------------------------------------------------- lookup


@pytest.mark.parametrize("name", SINGLE_ENTRY_NAMES)
def test_generic_names_find_one_entry(table: DrugTable, name: str) -> None:
    assert find_drug(table, name).id == name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Warfarin", "warfarin"),
        ("  APIXABAN ", "apixaban"),
        ("indometacin", "indomethacin"),
        ("nicoumalone", "acenocoumarol"),
        ("dabigatran etexilate", "dabigatran"),
        ("heparin SC", "heparin-sc"),
        ("heparin_iv", "heparin-iv"),
        ("unfractionated heparin IV", "heparin-iv"),
        ("Enoxaparin prophylactic", "enoxaparin-prophylactic"),
        ("tinzaparin-therapeutic", "tinzaparin-therapeutic"),
        ("aspirin-secondary", "aspirin-secondary"),
    ],
)
def test_lookup_is_case_insensitive_and_knows_aliases(table: DrugTable, name: str, expected: str) -> None:
    assert find_drug(table, name).id == expected


@pytest.mark.parametrize(
    ("name", "candidates"),
    [
        ("heparin", ("heparin-iv", "heparin-sc")),
        ("enoxaparin", ("enoxaparin-prophylactic", "enoxaparin-therapeutic")),
        ("dalteparin", ("dalteparin-prophylactic", "dalteparin-therapeutic")),
        ("tinzaparin", ("tinzaparin-prophylactic", "tinzaparin-therapeutic")),
        ("aspirin", ("aspirin-primary", "aspirin-secondary")),
        ("acetylsalicylic acid", ("aspirin-primary", "aspirin-secondary")),
    ],
)
def test_ambiguous_names_list_the_candidates(
    table: DrugTable, name: str, candidates: tuple[str, ...]
) -> None:
    with pytest.raises(AmbiguousDrugError, match="ambiguous") as info:
        find_drug(table, name)
    assert isinstance(info.value, UnknownDrugError)
    assert info.value.suggestions == candidates


def test_unknown_drug_suggests_close_matches(table: DrugTable) -> None:
    with pytest.raises(UnknownDrugError, match="apixaban") as info:
        find_drug(table, "apixiban")
    assert info.value.suggestions[0] == "apixaban"
    assert not isinstance(info.value, AmbiguousDrugError)


def test_unknown_drug_without_close_match_has_no_suggestions(table: DrugTable) -> None:
    with pytest.raises(UnknownDrugError, match="unknown drug 'zzzz'") as info:
        find_drug(table, "zzzz")
    assert info.value.suggestions == ()


def test_normalise_drug_name() -> None:
    assert normalise_drug_name("  Heparin   SC ") == "heparin-sc"
    assert normalise_drug_name("acetylsalicylic_acid") == "acetylsalicylic-acid"


# ------------------------------------------------------------------------------------------ malformed data

Mutation = Callable[[dict[str, Any]], None]


def _rule(raw: dict[str, Any], drug: str, risk: str) -> dict[str, Any]:
    rule: dict[str, Any] = raw["drugs"][drug]["rules"][risk]
    return rule


MALFORMED: list[tuple[str, Mutation, str, str]] = [
    (
        "missing status",
        lambda r: _rule(r, "warfarin", "high")["action"].pop("status"),
        "anticoagulants.drugs.warfarin.rules.high.action.status",
        "Field required",
    ),
    (
        "bad action",
        lambda r: _rule(r, "warfarin", "high")["action"].update(value="pause"),
        "anticoagulants.drugs.warfarin.rules.high.action.value",
        "'continue', 'hold' or 'shared_decision'",
    ),
    (
        "negative hours",
        lambda r: _rule(r, "apixaban", "intermediate")["hold_before_hours_min"].update(value=-72),
        "anticoagulants.drugs.apixaban.rules.intermediate.hold_before_hours_min",
        "zero or more",
    ),
    (
        "negative restart",
        lambda r: _rule(r, "heparin-iv", "low")["restart_after_hours_min"].update(value=-2),
        "anticoagulants.drugs.heparin-iv.rules.low.restart_after_hours_min",
        "zero or more",
    ),
    (
        "max below min",
        lambda r: _rule(r, "prasugrel", "high")["hold_before_hours_max"].update(value=100),
        "anticoagulants.drugs.prasugrel.rules.high.hold_before_hours_max",
        "must not be less than hold_before_hours_min",
    ),
    (
        "restart max below min",
        lambda r: _rule(r, "clopidogrel", "high")["restart_after_hours_max"].update(value=6),
        "anticoagulants.drugs.clopidogrel.rules.high.restart_after_hours_max",
        "must not be less than restart_after_hours_min",
    ),
    (
        "hold without hours",
        lambda r: _rule(r, "warfarin", "intermediate").pop("hold_before_hours_min"),
        "anticoagulants.drugs.warfarin.rules.intermediate.hold_before_hours_min",
        "required (in hours) when the action is hold",
    ),
    (
        "missing risk",
        lambda r: r["drugs"]["warfarin"]["rules"].pop("low"),
        "anticoagulants.drugs.warfarin.rules",
        "missing ['low']",
    ),
    (
        "unknown key",
        lambda r: _rule(r, "warfarin", "high").update(hold_hours=3),
        "anticoagulants.drugs.warfarin.rules.high.hold_hours",
        "Extra inputs are not permitted",
    ),
    (
        "bad class",
        lambda r: r["drugs"]["warfarin"]["drug_class"].update(value="vka"),
        "anticoagulants.drugs.warfarin.drug_class.value",
        "Input should be",
    ),
    (
        "bad inr flag",
        lambda r: _rule(r, "warfarin", "high")["normal_inr_required"].update(value="maybe"),
        "anticoagulants.drugs.warfarin.rules.high.normal_inr_required.value",
        "valid boolean",
    ),
    (
        "renal hold on a shared decision",
        lambda r: _rule(r, "dabigatran", "low").update(
            renal_impairment={"hold_before_hours_min": {"value": 144, "source": "N18", "status": "secondary"}}
        ),
        "anticoagulants.drugs.dabigatran.rules.low.renal_impairment",
        "only allowed when the action is hold",
    ),
    (
        "escalation downwards",
        lambda r: r["escalation"]["steps"]["high"].update(value="low"),
        "anticoagulants.escalation.steps",
        "high must move to high or a higher category",
    ),
    (
        "thrombotic warning missing",
        lambda r: r["warnings"].pop("thrombotic_risk"),
        "anticoagulants.warnings",
        "thrombotic_risk",
    ),
    (
        "alias is another drug's id",
        lambda r: r["drugs"]["warfarin"].update(aliases=["apixaban"]),
        "anticoagulants.drugs.warfarin.aliases",
        "is the id of another drug",
    ),
    (
        "alias names two drugs",
        lambda r: r["drugs"]["warfarin"].update(aliases=["asa"]),
        "anticoagulants.drugs.warfarin.aliases",
        "names different drugs",
    ),
    (
        "bad id",
        lambda r: r["drugs"].update({"Warfarin Forte": copy.deepcopy(r["drugs"]["warfarin"])}),
        "anticoagulants.drugs.Warfarin Forte.id",
        "should match pattern",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "key", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_data_names_the_key(mutate: Mutation, key: str, message: str) -> None:
    raw = copy.deepcopy(RAW)
    mutate(raw)
    with pytest.raises(DataFileError, match=r"^bad\.yaml: ") as info:
        parse_drug_table(raw, path="bad.yaml")
    assert info.value.key == key
    assert message in info.value.expected


@pytest.mark.parametrize("raw", [None, [], "drugs"])
def test_table_that_is_not_a_mapping_is_refused(raw: Any) -> None:
    with pytest.raises(DataFileError, match="a mapping with escalation, warnings and drugs"):
        parse_drug_table(raw, path="bad.yaml")


def test_invalid_yaml_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "anticoagulants.yaml"
    path.write_text("drugs: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="valid YAML") as info:
        load_drug_table(path)
    assert info.value.path == str(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="a readable file"):
        load_drug_table(tmp_path / "absent.yaml")
