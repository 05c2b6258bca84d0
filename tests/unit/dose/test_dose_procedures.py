"""Mapping report descriptions to catalogue procedure ids: normalisation, names, aliases, ties, data files."""

from __future__ import annotations

from pathlib import Path

import pytest

from painguide.catalogue.loader import load_knowledge
from painguide.dose.demo import _DESCRIPTIONS
from painguide.dose.generator import CT_PROFILE, FLUORO_PROFILES
from painguide.dose.procedures import ProcedureMatcher, check_aliases, load_aliases, normalise
from painguide.errors import DataFileError

NAMES = {
    "lumbar-tfesi": ["Lumbar transforaminal epidural steroid injection (selective nerve root block)"],
    "cervical-tfesi": ["Cervical transforaminal epidural steroid injection (selective nerve root block)"],
    "hip-ia": ["Hip intra-articular injection", "Hüftgelenksinfiltration (intraartikulär)"],
    "lumbar-facet-mbb": ["Lumbar medial branch block"],
    "lumbar-facet-rfa": ["Lumbar medial branch radiofrequency ablation"],
}


@pytest.fixture(scope="module")
def site_matcher() -> ProcedureMatcher:
    procedures = load_knowledge().catalogue.procedures
    names = {pid: list(p.names.values()) for pid, p in procedures.items()}
    label = "procedure_aliases.yaml"
    return ProcedureMatcher(names, check_aliases(load_aliases(), names, label))


def test_normalise_spells_out_umlauts_and_drops_punctuation() -> None:
    assert normalise("Hüft-Infiltration (li.), L4/5") == "hueft infiltration li l4 5"
    assert normalise("  ISG—Blockade  ") == "isg blockade"
    assert normalise("Fußgelenk Straße") == "fussgelenk strasse"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LUMBAR TRANSFORAMINAL EPIDURAL STEROID INJECTION L4/5", "lumbar-tfesi"),
        ("lumbar-tfesi", "lumbar-tfesi"),
        ("Hüftgelenksinfiltration rechts", "hip-ia"),
        ("Hueftgelenksinfiltration", "hip-ia"),
        ("Huftgelenksinfiltration", "hip-ia"),  # umlaut lost on the way: still found
        ("Lumbar medial branch radiofrequency ablation L3-L5", "lumbar-facet-rfa"),  # more words win
        ("Lumbar medial branch block", "lumbar-facet-mbb"),
        ("selective nerve root block", None),  # shared by two procedures: decides nothing
        ("Knee arthroscopy", None),
        ("", None),
        (None, None),
    ],
)
def test_matcher_on_plain_data(text: str | None, expected: str | None) -> None:
    assert ProcedureMatcher(NAMES).match_one(text) == expected


def test_matcher_tries_texts_in_order_of_priority() -> None:
    matcher = ProcedureMatcher(NAMES, {"lumbar-facet-mbb": ["MBB lumbar"]})
    assert (
        matcher.match(["Spine", None, "MBB lumbar L4", "Hip intra-articular injection"]) == "lumbar-facet-mbb"
    )
    assert matcher.match(["Spine", "Fluoro pulsed"]) is None


def test_a_tie_between_two_procedures_leaves_the_report_unmapped() -> None:
    matcher = ProcedureMatcher(NAMES, {"hip-ia": ["Lumbar block"], "lumbar-facet-mbb": ["Lumbar block"]})
    assert matcher.match_one("Lumbar block") is None


@pytest.mark.parametrize(
    ("key", "description"),
    [(key, text) for key, texts in _DESCRIPTIONS.items() for text in texts]
    + [(key, profile.description) for key, profile in FLUORO_PROFILES.items()]
    + [("lumbar-prt", CT_PROFILE.description), ("vertebroplasty", "Vertebroplastie LWK 2")],
)
def test_generator_and_demo_descriptions_map_to_their_catalogue_id(
    site_matcher: ProcedureMatcher, key: str, description: str
) -> None:
    assert key in site_matcher.procedure_ids
    assert site_matcher.match_one(description) == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PRT LWS rechts", "lumbar-prt"),
        ("ISG-Infiltration links", "sij-ia"),
        ("ISG-Denervation links", "sacral-lateral-branch-rfa"),
        ("Zöliakusblockade", "celiac-plexus"),
        ("Blockade N. occipitalis major", "greater-occipital"),
        ("Rückenmarkstimulation Testphase", "scs-trial"),
        ("Cervical transforaminal ESI C6", "cervical-tfesi"),
        ("Spine injection", None),
    ],
)
def test_packaged_aliases_with_the_catalogue(
    site_matcher: ProcedureMatcher, text: str, expected: str
) -> None:
    assert site_matcher.match_one(text) == expected


def test_every_packaged_alias_names_a_catalogue_procedure_with_source_and_status() -> None:
    entries = load_aliases()
    assert entries and all(e.source == "painguide-defaults" and e.status == "default" for e in entries)
    known = load_knowledge().catalogue.procedures
    assert set(check_aliases(entries, known, "procedure_aliases.yaml")) <= set(known)


def test_alias_for_an_unknown_procedure_names_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "procedure_aliases.yaml"
    path.write_text(
        "sources: {site: Added by this site}\n"
        "aliases:\n  - {procedure: lumbar-tfsei, names: [TFESI], source: site, status: site}\n",
        encoding="utf-8",
    )
    with pytest.raises(
        DataFileError, match=r"procedure_aliases.yaml: aliases\[0\].procedure: .*'lumbar-tfsei'"
    ):
        check_aliases(load_aliases(path), ["lumbar-tfesi"], str(path))


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("{procedure: lumbar-tfesi, names: [], source: site, status: site}", "names"),
        ("{procedure: lumbar-tfesi, names: [TFESI], source: elsewhere, status: site}", "source"),
        ("{procedure: lumbar-tfesi, names: [TFESI], source: site, status: verified}", "status"),
    ],
)
def test_malformed_alias_entries_are_refused(tmp_path: Path, entry: str, key: str) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text(f"sources: {{site: Site}}\naliases:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=rf"aliases\[0\]\.{key}"):
        load_aliases(path)
