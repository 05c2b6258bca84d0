"""Pages answer in their reader's language (a live page's own requests, a stored analysis's events); the API
stays English."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from tests.integration.pages import PageClient

import painguide
from painguide.demo import DEMO_PASSWORD

PAGE_GERMAN = {"accept-language": "de", "x-painguide-page": "1"}
"""What the live page's script sends (static/sono-live.js) from a German browser."""


def _start(client: TestClient) -> str:
    r = client.post("/sono/live/source", data={"source": "simulated"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("=", 1)[1]


def test_a_watchers_refusal_is_in_the_page_language(client: TestClient, live_reset: None) -> None:
    session = _start(client)
    trainee = PageClient(client.app)
    form = {"username": "trainee", "password": DEMO_PASSWORD, "next": "/"}
    assert trainee.post("/login", data=form, follow_redirects=False).status_code == 303
    expected = {
        "injection": "darf in ihr den Injektionsbeginn markieren",
        "stop": "darf sie beenden",
        "ack": "darf ihre Warnungen quittieren",
    }
    for path, words in expected.items():
        data = {"warning": "0"} if path == "ack" else None
        german = trainee.post(f"/sono/live/{session}/{path}", data=data, headers=PAGE_GERMAN)
        assert german.status_code == 403
        detail = german.json()["detail"]
        assert (
            detail.startswith(f"Live-Sitzung {session} gehört physician: nur ihr Besitzer")
            and words in detail
        )
        assert "trainee darf zusehen" in detail
        english = trainee.post(
            f"/sono/live/{session}/{path}", data=data, headers={**PAGE_GERMAN, "accept-language": "en"}
        )
        assert english.status_code == 403 and "only its owner" in english.json()["detail"]
        # a JSON client that is not the page's script reads the API's English
        english = trainee.post(f"/sono/live/{session}/{path}", data=data, headers={"accept-language": "de"})
        assert (
            english.status_code == 403
            and "only its owner or a supervisor (admin, physician)" in (english.json()["detail"])
        )
    switched = trainee.post(
        "/sono/live/source",
        data={"source": "simulated", "session": session},
        headers={"accept-language": "de"},
    )
    assert switched.status_code == 403 and "darf ihre Quelle wechseln" in switched.text
    script = (Path(painguide.__file__).parent / "web" / "static" / "sono-live.js").read_text(encoding="utf-8")
    assert '"X-Painguide-Page": "1"' in script


def test_a_stored_analysis_shows_its_event_details_in_the_page_language(client: TestClient) -> None:
    listing = client.get("/sono/review").text
    analysis = re.search(r'<a href="/sono/review/(\d+)">demo-no-visible-spread\.dcm</a>', listing)
    assert analysis is not None
    german = client.get(f"/sono/review/{analysis.group(1)}", headers={"accept-language": "de"}).text
    banner = german[german.index('class="sono-banner"') :]
    assert "keine sichtbare Ausbreitung" in banner[: banner.index("</div>")]
    assert "Injektion begonnen bei" in german and "injection started at" not in german
    english = client.get(f"/sono/review/{analysis.group(1)}", headers={"accept-language": "en"}).text
    assert "injection started at" in english and "Injektion begonnen" not in english


def test_a_key_frame_carries_the_overlays_words_in_the_page_language(client: TestClient) -> None:
    listing = client.get("/sono/review").text
    analysis = re.search(r'<a href="/sono/review/(\d+)">demo-no-visible-spread\.dcm</a>', listing)
    assert analysis is not None
    page = client.get(f"/sono/review/{analysis.group(1)}").text
    frames = re.findall(rf'<img src="/sono/review/{analysis.group(1)}/frames/(\d+)\.jpg"', page)
    assert frames
    url = f"/sono/review/{analysis.group(1)}/frames/{frames[-1]}.jpg"
    german = client.get(url, headers={"accept-language": "de"})
    english = client.get(url, headers={"accept-language": "en"})
    assert german.status_code == english.status_code == 200
    assert german.headers["content-language"] == "de" and english.headers["content-language"] == "en"
    assert "Accept-Language" in german.headers["vary"]  # a browser keeps one copy per language
    assert german.content[:2] == b"\xff\xd8" and german.content != english.content
