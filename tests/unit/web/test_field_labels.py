"""A page names a wrong field by the label its reader sees on the form, in the reader's language."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.web.i18n import Translator
from painguide.web.labels import FIELDS

TEMPLATES = Path(__file__).parents[3] / "src" / "painguide" / "web" / "templates"
_LABELLED = re.compile(
    r'<label[^>]*>\s*\{\{\s*_\("([^"]+)"\)\s*\}\}\s*(?:<[^>]*>\s*)*?<(?:input|select|textarea)\b[^>]*\bname="([a-z_]+)"',
    re.S,
)
"""``<label>{{ _("Label") }} <input name="field">`` (tags such as ``<br>`` between them allowed)."""
_MACRO = re.compile(r"""f\.[a-z_]+\(\s*['"]([a-z_]+)['"],\s*_\(['"]([^'"]+)['"]\)""")
"""``f.number('field', _('Label'))``: a field of the pathway's form macros."""


def _form_labels() -> dict[str, set[str]]:
    labels: dict[str, set[str]] = defaultdict(set)
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for label, name in _LABELLED.findall(text):
            labels[name].add(label)
        for name, label in _MACRO.findall(text):
            labels[name].add(label)
    return labels


def test_every_labelled_form_field_has_its_label() -> None:
    labels = _form_labels()
    assert len(labels) > 50  # the patterns still find the forms
    missing = sorted(set(labels) - set(FIELDS))
    wrong = {name: FIELDS[name] for name in labels.keys() & FIELDS.keys() if FIELDS[name] not in labels[name]}
    stale = sorted(set(FIELDS) - set(labels))
    assert (missing, wrong, stale) == ([], {}, [])


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Birth year: must be a whole number"),
        ("de", "Geburtsjahr: muss eine ganze Zahl sein"),
    ],
)
def test_a_page_names_the_field_by_its_label(language: str, expected: str) -> None:
    exc = ValidationError("birth_year", N_("must be a whole number"))
    assert Translator(language).error(exc) == expected
    assert str(exc) == "birth_year: must be a whole number"  # the API and the CLI keep the field's id


def test_a_field_without_a_form_label_keeps_its_id_and_a_percent_label_reads_plainly() -> None:
    de = Translator("de")
    assert de.field("page") == "page"
    assert de.field("relief_percent") == "Linderung (%)"
    assert Translator("en").field("relief_percent") == "Relief (%)"
