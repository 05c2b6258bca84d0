"""Why a skin dose is not estimable, in the page's language: reasons kept as templates with their values."""

from __future__ import annotations

from io import BytesIO

import pytest

from painguide.dose.generator import ct_report
from painguide.dose.models import SkinDose, SkinReason
from painguide.dose.rdsr import read_dose_report
from painguide.dose.skin import PENDING_NOTE, not_estimable, unmet_reasons, unmet_skin_reasons
from painguide.web.i18n import Translator

pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")


def _ct() -> SkinDose:
    buffer = BytesIO()
    ct_report(seed=1, events=2).save_as(buffer, enforce_file_format=True)
    report = read_dose_report(buffer.getvalue())
    assert [r.english for r in unmet_skin_reasons(report)] == unmet_reasons(report)
    return not_estimable(unmet_skin_reasons(report))


def test_the_english_note_is_the_reasons_joined() -> None:
    skin = _ct()
    assert len(skin.reasons) == 3 and skin.peak_skin_dose_mgy is None
    assert skin.note == "not estimable, because " + "; ".join(r.english for r in skin.reasons)
    assert Translator("en").skin_note(skin) == skin.note


def test_a_german_page_translates_every_reason_and_keeps_the_device_name() -> None:
    skin = _ct()
    device = str(skin.reasons[2].params["model"])
    german = Translator("de").skin_note(skin)
    assert german.startswith("nicht abschätzbar: es ist ein CT-Bericht")
    assert "Referenzpunkt" in german and "für das Gerätemodell" in german and repr(device) in german
    assert german.count("; ") == skin.note.count("; ")  # every reason, none dropped or merged
    assert "because" not in german and "CT report" not in german


def test_a_reason_with_a_detail_and_notes_without_reasons() -> None:
    failed = not_estimable([SkinReason("the estimate failed (%(detail)s)", {"detail": "ValueError: x"})])
    assert failed.note == "not estimable, because the estimate failed (ValueError: x)"
    assert (
        Translator("de").skin_note(failed) == "nicht abschätzbar: die Schätzung schlug fehl (ValueError: x)"
    )
    # a note kept before reasons were stored stays as written; a fixed note is translated
    assert Translator("de").skin_note(SkinDose(None, "not estimable, because of the test")) == (
        "not estimable, because of the test"
    )
    assert Translator("de").skin_note(SkinDose(None, PENDING_NOTE)).startswith("noch nicht geschätzt")


def test_a_reason_is_stored_as_its_template_and_values() -> None:
    reason = SkinReason("the device model %(model)r has no settings", {"model": "X-1"})
    assert reason.record() == {
        "text": "the device model %(model)r has no settings",
        "params": {"model": "X-1"},
    }
    assert SkinReason(**reason.record()).english == "the device model 'X-1' has no settings"  # type: ignore[arg-type]
