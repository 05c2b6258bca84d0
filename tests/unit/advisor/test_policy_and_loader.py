"""Site policy overrides and malformed data files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from painguide.advisor import PatientFactors, recommend
from painguide.catalogue.loader import DATA_DIR, load_knowledge
from painguide.errors import DataFileError, UnknownProcedureError

SIGN = {"author": "Dr. A. Beispiel", "date": "2026-01-05", "reason": "local audit"}


def _policy(tmp_path: Path, body: dict[str, object]) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({"name": "Test site", **body}), encoding="utf-8")
    return path


def test_override_changes_rating_and_is_shown_with_author(tmp_path: Path) -> None:
    policy = _policy(
        tmp_path,
        {
            "overrides": [
                {"path": "procedures.lumbar-facet-mbb.modalities.ultrasound.rating", "value": 9, **SIGN},
            ]
        },
    )
    plain = recommend(load_knowledge(), "lumbar-facet-mbb", PatientFactors())
    site = recommend(load_knowledge(policy), "lumbar-facet-mbb", PatientFactors())
    us_plain = next(m for m in plain.modalities if m.modality == "ultrasound")
    us_site = next(m for m in site.modalities if m.modality == "ultrasound")
    assert us_site.base_rating == 9 != us_plain.base_rating
    assert site.modalities[0].modality == "ultrasound"
    (reason,) = [r for r in us_site.reasons if r.code == "site_override"]
    assert "Dr. A. Beispiel" in reason.text and "2026-01-05" in reason.text and reason.status == "site"


def test_override_of_rule_parameter_keeps_previous_value(tmp_path: Path) -> None:
    policy = _policy(
        tmp_path,
        {
            "overrides": [
                {"path": "rules.obesity.params.ultrasound_delta_spine", "value": -4, **SIGN},
            ]
        },
    )
    kb = load_knowledge(policy)
    fact = kb.rules["obesity"].params["ultrasound_delta_spine"]
    assert fact.value == -4 and fact.status == "site"
    assert fact.override is not None and fact.override.previous == load_knowledge().rules["obesity"].param(
        "ultrasound_delta_spine"
    )
    rec = recommend(kb, "lumbar-facet-mbb", PatientFactors(bmi=40))
    us = next(m for m in rec.modalities if m.modality == "ultrasound")
    (obesity,) = [r for r in us.reasons if r.code == "obesity"]
    assert obesity.delta == -4 and obesity.status == "site"
    assert "Dr. A. Beispiel" in obesity.text and "local audit" in obesity.text
    assert kb.catalogue.overrides[0][0] == "rules.obesity.params.ultrasound_delta_spine"


def test_disable_removes_procedure(tmp_path: Path) -> None:
    policy = _policy(tmp_path, {"disable": [{"procedure": "vertebroplasty", **SIGN}]})
    kb = load_knowledge(policy)
    assert "vertebroplasty" not in [p.id for p in kb.catalogue.enabled()]
    with pytest.raises(UnknownProcedureError, match="vertebroplasty"):
        recommend(kb, "vertebroplasty", PatientFactors())


def test_add_procedure(tmp_path: Path) -> None:
    base = load_knowledge().catalogue.procedures["knee-ia"].model_dump(mode="json", exclude_none=True)
    base.update(id="ankle-ia", names={"en": "Ankle intra-articular", "de": "Sprunggelenksinjektion"})
    policy = _policy(tmp_path, {"add": [{"procedure": base, **SIGN}]})
    kb = load_knowledge(policy)
    added = kb.catalogue.procedures["ankle-ia"]
    assert added.site_added is not None and added.site_added.author == "Dr. A. Beispiel"
    assert recommend(kb, "ankle-ia", PatientFactors()).procedure == "ankle-ia"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            {"overrides": [{"path": "procedures.nope.bleeding_risk", "value": "low", **SIGN}]},
            "'nope' not found",
        ),
        (
            {
                "overrides": [
                    {
                        "path": "procedures.knee-ia.bleeding_risk",
                        "value": "low",
                        "author": "x",
                        "date": "2026-01-01",
                    }
                ]
            },
            r"overrides\.0\.reason",
        ),
        (
            {"overrides": [{"path": "procedures.knee-ia.bleeding_risk", "value": "huge", **SIGN}]},
            r"procedures\.knee-ia\.bleeding_risk",
        ),
        ({"disable": [{"procedure": "nope", **SIGN}]}, r"disable\.0\.procedure"),
        ({"overrides": [{"path": "weird.x", "value": 1, **SIGN}]}, r"overrides\.0\.path"),
    ],
)
def test_bad_policy_names_file_and_key(tmp_path: Path, body: dict[str, object], match: str) -> None:
    policy = _policy(tmp_path, body)
    with pytest.raises(DataFileError, match=match) as info:
        load_knowledge(policy)
    assert str(policy) in str(info.value) or "procedures" in info.value.path


def _broken_copy(tmp_path: Path, relative: str, old: str, new: str) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    target = data / relative
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return data


@pytest.mark.parametrize(
    ("relative", "old", "new", "key"),
    [
        (
            "procedures/10-spine-facet.yaml",
            "bleeding_risk: {value: low",
            "bleeding_risk: {value: lowish",
            "procedures.lumbar-facet-mbb.bleeding_risk",
        ),
        ("procedures/10-spine-facet.yaml", "source: C20", "source: NOPE99", "source"),
        ("advisor_rules.yaml", "bmi_above:", "bmi_over:", "rules"),
        ("conventions.yaml", "value: 8", "value: eight", "role_ratings"),
        ("procedures/10-spine-facet.yaml", "procedures:", "procedures: {\n", "line"),
    ],
)
def test_malformed_data_file_stops_with_file_and_key(
    tmp_path: Path, relative: str, old: str, new: str, key: str
) -> None:
    data = _broken_copy(tmp_path, relative, old, new)
    with pytest.raises(DataFileError, match=key) as info:
        load_knowledge(None, data)
    assert info.value.path.endswith(relative)


def test_every_source_resolves_and_catalogue_is_complete() -> None:
    kb = load_knowledge()
    assert len(kb.catalogue.enabled()) == 39
    assert all(s.citation for s in kb.catalogue.sources.values())
