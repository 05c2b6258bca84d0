"""Ultrasound event details in the reader's language: the template translated, with its decimal sign."""

from __future__ import annotations

import json

import pytest

from painguide.sono.pipeline import Event, GuidancePipeline
from painguide.sono.simulate import random_params, simulate_cine
from painguide.web.i18n import Translator


def test_templated_event_keeps_its_english_detail_and_its_template() -> None:
    event = Event.templated(
        1.0, "spread_away_from_tip", "fluid appeared %(distance)s mm from the tip", distance=7.4
    )
    assert event.detail == "fluid appeared 7.4 mm from the tip"
    stored = json.loads(json.dumps(event.record()))
    assert stored["text"] == "fluid appeared %(distance)s mm from the tip" and stored["params"] == {
        "distance": 7.4
    }
    # the analyze --json contract keeps its three keys
    assert set(event.as_dict()) == {"time_s", "type", "detail"}
    assert Event(1.0, "needle_lost", "free text").record() == {
        "time_s": 1.0,
        "type": "needle_lost",
        "detail": "free text",
    }


def test_pipeline_events_read_in_german_with_a_decimal_comma() -> None:
    cine = simulate_cine(random_params(501, rows=240, cols=320, n_frames=40))
    pipeline = GuidancePipeline(injection_at_s=0.5)
    events = [e for frame in cine.frames for e in pipeline(frame).events]
    kinds = {e.type: e for e in events}
    assert {"injection_start", "needle_visible"} <= kinds.keys(), kinds.keys()
    german, english = Translator("de"), Translator("en")
    visible = kinds["needle_visible"]
    x = visible.params["x"]
    assert isinstance(x, float)
    assert german.event(visible).startswith(f"Spitze bei x={x:.1f}".replace(".", ","))
    assert english.event(visible) == visible.detail
    # the stored form (a review page) reads the same as the event itself
    for event in events:
        assert german.event(json.loads(json.dumps(event.record()))) == german.event(event)
        assert german.event(event) != event.detail or not event.text


@pytest.mark.parametrize("language", ["de", "en"])
def test_event_without_template_and_with_an_unfitting_one_falls_back_to_english(language: str) -> None:
    t = Translator(language)
    assert t.event({"type": "x", "detail": "as written"}) == "as written"
    # a template whose values are missing cannot be filled: the English detail, never a server error
    assert (
        t.event({"type": "x", "detail": "tip lost", "text": "tip at x=%(x)s mm, z=%(z)s mm", "params": {}})
        == "tip lost"
    )


def test_vessel_cue_is_a_translated_word() -> None:
    event = Event.templated(
        2.0,
        "vessel_near_path",
        "needle path %(distance)s mm from a vessel (%(cue)s) at x=%(x)s mm, z=%(z)s mm: check the trajectory",
        distance=2.5,
        cue="doppler",
        x=10.0,
        z=12.5,
    )
    assert Translator("de").event(event) == (
        "Nadelweg 2,5 mm von einem Gefäß (Farbdoppler) bei x=10,0 mm, z=12,5 mm: Stichrichtung prüfen"
    )
    assert "(doppler)" in Translator("en").event(event)
