"""The words burned into the overlay are in the reader's language (German pages used to get English), in
letters the overlay's font can draw; a live session draws its owner's language and each other viewer's."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.live import LiveSession
from painguide.sono.needle import NeedleObservation
from painguide.sono.overlay import burnable, draw_overlay
from painguide.sono.pipeline import FrameResult, GuidancePipeline
from painguide.sono.spread import SpreadObservation
from painguide.web.i18n import Translator

GERMAN, ENGLISH = Translator("de"), Translator("en")


def _frame(i: int = 0) -> Frame:
    rng = np.random.default_rng(i)
    return Frame(rng.integers(40, 90, size=(120, 160), dtype=np.uint8), 0.25, 0.25, i / 10.0, i)


def _result(visible: bool) -> FrameResult:
    needle = NeedleObservation(
        visible=visible,
        tip_x_mm=12.34,
        tip_z_mm=20.06,
        angle_deg=-35.2,
        start_x_mm=1.0,
        start_z_mm=5.0,
        confidence=0.851,
    )
    spread = SpreadObservation(visible=True, area_mm2=12.4, centre_x_mm=20.0, centre_z_mm=22.0)
    return FrameResult(index=0, time_s=0.0, needle=needle, spread=spread, processing_ms=1.0)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the overlay hands to OpenCV, in drawing order."""
    texts: list[str] = []
    put = cv2.putText

    def spy(image: Any, text: str, *args: Any, **kwargs: Any) -> Any:
        texts.append(text)
        return put(image, text, *args, **kwargs)

    monkeypatch.setattr(cv2, "putText", spy)
    return texts


def test_german_words_and_decimal_commas_in_drawable_letters(drawn: list[str]) -> None:
    warnings = ["no_visible_spread", "fluid_in_vessel", "a text as given"]
    draw_overlay(_frame(), _result(True), warnings=warnings, tr=GERMAN)
    label, *shown = drawn
    assert label == "Spitze x=12,3 z=20,1 mm 35 Grad Konf. 0,85 | Ausbreitung 12 mm2"
    assert shown == ["KEINE SICHTBARE AUSBREITUNG", "FLUESSIGKEIT IM GEFAESS", "a text as given"]
    drawn.clear()
    draw_overlay(_frame(), _result(False), warnings=warnings[:1], tr=GERMAN)
    assert drawn == ["Nadel nicht sichtbar | Ausbreitung 12 mm2", "KEINE SICHTBARE AUSBREITUNG"]


def test_english_by_default(drawn: list[str]) -> None:
    draw_overlay(_frame(), _result(True), warnings=["no_visible_spread"])
    assert drawn == ["tip x=12.3 z=20.1 mm 35 deg conf 0.85 | spread 12 mm2", "NO VISIBLE SPREAD"]


def test_every_text_reaches_the_font_as_ascii() -> None:
    assert burnable("GEFÄSS NAHE AM NADELWEG") == "GEFAESS NAHE AM NADELWEG"
    assert burnable("Größe 4 mm² · ok") == "Groesse 4 mm2  ok"
    assert burnable("plain").isascii()


def test_live_session_draws_its_owners_language_and_each_viewers_once_per_frame() -> None:
    session = LiveSession(pipeline=GuidancePipeline(wait_for_injection=True), tr=GERMAN)
    assert session.latest_jpeg(ENGLISH) is None  # nothing drawn yet
    session.step(_frame(0))
    own = session.latest_jpeg()
    assert own is not None and session.latest_jpeg(GERMAN) is own
    english = session.latest_jpeg(ENGLISH)
    assert english is not None and english != own
    assert session.latest_jpeg(ENGLISH) is english  # kept until the next frame
    german_image = cv2.imdecode(np.frombuffer(own, np.uint8), cv2.IMREAD_COLOR)
    english_image = cv2.imdecode(np.frombuffer(english, np.uint8), cv2.IMREAD_COLOR)
    rows = german_image.shape[0]
    assert np.abs(german_image[: rows - 20].astype(int) - english_image[: rows - 20]).max() < 40  # same frame
    session.step(_frame(1))
    assert session.latest_jpeg(ENGLISH) is not english  # a new frame is drawn again
