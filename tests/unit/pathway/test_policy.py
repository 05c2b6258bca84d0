"""Policy sets as data: every set and frame loads with sources; a site picks and changes them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from painguide.catalogue.loader import load_knowledge
from painguide.errors import DataFileError
from painguide.pathway.policy import RULE_KINDS, load_pathway_policy, load_policy_sets

SETS, _ = load_policy_sets()
SOURCES = set(load_knowledge().catalogue.sources)


def write_policy(tmp_path: Path, body: dict[str, object]) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"name": "Praxis Test", **body}), encoding="utf-8")
    return path


SIGNED = {"author": "Dr. A. Beispiel", "date": "2026-01-05", "reason": "our payers"}


@pytest.mark.parametrize("set_id", sorted(SETS.sets))
def test_every_set_cites_known_sources_and_every_kind_is_implemented(set_id: str) -> None:
    rule_set = SETS.sets[set_id]
    assert rule_set.title["en"] and rule_set.title["de"]
    for rule in rule_set.rules:
        assert rule.kind in RULE_KINDS
        for fact in rule.params.values():
            assert fact.source is None or fact.source in SOURCES, rule.id
            assert fact.status in ("verified", "secondary", "open", "convention")
            if fact.status == "open":
                assert fact.value is None, f"{rule.id}: an open value must stay empty"


@pytest.mark.parametrize("frame_id", sorted(SETS.frames))
def test_every_frame_cites_known_sources(frame_id: str) -> None:
    frame = SETS.frames[frame_id]
    for name in ("qualification_required", "alternative_required", "pregnancy_question"):
        fact = getattr(frame, name)
        assert fact.source in SOURCES and fact.value is not None, name


def test_the_sets_carry_the_knowledge_base_values() -> None:
    lcd = {r.id: r for r in SETS.sets["cms-lcd"].rules}
    blocks = lcd["rfa-diagnostic-blocks"]
    assert (blocks.value("count"), blocks.value("min_relief_percent"), blocks.value("min_days_between")) == (
        2,
        80,
        14,
    )
    assert lcd["rfa-sessions"].value("sessions") == 2 and lcd["diagnostic-sessions"].value("sessions") == 4
    assert lcd["esi-pain-duration"].value("weeks") == 4 and lcd["esi-il-levels"].value("levels") == 1
    c20 = {r.id: r for r in SETS.sets["practice-c20"].rules}
    assert (
        c20["rfa-diagnostic-blocks"].value("count"),
        c20["rfa-diagnostic-blocks"].value("min_relief_percent"),
    ) == (1, 50)
    assert c20["rfa-sessions"].params["sessions"].status == "open"
    assert SETS.frames["ch-stsv"].qualification_required.status == "secondary"
    assert SETS.frames["de-strlschg"].qualification_required.source == "StrlSchG83"


def test_default_policy_is_the_practice_set_under_the_swiss_frame() -> None:
    policy = load_pathway_policy()
    assert (policy.rules.id, policy.frame.id) == ("practice-c20", "ch-stsv")
    assert not policy.competence_required
    assert {"consent_revoked", "justification_not_qualified"} <= policy.not_overridable


def test_site_picks_a_set_and_frame_and_changes_a_value(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path,
        {
            "pathway": {"set": "cms-lcd", "frame": "de-strlschg", "competence_required": True, **SIGNED},
            "overrides": [
                {
                    "path": "pathway.sets.cms-lcd.rules.rfa-diagnostic-blocks.params.min_relief_percent",
                    "value": 50,
                    **SIGNED,
                }
            ],
        },
    )
    policy = load_pathway_policy(path)
    assert (policy.rules.id, policy.frame.id, policy.competence_required) == ("cms-lcd", "de-strlschg", True)
    rule = next(r for r in policy.rules.rules if r.id == "rfa-diagnostic-blocks")
    fact = rule.params["min_relief_percent"]
    assert (fact.value, fact.status, fact.override.previous) == (50, "site", 80)  # type: ignore[union-attr]
    assert "site policy (Dr. A. Beispiel, 2026-01-05): our payers" in rule.cite("min_relief_percent")
    assert policy.changes[0][0].endswith("min_relief_percent")
    assert policy.chosen_by is not None and policy.chosen_by.author == "Dr. A. Beispiel"


def test_site_can_set_an_open_value(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path,
        {
            "overrides": [
                {"path": "pathway.sets.practice-c20.rules.rfa-sessions.params.sessions", "value": 2, **SIGNED}
            ]
        },
    )
    rule = next(r for r in load_pathway_policy(path).rules.rules if r.id == "rfa-sessions")
    assert rule.value("sessions") == 2 and rule.params["sessions"].override.previous is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"pathway": {"set": "nhs", **SIGNED}}, r"pathway.set: one of cms-lcd, practice-c20 \(got 'nhs'\)"),
        ({"pathway": {"frame": "at", **SIGNED}}, r"pathway.frame: one of"),
        ({"pathway": {"set": "cms-lcd"}}, r"pathway.author"),
        (
            {"overrides": [{"path": "pathway.sets.cms-lcd.rules.nope.params.count", "value": 1, **SIGNED}]},
            r"'nope' not found",
        ),
    ],
)
def test_malformed_site_choices_name_the_key(tmp_path: Path, body: dict[str, object], message: str) -> None:
    with pytest.raises(DataFileError, match=message):
        load_pathway_policy(write_policy(tmp_path, body))


def _write_sets(tmp_path: Path, change: object) -> Path:
    raw = yaml.safe_load(Path("src/painguide/pathway/data/policy_sets.yaml").read_text(encoding="utf-8"))
    change(raw)  # type: ignore[operator]
    path = tmp_path / "sets.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda raw: raw["sets"]["cms-lcd"]["rules"][0]["params"]["exam"].update(source="NOPE"),
            "unknown source id 'NOPE'",
        ),
        (
            lambda raw: raw["sets"]["cms-lcd"]["classes"].update(facet_rfa=["no-such-procedure"]),
            r"catalogue ids",
        ),
        (lambda raw: raw["sets"]["cms-lcd"]["rules"][0].update(kind="magic"), r"kind"),
        (
            lambda raw: raw["sets"]["cms-lcd"]["rules"][0].update(applies_to=["ghosts"]),
            r"unknown classes \['ghosts'\]",
        ),
        (lambda raw: raw["sets"]["cms-lcd"]["rules"][3]["params"].pop("weeks"), r"needs params \['weeks'\]"),
        (lambda raw: raw.update(default_set="nope"), r"default_set 'nope' is not a set"),
    ],
)
def test_malformed_sets_file_names_the_key(tmp_path: Path, change: object, message: str) -> None:
    with pytest.raises(DataFileError, match=message):
        load_policy_sets(None, _write_sets(tmp_path, change))
