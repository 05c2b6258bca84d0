"""Key-frame choice, the stored timeline and the review chart, on hand-made data."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from painguide.i18n.text import ENGLISH
from painguide.sono.charts import timeline_figure
from painguide.sono.familyeval import score_family_cine
from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleObservation
from painguide.sono.pipeline import FrameResult
from painguide.sono.scenes import development_seed, scene_params
from painguide.sono.service import _enlarged, key_frames, timeline_of
from painguide.sono.simulate import simulate_cine
from painguide.sono.spread import SpreadObservation

TIMELINE = {
    "time_s": [0.1 * i for i in range(40)],
    "visible": [i >= 5 for i in range(40)],
    "confidence": [0.0 if i < 5 else 0.7 for i in range(40)],
    "tip_z_mm": [None if i < 5 else 10.0 + 0.1 * i for i in range(40)],
    "area_mm2": [0.0] * 40,
}
EVENTS = [
    {"time_s": 0.5, "type": "needle_visible", "detail": "tip at x=5 mm"},
    {"time_s": 1.0, "type": "injection_start", "detail": "injection started at 1.00 s"},
    {"time_s": 1.5, "type": "needle_lost", "detail": "needle no longer visible"},
    {"time_s": 1.6, "type": "needle_visible", "detail": "tip again"},
    {"time_s": 3.0, "type": "no_visible_spread", "detail": "no visible spread 2.0 s after injection start"},
]


def _figure(html: str) -> dict[str, Any]:
    """The data and layout that Plotly's HTML fragment passes to ``Plotly.newPlot("sono-timeline", ...)``."""
    decoder = json.JSONDecoder()
    start = html.index('"sono-timeline",', html.index("Plotly.newPlot(")) + len('"sono-timeline",')
    parts = []
    for _ in range(2):
        while html[start] in " \n\t,":
            start += 1
        value, start = decoder.raw_decode(html, start)
        parts.append(value)
    return {"data": parts[0], "layout": parts[1]}


def test_key_frames_follow_the_events_and_flag_the_warning() -> None:
    frames = key_frames(TIMELINE, EVENTS)
    assert [(k.index, k.label, k.warning) for k in frames] == [
        (5, "Needle first seen", False),
        (10, "Injection start", False),
        (30, "No visible spread", True),
    ]


def test_key_frames_fill_up_to_three_and_respect_the_limit() -> None:
    assert [k.label for k in key_frames(TIMELINE, [])] == ["First frame", "Middle", "Last frame"]
    many = [{"time_s": 0.1 * i, "type": "spread_away_from_tip"} for i in range(0, 40, 4)]
    chosen = key_frames(TIMELINE, many, limit=4)
    assert len(chosen) == 4 and all(k.warning for k in chosen)
    assert key_frames(None, EVENTS) == []


def test_timeline_of_results_blanks_the_tip_when_not_visible() -> None:
    seen = NeedleObservation(True, tip_x_mm=5.0, tip_z_mm=12.345, angle_deg=30.0, confidence=0.81)
    hidden = NeedleObservation(False)
    results = [
        FrameResult(0, 0.0, hidden, SpreadObservation(False), 1.0),
        FrameResult(1, 0.05, seen, SpreadObservation(True, 4.567), 1.0),
    ]
    timeline = timeline_of(results)
    assert timeline["tip_z_mm"] == [None, 12.35]
    assert timeline["area_mm2"] == [0.0, 4.57]
    assert timeline["visible"] == [False, True]


def test_chart_has_three_panels_and_a_red_warning_line() -> None:
    html = timeline_figure(TIMELINE, EVENTS)
    assert 'id="sono-timeline"' in html and "<script src" not in html
    layout = _figure(html)["layout"]
    names = [s["name"] for s in layout["shapes"]]
    assert names.count("event-needle_visible") == 2 and "event-needle_lost" not in names
    warning = next(s for s in layout["shapes"] if s["name"] == "event-no_visible_spread")
    assert warning["line"]["color"] == "#b42318"
    assert layout["yaxis2"]["autorange"] == "reversed"  # deeper is lower, as on the screen


@pytest.mark.parametrize("language", ["en", "de"])
def test_event_labels_that_would_overlap_are_put_on_rows_above_one_another(language: str) -> None:
    """A 3 s cine with the injection at 1.5 s and the onset 0.3 s later (the demo cine's review): the two
    labels, about 150 px wide each, lay over one another on one row; labels far apart share a row."""
    from painguide.web.i18n import Translator

    timeline = {**TIMELINE, "time_s": [0.05 * i for i in range(60)]}
    events = [
        {"time_s": 0.6, "type": "needle_visible", "detail": "tip at x=39.8 mm"},
        {"time_s": 1.5, "type": "injection_start", "detail": "injection started at 1.5 s"},
        {"time_s": 1.8, "type": "spread_onset", "detail": "fluid 3.8 mm²"},
    ]
    html = timeline_figure(timeline, events, Translator("de") if language == "de" else ENGLISH)
    layout = _figure(html)["layout"]
    height = {a["name"]: a["y"] for a in layout["annotations"] if a.get("name", "").startswith("label-")}
    assert height["label-spread_onset"] > height["label-injection_start"]  # the later one above
    assert height["label-needle_visible"] == height["label-injection_start"]  # 0.9 s apart: one row
    assert layout["margin"]["t"] > 60  # room for the second row above the chart


def test_chart_without_timeline_draws_the_events_only() -> None:
    html = timeline_figure(None, EVENTS[:2])
    assert "event-injection_start" in html and '"uid":"spread"' in html.replace(" ", "")


def test_enlarged_frame_keeps_the_millimetres() -> None:
    frame = Frame(np.zeros((240, 320), np.uint8), 0.125, 0.1, 0.0)
    big = _enlarged(frame)
    assert big.shape == (480, 640)
    assert big.width_mm == pytest.approx(frame.width_mm) and big.depth_mm == pytest.approx(frame.depth_mm)


def test_score_family_cine_shows_each_frame_it_scores() -> None:
    params = replace(scene_params("baseline", development_seed("baseline", 0)), n_frames=20)
    cine = simulate_cine(params)
    seen: list[tuple[int, bool, bool]] = []
    score = score_family_cine(
        cine,
        observe=lambda frame, truth, result: seen.append(
            (frame.index, truth.needle_visible, result.needle.visible)
        ),
    )
    assert [index for index, _, _ in seen] == [f.index for f in cine.frames]
    assert sum(t for _, t, _ in seen) == score.truth_visible
    assert sum(t and r for _, t, r in seen) == score.detected
