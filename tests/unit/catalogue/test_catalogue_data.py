"""The packaged procedure catalogue: schema, completeness, sources and clinical categories.

The expected values below are spelled out from the clinical knowledge base (procedure table and N18
bleeding-risk categories), so a data edit that drifts from it fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from painguide.catalogue.models import MODALITIES, Procedure

DATA_DIR = Path(__file__).resolve().parents[3] / "src" / "painguide" / "catalogue" / "data"
PROCEDURE_FILES = sorted((DATA_DIR / "procedures").glob("*.yaml"))

EXPECTED_IDS = {
    "lumbar-facet-mbb", "lumbar-facet-ia", "lumbar-facet-rfa", "thoracic-facet-mbb", "cervical-facet-mbb",
    "cervical-facet-rfa", "lumbar-ilesi", "thoracic-ilesi", "cervical-ilesi", "lumbar-tfesi",
    "cervical-tfesi", "lumbar-prt", "caudal-esi", "sij-ia", "sacral-lateral-branch-rfa", "intradiscal",
    "vertebroplasty", "scs-trial", "intrathecal-pump", "stellate-ganglion", "lumbar-sympathetic",
    "celiac-plexus", "superior-hypogastric", "sphenopalatine", "knee-ia", "hip-ia", "shoulder-ia",
    "subacromial", "genicular-block", "genicular-rfa", "greater-occipital", "suprascapular", "intercostal",
    "ilioinguinal", "lfcn", "pudendal", "carpal-tunnel", "piriformis", "trigger-point",
}  # fmt: skip

EXPECTED_FILES = {
    "10-spine-facet.yaml": {
        "lumbar-facet-mbb", "lumbar-facet-ia", "lumbar-facet-rfa", "thoracic-facet-mbb",
        "cervical-facet-mbb", "cervical-facet-rfa", "sij-ia", "sacral-lateral-branch-rfa",
    },
    "20-spine-epidural.yaml": {
        "lumbar-ilesi", "thoracic-ilesi", "cervical-ilesi", "lumbar-tfesi", "cervical-tfesi", "lumbar-prt",
        "caudal-esi",
    },
    "40-sympathetic.yaml": {
        "stellate-ganglion", "lumbar-sympathetic", "celiac-plexus", "superior-hypogastric", "sphenopalatine",
    },
    "30-neuraxial.yaml": {"intradiscal", "vertebroplasty", "scs-trial", "intrathecal-pump"},
    "50-joints.yaml": {"knee-ia", "hip-ia", "shoulder-ia", "subacromial", "genicular-block", "genicular-rfa"},
    "60-peripheral.yaml": {
        "greater-occipital", "suprascapular", "intercostal", "ilioinguinal", "lfcn", "pudendal",
        "carpal-tunnel", "piriformis", "trigger-point",
    },
}  # fmt: skip

# N18 bleeding-risk categories (via ASRA News 2019 and UpToDate).
HIGH = {"vertebroplasty", "scs-trial", "intrathecal-pump"}
INTERMEDIATE = {
    "lumbar-ilesi", "thoracic-ilesi", "cervical-ilesi", "lumbar-tfesi", "cervical-tfesi", "lumbar-prt",
    "caudal-esi", "cervical-facet-mbb", "cervical-facet-rfa", "intradiscal", "stellate-ganglion",
    "lumbar-sympathetic", "celiac-plexus", "superior-hypogastric", "sphenopalatine",
}  # fmt: skip
EXPECTED_BLEEDING_RISK: dict[str, str] = {
    pid: "high" if pid in HIGH else "intermediate" if pid in INTERMEDIATE else "low" for pid in EXPECTED_IDS
}
# Categories the knowledge base marks as secondary or inferred.
SECONDARY_BLEEDING_RISK = {"sacral-lateral-branch-rfa", "sphenopalatine", "genicular-block", "genicular-rfa"}

FACET_IDS = {
    "lumbar-facet-mbb", "lumbar-facet-ia", "lumbar-facet-rfa", "thoracic-facet-mbb", "cervical-facet-mbb",
    "cervical-facet-rfa",
}  # fmt: skip

# (procedure, modality, expected role), each read straight from the procedure table's wording.
ROLE_CASES = [
    ("lumbar-facet-mbb", "fluoroscopy", "preferred"),  # "fluoroscopy (preferred)"
    ("lumbar-facet-mbb", "ultrasound", "selected"),  # "US possible in selected patients (C20)"
    ("lumbar-facet-mbb", "ct", "alternative"),  # listed, fluoroscopy named preferred
    ("lumbar-facet-mbb", "landmark", "not_used"),
    ("lumbar-facet-ia", "ct", "preferred"),  # "CT (preferred by C20)"
    ("lumbar-facet-ia", "fluoroscopy", "alternative"),
    ("lumbar-facet-ia", "ultrasound", "not_used"),  # only in evidence, not in practice
    ("lumbar-facet-rfa", "fluoroscopy", "preferred"),  # "fluoroscopy (C20, grade B)"
    ("lumbar-facet-rfa", "ultrasound", "not_used"),
    ("cervical-facet-mbb", "ultrasound", "standard"),
    ("cervical-facet-mbb", "ct", "not_used"),
    ("lumbar-ilesi", "ultrasound", "not_used"),  # "US-guided ESI not accepted by payers"
    ("cervical-ilesi", "ct", "standard"),  # "fluoroscopy or CT with contrast (L33906)"
    ("lumbar-tfesi", "fluoroscopy", "standard"),
    ("lumbar-prt", "ct", "standard"),
    ("caudal-esi", "ultrasound", "standard"),
    ("caudal-esi", "landmark", "not_used"),
    ("sij-ia", "ultrasound", "standard"),
    ("stellate-ganglion", "ultrasound", "standard"),
    ("stellate-ganglion", "landmark", "alternative"),
    ("knee-ia", "landmark", "alternative"),
    ("shoulder-ia", "landmark", "alternative"),
    ("stellate-ganglion", "ct", "not_used"),
    ("celiac-plexus", "ct", "standard"),
    ("scs-trial", "ultrasound", "not_used"),
    ("scs-trial", "fluoroscopy", "standard"),
    ("knee-ia", "ultrasound", "standard"),
    ("knee-ia", "fluoroscopy", "not_used"),
    ("hip-ia", "landmark", "not_used"),
    ("shoulder-ia", "fluoroscopy", "standard"),
    ("piriformis", "ct", "standard"),
    ("piriformis", "landmark", "not_used"),
    ("pudendal", "ct", "standard"),
    ("carpal-tunnel", "ct", "not_used"),
    ("greater-occipital", "landmark", "standard"),
]


def _raw_by_file() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for path in PROCEDURE_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict) and set(data) == {"procedures"}, f"{path.name}: only `procedures:`"
        assert isinstance(data["procedures"], list), f"{path.name}: `procedures` must be a list"
        out[path.name] = data["procedures"]
    return out


RAW = _raw_by_file()
PROCEDURES = {item["id"]: Procedure.model_validate(item) for items in RAW.values() for item in items}
SOURCES: dict[str, Any] = yaml.safe_load((DATA_DIR / "sources.yaml").read_text(encoding="utf-8"))["sources"]


def _sources_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("source"), str):
            yield node["source"]
        for value in node.values():
            yield from _sources_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _sources_in(value)


def _facts_with_source(node: Any, source: str) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("source") == source:
            yield node
        for value in node.values():
            yield from _facts_with_source(value, source)
    elif isinstance(node, list):
        for value in node:
            yield from _facts_with_source(value, source)


def test_files_and_grouping() -> None:
    assert {name: {item["id"] for item in items} for name, items in RAW.items()} == EXPECTED_FILES


def test_ids_are_exactly_the_catalogue() -> None:
    assert set(PROCEDURES) == EXPECTED_IDS


def test_ids_unique_across_files() -> None:
    ids = [item["id"] for items in RAW.values() for item in items]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("pid", sorted(EXPECTED_IDS))
def test_every_source_resolves(pid: str) -> None:
    raw = next(item for items in RAW.values() for item in items if item["id"] == pid)
    unknown = sorted(set(_sources_in(raw)) - set(SOURCES))
    assert not unknown, f"{pid}: add {unknown} to sources.yaml"


def test_sources_have_citations() -> None:
    for sid, entry in SOURCES.items():
        assert isinstance(entry, dict) and entry.get("citation"), sid


def test_knowledge_base_facts_are_secondary() -> None:
    raw_all = [item for items in RAW.values() for item in items]
    facts = list(_facts_with_source(raw_all, "KB-S1"))
    assert facts
    assert {f["status"] for f in facts} == {"secondary"}


@pytest.mark.parametrize("pid", sorted(EXPECTED_IDS))
def test_bleeding_risk_matches_n18(pid: str) -> None:
    fact = PROCEDURES[pid].bleeding_risk
    assert fact.value == EXPECTED_BLEEDING_RISK[pid]
    assert fact.source == "N18"
    expected_status = "secondary" if pid in SECONDARY_BLEEDING_RISK else "verified"
    assert fact.status == expected_status
    if expected_status == "secondary":
        assert fact.note


def test_facet_tag_is_exactly_the_facet_procedures() -> None:
    # The advisor's prior-fusion rule keys on this tag.
    assert {pid for pid, p in PROCEDURES.items() if "facet" in p.tags} == FACET_IDS
    assert all("spine" in PROCEDURES[pid].tags for pid in FACET_IDS)


def test_spinal_files_carry_the_spine_tag() -> None:
    for name in ("10-spine-facet.yaml", "20-spine-epidural.yaml", "30-neuraxial.yaml"):
        for pid in EXPECTED_FILES[name]:
            assert "spine" in PROCEDURES[pid].tags, pid


@pytest.mark.parametrize("pid", sorted(EXPECTED_IDS))
def test_modalities_consistent(pid: str) -> None:
    proc = PROCEDURES[pid]
    assert proc.names["en"] and proc.names["de"]
    assert proc.used_modalities(), f"{pid}: no modality used"
    for m in MODALITIES:
        entry = proc.modalities[m]
        assert entry.role.source, f"{pid}.{m}: role without source"
        if entry.used:
            assert entry.role.value not in (None, "not_used"), f"{pid}.{m}"
        else:
            assert entry.role.value == "not_used", f"{pid}.{m}"
            assert entry.contrast.value == "none", f"{pid}.{m}"
        level = entry.radiation_level.value
        assert level is not None
        if m in ("landmark", "ultrasound"):
            assert level == 0, f"{pid}.{m}"
            assert entry.contrast.value == "none", f"{pid}.{m}"
            assert entry.typical_dose is None, f"{pid}.{m}"
        else:
            assert level > 0, f"{pid}.{m}"
        if entry.typical_dose is not None:
            assert entry.used, f"{pid}.{m}: typical dose on an unused modality"


def test_at_most_one_preferred_modality() -> None:
    for pid, proc in PROCEDURES.items():
        roles = [proc.modalities[m].role.value for m in MODALITIES]
        assert roles.count("preferred") <= 1, pid
        for m in MODALITIES:
            role = proc.modalities[m].role
            if role.value == "alternative" and "preferred" not in roles:
                # otherwise only when a comparative source shows another modality more accurate or safer
                reason = f"{pid}/{m}: alternative needs a comparative source"
                assert role.source not in (None, "KB-S1") and role.note, reason


@pytest.mark.parametrize(("pid", "modality", "role"), ROLE_CASES)
def test_role_from_procedure_table(pid: str, modality: str, role: str) -> None:
    entry = PROCEDURES[pid].modalities[modality]  # type: ignore[index]
    assert entry.role.value == role
    assert entry.used is (role != "not_used")


@pytest.mark.parametrize(
    ("pid", "modality", "dap", "seconds", "msv", "source"),
    [
        ("lumbar-tfesi", "fluoroscopy", 0.678, 29, None, "Kim24441060"),
        ("caudal-esi", "fluoroscopy", 0.546, 13, None, "Kim24441060"),
        ("lumbar-facet-mbb", "fluoroscopy", 0.59, 6, None, "JKMS2016"),
        ("lumbar-facet-ia", "fluoroscopy", 0.59, 6, None, "JKMS2016"),
        ("lumbar-prt", "fluoroscopy", 0.59, 6, None, "JKMS2016"),
        ("lumbar-tfesi", "ct", None, None, 5.73, "PMC10110633"),
        ("lumbar-prt", "ct", None, None, 5.73, "PMC10110633"),
    ],
)
def test_typical_doses(
    pid: str, modality: str, dap: float | None, seconds: float | None, msv: float | None, source: str
) -> None:
    dose = PROCEDURES[pid].modalities[modality].typical_dose  # type: ignore[index]
    assert dose is not None
    assert (dose.dap_gy_cm2, dose.fluoro_time_s, dose.effective_dose_msv) == (dap, seconds, msv)
    assert dose.source == source


def test_only_sourced_typical_doses() -> None:
    with_dose = {
        (pid, m)
        for pid, p in PROCEDURES.items()
        for m in MODALITIES
        if p.modalities[m].typical_dose is not None
    }
    assert with_dose == {
        ("lumbar-tfesi", "fluoroscopy"), ("caudal-esi", "fluoroscopy"), ("lumbar-facet-mbb", "fluoroscopy"),
        ("lumbar-facet-ia", "fluoroscopy"), ("lumbar-prt", "fluoroscopy"), ("lumbar-tfesi", "ct"),
        ("lumbar-prt", "ct"),
    }  # fmt: skip


def test_peripheral_joint_fluoroscopy_level_is_secondary() -> None:
    for pid in EXPECTED_FILES["50-joints.yaml"]:
        fact = PROCEDURES[pid].modalities["fluoroscopy"].radiation_level
        assert (fact.value, fact.status) == (1, "secondary"), pid
        assert fact.note
    assert "varies" in (PROCEDURES["hip-ia"].modalities["fluoroscopy"].radiation_level.note or "")


def test_whole_catalogue_loads() -> None:
    loader = pytest.importorskip("painguide.catalogue.loader", exc_type=ImportError)
    catalogue = loader.load_catalogue()
    assert set(catalogue.procedures) == EXPECTED_IDS


DOC = Path(__file__).resolve().parents[3] / "docs" / "catalogue.md"


def _doc_table() -> dict[str, list[str]]:
    """Rows of the procedures × modalities table in docs/catalogue.md: id -> [file, risk, 4 roles]."""
    text = DOC.read_text(encoding="utf-8").split("## Procedures and modalities", 1)[1]
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def _doc_cell(role: str | None, status: str) -> str:
    if role == "not_used":
        return "–"
    return f"{role}†" if status == "secondary" else str(role)


def test_docs_table_matches_data() -> None:
    rows = _doc_table()
    assert set(rows) == EXPECTED_IDS
    file_of = {pid: name.removesuffix(".yaml") for name, ids in EXPECTED_FILES.items() for pid in ids}
    for pid, cells in rows.items():
        proc = PROCEDURES[pid]
        risk = proc.bleeding_risk
        expected = [
            file_of[pid],
            f"{risk.value}†" if risk.status == "secondary" else str(risk.value),
            *(_doc_cell(proc.modalities[m].role.value, proc.modalities[m].role.status) for m in MODALITIES),
        ]
        assert cells == expected, pid
