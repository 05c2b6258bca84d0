"""A procedure's peak skin dose note (one report, reports without an estimate, a sum) in each language."""

from __future__ import annotations

from io import BytesIO

import pytest

from painguide.dose.generator import ct_report
from painguide.dose.models import NOT_ESTIMATED, SOME_MISSING, SUMMED, PeakSkinNote, SkinDose
from painguide.dose.rdsr import read_dose_report
from painguide.dose.skin import not_estimable, unmet_skin_reasons
from painguide.pathway.link_service import _peak_total
from painguide.web.i18n import Translator

pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")


def _ct() -> SkinDose:
    buffer = BytesIO()
    ct_report(seed=3, events=2).save_as(buffer, enforce_file_format=True)
    return not_estimable(unmet_skin_reasons(read_dose_report(buffer.getvalue())))


def test_one_report_keeps_its_own_note_and_value() -> None:
    skin = SkinDose(412.0, "estimate on a standard phantom, not the patient: see docs/dose.md (Limits)")
    peak, note = _peak_total([(7, skin)])
    assert peak == 412.0 and note.text is None and note.english == skin.note
    ct = _ct()
    peak, note = _peak_total([(8, ct)])
    assert peak is None and note.english == ct.note
    assert Translator("de").peak_skin_note(note) == Translator("de").skin_note(ct)
    assert Translator("de").peak_skin_note(note).startswith("nicht abschätzbar: es ist ein CT-Bericht")


def test_reports_without_an_estimate_are_named_each_with_its_reasons() -> None:
    ct, none = _ct(), SkinDose(None, NOT_ESTIMATED)
    peak, note = _peak_total([(4, SkinDose(120.0, "fine")), (5, ct), (6, none)])
    assert peak is None and note.text == SOME_MISSING and [i for i, _ in note.skins] == [5, 6]
    why = f"report 5: {ct.note}; report 6: not estimated"
    assert note.english == f"not estimated for every linked report ({why})"
    german = Translator("de").peak_skin_note(note)
    assert german.startswith("nicht für jeden verknüpften Bericht geschätzt (Bericht 5: nicht abschätzbar: ")
    assert german.endswith("; Bericht 6: nicht geschätzt)") and "es ist ein CT-Bericht" in german
    assert "because" not in german and "report" not in german
    assert Translator("en").peak_skin_note(note) == note.english


def test_a_sum_says_it_is_an_upper_bound_in_each_language() -> None:
    peak, note = _peak_total([(1, SkinDose(100.0, "a")), (2, SkinDose(50.5, "b")), (3, SkinDose(0.25, "c"))])
    assert peak == pytest.approx(150.75) and note == PeakSkinNote(SUMMED, count=3)
    assert note.english.startswith("sum of the peak skin doses of 3 reports: an upper bound")
    german = Translator("de").peak_skin_note(note)
    assert german.startswith("Summe der maximalen Hautdosen von 3 Berichten: eine obere Schranke")
