"""Language choice and formatting without a server: Accept-Language, catalogues, dates, numbers, labels."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic_core import ErrorDetails

from painguide.errors import NotFoundError, ValidationError
from painguide.i18n import check_language, negotiate
from painguide.i18n.input_errors import input_error_text, untemplate
from painguide.i18n.marks import N_
from painguide.outcomes.responders import load_responder_criteria
from painguide.pathway.gates import Unmet
from painguide.web.i18n import Translator
from painguide.web.labels import LABELS
from painguide.web.uploads import too_large


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en-GB,en;q=0.9,de;q=0.8", "en"),
        ("fr-CH, fr;q=0.9, en;q=0.5, de;q=0.7", "de"),
        ("de;q=0, en", "en"),
        ("DE-at", "de"),
        ("fr, it", None),
        ("", None),
        (None, None),
        ("de;q=abc, en;q=0.5", "en"),
    ],
)
def test_accept_language(header: str | None, expected: str | None) -> None:
    assert negotiate(header) == expected


def test_unknown_language_names_the_field() -> None:
    with pytest.raises(ValidationError, match=r"^language: 'fr' is not offered; choose one of de, en$"):
        check_language("fr")
    assert check_language(" DE ") == "de"


def test_german_catalogue_translates_and_english_is_the_message_id() -> None:
    de, en = Translator("de"), Translator("en")
    disclaimer = "painguide supports decisions; the physician decides."
    german = "painguide unterstützt Entscheidungen; die Ärztin oder der Arzt entscheidet."
    assert de.gettext(disclaimer) == german
    assert en.gettext(disclaimer) == disclaimer
    assert de.gettext("Dose report %(id)s", id=7) == "Dosisbericht 7"
    assert de.gettext("no such message in any catalogue") == "no such message in any catalogue"


def test_dates_and_numbers_follow_the_language() -> None:
    de, en = Translator("de"), Translator("en")
    assert de.decimal(1234.5, "#,##0.0") == "1.234,5"
    assert en.decimal(1234.5, "#,##0.0") == "1,234.5"
    assert de.decimal(None) == "—"
    assert de.date(date(2026, 3, 5), "long") == "5. März 2026"
    assert en.date(date(2026, 3, 5), "long") == "March 5, 2026"
    at = datetime(2026, 3, 5, 14, 7, tzinfo=UTC)
    assert de.datetime(at, "yyyy-MM-dd HH:mm") == "2026-03-05 14:07"


def test_labels_translate_data_values_and_leave_unknown_ones() -> None:
    de = Translator("de")
    assert de.label("fluoroscopy") == "Durchleuchtung"
    assert de.label("shared_decision") == "gemeinsame Entscheidung"
    assert de.label("usually not appropriate") == "in der Regel nicht angemessen"
    assert de.label("a value from a data file") == "a value from a data file"
    same = sorted({msgid for msgid in LABELS.values() if de.gettext(msgid) == msgid})
    # the same word in German; every other label has its German text
    assert same == ["CT", "DLP", "INR", "LC-CUSUM", "eGFR", "optional"]


def test_every_timeline_entry_kind_written_by_the_services_has_a_label() -> None:
    """A case timeline shows ``label("entry:" ~ kind)``: a kind without a label would show as a raw key."""
    import re
    from pathlib import Path

    source = Path(__file__).resolve().parents[3] / "src" / "painguide"
    kinds = {
        kind
        for path in source.rglob("*.py")
        for kind in re.findall(r'add_entry\(\s*[\w.]+,\s*"([a-z_]+)"', path.read_text(encoding="utf-8"))
    }
    assert {"link", "unlink", "opened", "refusal"} <= kinds  # the scan finds the services' kinds
    missing = sorted(kind for kind in kinds if f"entry:{kind}" not in LABELS)
    assert not missing, f"add labels for these timeline entries to web/labels.py: {missing}"


def test_gate_reasons_read_in_the_page_language() -> None:
    de, en = Translator("de"), Translator("en")
    items = Unmet.of(
        "checklist_incomplete",
        "Checklist items not confirmed: %(items)s.",
        items=("Patient identity confirmed", "Allergies checked"),
    )
    assert (
        en.reason(items)
        == items.message
        == ("Checklist items not confirmed: Patient identity confirmed; Allergies checked.")
    )
    german = de.reason(items)
    assert german.startswith("Nicht bestätigte Punkte der Checkliste: ")
    assert de.gettext("Patient identity confirmed") in german and "Allergies checked" not in german
    consent = Unmet.of(
        "consent_missing",
        "The consent covers %(covered)s; the plan is now %(modality)s: consent again.",
        covered="ultrasound",
        modality="fluoroscopy",
    )
    stored = consent.to_dict()  # the timeline keeps the template and its values
    assert de.reason(stored) == de.reason(consent)
    assert de.label("fluoroscopy") in de.reason(stored) and "consent again" not in de.reason(stored)
    assert de.reason({"code": "consent_missing", "message": "Kept as written."}) == "Kept as written."
    broken = {**stored, "params": {}}  # a template whose values are missing: the English message
    assert de.reason(broken) == consent.message


def test_a_policy_rule_text_reads_in_the_language_it_is_written_in() -> None:
    rule = {"en": "Pain for at least 4 weeks.", "de": "Schmerzen seit mindestens 4 Wochen."}
    only_english = {"en": "Site rule without a German text."}
    template = "%(rule)s The case records %(weeks)s weeks of pain on %(on)s."
    told = Unmet.of("indication_missing", template, rule=rule, weeks="2", on="2026-03-01")
    assert told.message == "Pain for at least 4 weeks. The case records 2 weeks of pain on 2026-03-01."
    german = Translator("de").reason(told.to_dict())
    assert german.startswith("Schmerzen seit mindestens 4 Wochen. ") and "2026-03-01" in german
    assert "The case records" not in german
    kept = Translator("de").reason(
        Unmet.of("indication_missing", template, rule=only_english, weeks="2", on="x")
    )
    assert kept.startswith("Site rule without a German text. ") and "The case records" not in kept


def test_a_reason_source_reads_in_the_page_language() -> None:
    de, en = Translator("de"), Translator("en")
    assert en.citation("C20, verified") == "C20, verified"
    assert de.citation("L38773, L33906, verified") == f"L38773, L33906, {de.label('verified')}"
    assert de.label("verified") != "verified"
    convention = de.citation("painguide convention, convention")
    assert convention == f"{de.label('painguide convention')}, {de.label('convention')}"
    assert "painguide convention" not in convention
    noted = "L38773, secondary; site policy (rpo, 2026-03-01): local audit"
    assert (
        de.citation(noted) == f"L38773, {de.label('secondary')}; site policy (rpo, 2026-03-01): local audit"
    )
    assert de.citation("N18") == "N18"  # an id alone stays as written


def test_a_validation_error_reads_in_the_page_language_and_keeps_its_english_text() -> None:
    de, en = Translator("de"), Translator("en")
    template = N_("%(value)s is out of range; give %(low)s-%(high)s mL/min/1.73 m²")
    exc = ValidationError("egfr", template, value=500.0, low=0, high=200)
    english = "egfr: 500.0 is out of range; give 0-200 mL/min/1.73 m²"
    assert str(exc) == english  # the API's and the CLI's text is unchanged
    assert exc.field == "egfr" and exc.detail == english.removeprefix("egfr: ")
    # a page names the field by its form label
    assert en.error(exc) == "eGFR (mL/min/1.73 m²): 500.0 is out of range; give 0-200 mL/min/1.73 m²"
    assert (
        de.error(exc) == "eGFR (mL/min/1,73 m²): 500,0 liegt außerhalb des plausiblen Bereichs; "
        "zulässig sind 0–200 mL/min/1,73 m²"
    )
    plain = ValidationError("egfr_on", N_("give the date of the eGFR value"))
    assert de.error(plain) == "eGFR gemessen am: bitte das Datum des eGFR-Werts angeben"
    valued = ValidationError(
        "radiation_explained", N_("%(modality)s uses X-rays; explain the radiation"), modality="fluoroscopy"
    )
    assert de.error(valued).startswith(
        "Die Strahlenexposition wurde erklärt: Durchleuchtung arbeitet mit Röntgenstrahlen"
    )  # the data word too


def test_a_validation_error_without_translation_stays_english() -> None:
    de = Translator("de")
    unmarked = ValidationError("dose", "%(value)s mGy is not a dose anyone translated", value=1.5)
    assert de.error(unmarked) == "dose: 1.5 mGy is not a dose anyone translated"  # not "1,5": all English
    no_params = ValidationError("dose", "50% is no dose")  # used as written, not as a template
    assert de.error(no_params) == "dose: 50% is no dose"
    assert de.error(NotFoundError("case 7 does not exist")) == "case 7 does not exist"


@pytest.mark.parametrize(
    ("kind", "context", "german"),
    [
        ("int_parsing", {}, "muss eine ganze Zahl sein"),
        ("missing", {}, "Pflichtfeld; bitte ausfüllen"),
        ("greater_than_equal", {"ge": 1}, "muss mindestens 1 sein"),
        ("less_than_equal", {"le": 2.5}, "darf höchstens 2,5 sein"),
        ("string_too_long", {"max_length": 100}, "darf höchstens 100 Zeichen lang sein"),
        ("literal_error", {"expected": "'a' or 'b'"}, "muss einer dieser Werte sein: 'a', 'b'"),
        ("date_parsing", {"error": "input is too short"}, "ist kein gültiges Datum (JJJJ-MM-TT)"),
        ("bool_parsing", {}, "muss Ja oder Nein sein (true oder false)"),
        ("no_such_type", {}, "Pydantic's own words"),  # a type without a template: pydantic's message
    ],
)
def test_pydantic_errors_read_in_german_by_their_type(
    kind: str, context: dict[str, object], german: str
) -> None:
    error = ErrorDetails(type=kind, loc=("page",), msg="Pydantic's own words", input="x", ctx=context)
    text, params = input_error_text(error)
    exc = ValidationError.worded("page", "Pydantic's own words", text, **params)
    assert Translator("de").error(exc) == f"page: {german}"
    assert str(exc) == Translator("en").error(exc) == "page: Pydantic's own words"


def test_a_record_check_message_is_found_with_its_values() -> None:
    templates = [N_("%(modality)s is not the top-ranked modality (%(top)s); say why")]
    message = "ct is not the top-ranked modality (fluoroscopy); say why"
    assert untemplate(message, templates) == (templates[0], {"modality": "ct", "top": "fluoroscopy"})
    assert untemplate("say why", templates) == ("say why", {})


@pytest.mark.parametrize(
    ("limit", "english", "german"),
    [
        (500 * 1024 * 1024, "500 MB", "500 MB"),
        (50_000, "0.0477 MB", "0,0477 MB"),
        (1536 * 1024, "1.5 MB", "1,5 MB"),
    ],
)
def test_an_upload_limit_reads_in_megabytes_with_the_language_s_decimal_sign(
    limit: int, english: str, german: str
) -> None:
    exc = too_large("/sono/live", limit)
    assert f"larger than the {english} limit of /sono/live" in str(exc)
    assert f"Grenze von {german} für /sono/live" in Translator("de").error(exc)


def test_every_responder_definition_reads_in_german() -> None:
    criteria = load_responder_criteria()
    german = {key: Translator("de").label(c.label) for key, c in criteria.items()}
    assert german["nrs30"] == ">= 30 % NRS-Reduktion (moderat)"
    assert all(german[key] != c.label for key, c in criteria.items()), german


def test_a_stored_iso_date_reads_in_the_page_language() -> None:
    assert Translator("de").date("2029-12-01") == "01.12.2029"
    assert Translator("en").date("2029-12-01") == "Dec 1, 2029"
    assert Translator("de").date("") == "—" == Translator("de").date(None)
