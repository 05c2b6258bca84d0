"""Report values that are data in several languages or sentences are shown in the reader's language."""

from __future__ import annotations

import pytest

from painguide.interop.reports import N_, Message, Names, Warnings
from painguide.web.i18n import Translator, load_catalogues
from painguide.web.routes.reports import value_formatter


@pytest.fixture(scope="module", autouse=True)
def _catalogues() -> None:
    load_catalogues()


def test_names_follow_the_reader_and_fall_back_to_english() -> None:
    names = Names.of({"en": "Knee injection", "de": "Kniegelenksinfiltration"}, suffix=" (knee-ia)")
    assert value_formatter(Translator("de"))(names) == "Kniegelenksinfiltration (knee-ia)"
    assert value_formatter(Translator("en"))(names) == "Knee injection (knee-ia)"
    assert Names.of({"en": "Only English"}).get("de") == "Only English"


def test_ultrasound_warnings_are_labelled_with_their_second() -> None:
    value = Warnings((("no_visible_spread", 5.667), ("vessel_near_path", None)))
    german = value_formatter(Translator("de"))(value)
    assert german == "keine sichtbare Ausbreitung bei 5,7 s; Gefäß nahe am Nadelweg"
    english = value_formatter(Translator("en"))(value)
    assert english == "no visible spread at 5.7 s; vessel near path"


def test_messages_are_translated_with_their_values() -> None:
    value = Message(N_("%(done)s of %(total)s recorded"), (("done", 1), ("total", 2)))
    assert value_formatter(Translator("de"))(value) == "1 von 2 erfasst"
    assert value_formatter(Translator("en"))(value) == "1 of 2 recorded"
