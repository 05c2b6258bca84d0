"""The review page of one stored analysis: summary, timeline chart, key frames and access rules."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from painguide.settings import get_settings


def _ids(client: TestClient) -> dict[str, int]:
    page = client.get("/sono/review").text
    found = re.findall(r'<a href="/sono/review/(\d+)">(demo-[a-z-]+\.dcm)</a>', page)
    return {name: int(i) for i, name in found}


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


def test_demo_analyses_are_linked_from_the_list(client: TestClient) -> None:
    ids = _ids(client)
    assert set(ids) == {
        "demo-normal-spread.dcm",
        "demo-no-visible-spread.dcm",
        "demo-spread-away-from-tip.dcm",
    }
    assert 'class="grid sono-analyses"' in client.get("/sono/review").text


def test_detail_page_shows_chart_with_spread_trace_and_event_markers(client: TestClient) -> None:
    r = client.get(f"/sono/review/{_ids(client)['demo-normal-spread.dcm']}")
    assert r.status_code == 200
    assert '<script src="/sono/plotly.js"></script>' in r.text and "cdn" not in r.text.lower()
    figure = _figure(r.text)
    spread = next(t for t in figure["data"] if t.get("uid") == "spread")
    assert len(spread["x"]) == len(spread["y"]) == 72 and max(spread["y"]) > 5
    shapes = {s["name"] for s in figure["layout"]["shapes"]}
    assert {"event-injection_start", "event-spread_onset", "event-needle_visible"} <= shapes
    assert "event-no_visible_spread" not in shapes
    assert "Tip error" in r.text and "not available" in r.text
    assert 'class="sono-banner"' not in r.text


def test_no_spread_case_shows_the_warning_in_red(client: TestClient) -> None:
    r = client.get(f"/sono/review/{_ids(client)['demo-no-visible-spread.dcm']}")
    assert r.status_code == 200
    figure = _figure(r.text)
    warning = next(s for s in figure["layout"]["shapes"] if s["name"] == "event-no_visible_spread")
    assert warning["line"]["color"] == "#b42318"
    labels = [a["text"] for a in figure["layout"]["annotations"]]
    assert any(text.startswith("NO VISIBLE SPREAD") for text in labels)
    assert 'class="sono-banner" role="alert"' in r.text and "no visible spread" in r.text
    assert 'figure class="card warn"' in r.text  # the warning moment is a key frame


def test_key_frames_are_drawn_from_the_kept_cine(client: TestClient) -> None:
    analysis_id = _ids(client)["demo-no-visible-spread.dcm"]
    page = client.get(f"/sono/review/{analysis_id}").text
    frames = re.findall(rf'<img src="/sono/review/{analysis_id}/frames/(\d+)\.jpg"', page)
    assert 3 <= len(frames) <= 6
    image = client.get(f"/sono/review/{analysis_id}/frames/{frames[-1]}.jpg")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content[:2] == b"\xff\xd8"
    assert len(list((get_settings().data_dir / "sono").glob("*.dcm"))) == 3


def test_a_frame_that_is_not_a_key_frame_is_refused(client: TestClient) -> None:
    analysis_id = _ids(client)["demo-normal-spread.dcm"]
    r = client.get(f"/sono/review/{analysis_id}/frames/71000.jpg", headers={"accept": "application/json"})
    assert r.status_code == 404
    assert "is not a key frame" in r.json()["detail"]


def test_unknown_analysis_is_a_named_404(client: TestClient) -> None:
    r = client.get("/sono/review/99999", headers={"accept": "text/html"})
    assert r.status_code == 404
    assert "ultrasound analysis 99999 does not exist" in r.text and "Traceback" not in r.text


@pytest.mark.parametrize("path", ["/sono/review/1", "/sono/review/1/frames/0.jpg"])
def test_signed_out_users_are_sent_to_sign_in(client: TestClient, path: str) -> None:
    client.post("/logout")
    page = client.get(path, headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    api = client.get(path, headers={"accept": "application/json"})
    assert api.status_code == 401


def test_plotly_is_served_locally(client: TestClient) -> None:
    r = client.get("/sono/plotly.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/javascript")
    assert "plotly" in r.text[:2000].lower()


def test_the_largest_spread_frame_is_named_in_the_page_language(client: TestClient) -> None:
    analysis_id = _ids(client)["demo-normal-spread.dcm"]
    german = client.get(f"/sono/review/{analysis_id}", headers={"accept-language": "de"}).text
    english = client.get(f"/sono/review/{analysis_id}", headers={"accept-language": "en"}).text
    (area,) = re.findall(r"<figcaption><strong>Largest spread \((\d+) mm²\)</strong>", english)
    assert int(area) > 0
    assert f"<figcaption><strong>Größte Ausbreitung ({area} mm²)</strong>" in german
