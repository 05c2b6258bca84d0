"""Ultrasound review and live guidance in a real browser, signed in as the demo physician."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img" / "sono"


def _screenshot(page: Any, name: str, height: int) -> None:
    if os.environ.get("PAINGUIDE_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        clip = {"x": 0, "y": 0, "width": 1360, "height": height}
        page.screenshot(path=str(DOCS_IMG / name), full_page=True, clip=clip)


def test_physician_reviews_demo_analyses(page: Any, sign_in: Any) -> None:
    sign_in(page)
    page.goto("/sono/review")
    assert page.locator("table.grid.sono-analyses tbody tr").count() >= 3
    page.click("text=demo-no-visible-spread.dcm")
    page.wait_for_selector("#sono-timeline.js-plotly-plot .plotly")
    uids = page.evaluate("() => document.getElementById('sono-timeline').data.map(t => t.uid)")
    assert {"confidence", "tip_z", "spread"} <= set(uids)
    shapes = page.evaluate("() => document.getElementById('sono-timeline').layout.shapes.map(s => s.name)")
    assert "event-no_visible_spread" in shapes and "event-injection_start" in shapes
    banner = page.locator(".sono-banner")
    assert banner.count() == 1 and "no visible spread" in banner.inner_text()
    assert page.locator(".sono-summary").get_by_text("no spread seen").count() == 1
    thumbnails = page.locator(".sono-strip img")
    assert 3 <= thumbnails.count() <= 6
    page.wait_for_function(
        "() => [...document.querySelectorAll('.sono-strip img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.locator(".sono-strip figure.warn").count() == 1
    _screenshot(page, "review-page.png", 1400)

    page.goto("/sono/review")
    page.click("text=demo-normal-spread.dcm")
    page.wait_for_selector("#sono-timeline .plotly")
    assert page.locator(".sono-banner").count() == 0
    assert "after the start" in page.locator(".sono-summary").inner_text()


def test_uploaded_cine_appears_as_a_new_analysis(page: Any, tmp_path: Path, sign_in: Any) -> None:
    from painguide.sono.dicom import write_dicom_cine
    from painguide.sono.simulate import SimulationParams, simulate_cine

    params = SimulationParams(seed=31, rows=120, cols=160, n_frames=24, injection_at_s=0.6, bone=False)
    path = write_dicom_cine(simulate_cine(params).frames, tmp_path / "e2e-upload.dcm")
    sign_in(page)
    page.goto("/sono/review")
    page.set_input_files("form.sono-upload input[name=file]", str(path))
    page.fill("input[name=injection_at]", "0.6")
    page.click("form.sono-upload button[type=submit]")
    page.wait_for_url(re.compile(r"/sono/review/\d+$"))
    assert "e2e-upload.dcm" in page.locator("h1").inner_text()
    page.wait_for_selector("#sono-timeline .plotly")
    page.goto("/sono/review")
    assert page.locator("table.sono-analyses a", has_text="e2e-upload.dcm").count() == 1


_BUSY_LOG = """
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.sono-upload");
  if (!form) { return; }
  const log = (entry) => sessionStorage.setItem("busy", JSON.stringify(
    [...JSON.parse(sessionStorage.getItem("busy") || "[]"), entry]));
  const note = form.querySelector("[data-busy-note]");
  new MutationObserver(() => log({
    text: note.textContent, shown: !note.hidden,
    disabled: form.querySelector("button[type=submit]").disabled,
  })).observe(note, {childList: true, characterData: true, subtree: true, attributes: true});
  form.addEventListener("submit", (event) => {
    if (sessionStorage.getItem("again") === null) {  // a second submit 1.5 s after the first
      sessionStorage.setItem("again", "1");
      setTimeout(() => { form.requestSubmit(); log({again: true}); }, 1500);
    }
  });
});
"""


def test_an_upload_says_it_is_working_cannot_be_sent_twice_and_is_not_stored_twice(
    page: Any, tmp_path: Path, sign_in: Any
) -> None:
    """The server's answer is held 3 s by the browser's router: meanwhile the form says it uploads and
    analyses and counts the seconds (recorded by a script in the page), and a second submit sends nothing.
    The same cine sent again with the same injection start opens the analysis stored before, saying that
    nothing new was stored."""
    import json
    import time

    from painguide.sono.dicom import write_dicom_cine
    from painguide.sono.simulate import SimulationParams, simulate_cine

    params = SimulationParams(seed=37, rows=120, cols=160, n_frames=24, injection_at_s=0.6, bone=False)
    path = write_dicom_cine(simulate_cine(params).frames, tmp_path / "e2e-twice.dcm")
    posts: list[float] = []

    def slow(route: Any) -> None:
        if route.request.method == "POST":
            posts.append(time.monotonic())
            time.sleep(3.0)
        route.continue_()

    sign_in(page)
    page.add_init_script(_BUSY_LOG)
    page.goto("/sono/review")
    page.route("**/sono/review", slow)
    page.set_input_files("form.sono-upload input[name=file]", str(path))
    page.fill("input[name=injection_at]", "0.6")
    page.click("form.sono-upload button[type=submit]")
    page.wait_for_url(re.compile(r"/sono/review/\d+$"))
    first = page.url
    assert page.locator("#repeated").count() == 0
    log = json.loads(page.evaluate("() => sessionStorage.getItem('busy')"))
    notes = [e for e in log if "text" in e]
    assert notes and all(e["shown"] and e["disabled"] for e in notes), log
    counted = [int(m.group(1)) for e in notes if (m := re.search(r"cine: (\d+) s so far", e["text"]))]
    assert counted[0] == 0 and max(counted) >= 2, log  # said at once, and the seconds went on
    assert {"again": True} in log and len(posts) == 1  # the second submit sent nothing
    page.unroute("**/sono/review")

    page.goto("/sono/review")
    page.set_input_files("form.sono-upload input[name=file]", str(path))
    page.fill("input[name=injection_at]", "0.6")
    page.click("form.sono-upload button[type=submit]")
    page.wait_for_url(re.compile(r"/sono/review/\d+\?repeated=1$"))
    assert page.url == f"{first}?repeated=1"
    assert "nothing new was stored" in page.locator("#repeated").inner_text()
    page.goto("/sono/review")
    assert page.locator("table.sono-analyses a", has_text="e2e-twice.dcm").count() == 1


def _start_no_spread_cine(page: Any, tmp_path: Path) -> None:
    from painguide.sono.demo import demo_cines

    name, _, data = next(c for c in demo_cines() if c[0] == "demo-no-visible-spread.dcm")
    cine = tmp_path / name
    cine.write_bytes(data)
    page.goto("/sono/live", wait_until="domcontentloaded")  # the MJPEG stream never finishes loading
    if page.locator("details.sono-source[open]").count() == 0:  # an earlier session of this user is shown
        page.click("details.sono-source summary")
    page.set_input_files("details.sono-source input[name=file]", str(cine))
    page.fill("details.sono-source input[name=source]", "")
    page.click("details.sono-source button[type=submit]", no_wait_after=True)
    page.wait_for_url("**/sono/live?session=*", wait_until="domcontentloaded")
    page.wait_for_function("() => document.getElementById('source').textContent.startsWith('dicom:')")


@pytest.mark.parametrize("late", [False, True], ids=["early", "late"])
def test_live_page_sounds_the_no_spread_warning_until_acknowledged(
    page: Any, tmp_path: Path, sign_in: Any, late: bool
) -> None:
    """Early: marked while the 6 s cine plays. Late: marked after the cine has ended, so only the wall clock
    can warn (and says the stream stalled)."""
    sign_in(page)
    _start_no_spread_cine(page, tmp_path)
    frames = 72 if late else 12
    page.wait_for_function(f"() => Number(document.getElementById('frames').textContent) >= {frames}")
    assert page.locator("#warnings").is_hidden()
    page.click("#inject")  # a click on the page also lets the browser start the warning sound
    page.wait_for_function("() => document.getElementById('injection').textContent === 'started'")
    page.wait_for_selector("#warnings:not([hidden])", timeout=30_000)
    banner = page.locator("#warnings").inner_text()
    assert "NO VISIBLE SPREAD" in banner
    if late:
        assert "stream stalled" in banner
    session = page.locator(".sono-live").get_attribute("data-session")
    open_cell = f"document.querySelector('[data-open=\"{session}\"]').textContent"
    page.wait_for_function(f"() => {open_cell} !== '0'", timeout=5_000)  # the session list follows the poll
    page.wait_for_function("() => window.sonoAlarm.beeps >= 2", timeout=10_000)
    assert page.evaluate("() => window.sonoAlarm.context.state") == "running"
    assert page.locator("#tip-z").inner_text().endswith("mm")
    if not late:
        _screenshot(page, "live-page.png", 860)
    page.wait_for_timeout(1000)
    assert page.locator("#warnings").is_visible()  # it stays until acknowledged
    page.click("button.sono-ack")
    page.locator("#warnings").wait_for(state="hidden", timeout=5_000)
    page.wait_for_function(f"() => {open_cell} === '0'", timeout=5_000)
    beeps = page.evaluate("() => window.sonoAlarm.beeps")
    page.wait_for_timeout(2000)
    assert page.evaluate("() => window.sonoAlarm.beeps") == beeps  # silent once acknowledged
    page.click("#stop")


def test_a_new_warning_is_shown_and_sounded_with_its_image_not_at_the_next_poll(
    page: Any, tmp_path: Path, sign_in: Any
) -> None:
    """Here the page asks for the status once on loading and then only every ten minutes: the banner and
    the sound can come only from the image of the stream that carries the higher warning count."""

    sign_in(page)
    _start_no_spread_cine(page, tmp_path)
    page.route(re.compile(r"/sono/live\?session="), _rare_polls)
    page.reload(wait_until="domcontentloaded")
    assert page.locator(".sono-live").get_attribute("data-poll-ms") == "600000"
    page.wait_for_function("() => window.sonoStream.shown > 0", timeout=10_000)
    assert page.evaluate("() => window.sonoStream.asked") == 0  # no warning yet: no extra status request
    page.click("#inject")
    page.wait_for_selector("#warnings:not([hidden])", timeout=30_000)
    assert "NO VISIBLE SPREAD" in page.locator("#warnings").inner_text()
    assert page.evaluate("() => [window.sonoStream.warnings, window.sonoStream.asked]") == [1, 1]
    page.wait_for_function("() => window.sonoAlarm.beeps >= 1", timeout=10_000)
    page.click("#stop")


def _part(width: int, height: int, grey: int, warnings: int = 0) -> bytes:
    """One part of the live stream, as the server sends it: a JPEG of one grey level."""
    import cv2
    import numpy as np

    from painguide.web.routes.sono import mjpeg_part

    return mjpeg_part(cv2.imencode(".jpg", np.full((height, width), grey, np.uint8))[1].tobytes(), warnings)


def _rare_polls(route: Any) -> None:
    """The live page as served, asking for the status once on loading and then only every ten minutes."""
    response = route.fetch()
    body = response.text().replace('data-poll-ms="500"', 'data-poll-ms="600000"')
    route.fulfill(response=response, body=body)


def test_a_warning_after_the_source_was_switched_is_asked_for_at_once(
    page: Any, tmp_path: Path, sign_in: Any
) -> None:
    """The warning count starts again at 0 with a new source (a watcher's page stays open meanwhile): the
    first warning of the new source is asked for at once, as the first of the old one was. The stream is
    played here by the browser's router: 2 warnings, then a new source with none, then its first."""
    opened: list[str] = []

    def stream(route: Any) -> None:
        opened.append(route.request.url)
        body = b"".join(_part(64, 48, 100, n) for n in (2, 0, 1)) if len(opened) == 1 else b""
        route.fulfill(
            status=200, body=body, headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
        )

    sign_in(page)
    _start_no_spread_cine(page, tmp_path)
    page.route(re.compile(r"/sono/live\?session="), _rare_polls)
    page.route(re.compile(r"/sono/live/[^/]+/stream"), stream)
    page.reload(wait_until="domcontentloaded")
    page.wait_for_function("() => window.sonoStream.asked >= 2", timeout=10_000)
    assert page.evaluate("() => [window.sonoStream.warnings, window.sonoStream.asked]") == [1, 2]
    page.click("#stop")


def test_the_live_picture_is_drawn_followed_again_and_marked_when_not_live(
    page: Any, tmp_path: Path, sign_in: Any
) -> None:
    """The stream is drawn onto the canvas at the image's own size; a stream that ends is opened again; a
    picture that has not changed for a second says so. The stream is played here by the browser's
    router: one image of grey 200 at 320x240 first, then connections that end without an image."""
    opened: list[str] = []

    def stream(route: Any) -> None:
        opened.append(route.request.url)
        body = _part(320, 240, 200) if len(opened) == 1 else b""
        route.fulfill(
            status=200, body=body, headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
        )

    sign_in(page)
    _start_no_spread_cine(page, tmp_path)
    page.route(re.compile(r"/sono/live/[^/]+/stream"), stream)
    page.reload(wait_until="domcontentloaded")
    page.wait_for_function("() => window.sonoStream.shown > 0", timeout=10_000)
    size = page.evaluate(
        "() => [document.getElementById('stream').width, document.getElementById('stream').height]"
    )
    assert size == [320, 240]
    pixel = "document.getElementById('stream').getContext('2d').getImageData(160, 120, 1, 1).data"
    centre = page.evaluate(f"() => Array.from({pixel})")
    assert all(abs(v - 200) <= 3 for v in centre[:3]) and centre[3] == 255
    assert page.locator("#stream-stale").is_hidden()
    page.wait_for_function("() => !document.getElementById('stream-stale').hidden", timeout=5_000)
    note = page.locator("#stream-stale").inner_text()
    assert re.fullmatch(r"No new image for \d+ s: the picture is not live\.", note), note
    page.wait_for_timeout(1000)
    assert len(opened) >= 3  # opened again each time it ended
    page.click("#stop")


def test_the_panel_says_when_the_server_does_not_answer_and_when_the_session_is_gone(
    page: Any, tmp_path: Path, sign_in: Any
) -> None:
    """The status and the stream are played here by the browser's router: first the connection fails,
    then the server refuses, then it answers again, then (on a reloaded page) the session no longer
    exists, and the page stops asking for it."""
    answer = {"mode": "down"}
    asked: dict[str, list[str]] = {"status": [], "stream": []}

    def reply(route: Any) -> None:
        asked[route.request.url.rsplit("/", 1)[1].split("?")[0]].append(answer["mode"])
        if answer["mode"] == "down":
            route.abort("connectionrefused")
        elif answer["mode"] == "refused":
            route.fulfill(
                status=401, json={"error": "LoginRequired", "detail": "not signed in: sign in at /login"}
            )
        elif answer["mode"] == "gone":
            route.fulfill(status=404, json={"error": "NotFound", "detail": "live session does not exist"})
        else:
            route.continue_()

    sign_in(page)
    _start_no_spread_cine(page, tmp_path)
    page.route(re.compile(r"/sono/live/[^/]+/status"), reply)
    state = "() => document.getElementById('running').textContent"
    page.wait_for_function(f"() => ({state})().startsWith('No connection to the server')", timeout=5_000)
    assert "the numbers and warnings here are not current" in page.locator("#running").inner_text()
    lost = page.locator("#status-lost")  # said at the top of the panel too, not only in the state line
    assert lost.is_visible() and lost.inner_text() == page.locator("#running").inner_text()
    old_list = page.locator("#sessions-stale")  # and the list of sessions says it is not current
    assert old_list.is_visible() and "this list is not current" in old_list.inner_text()
    answer["mode"] = "refused"
    page.wait_for_function(f"() => ({state})().startsWith('The server refused the status')", timeout=5_000)
    assert "(not signed in: sign in at /login)" in page.locator("#running").inner_text()
    answer["mode"] = "up"
    page.wait_for_function(f"() => ['running', 'ended'].includes(({state})())", timeout=5_000)
    assert lost.is_hidden() and old_list.is_hidden()
    listed: list[str] = []
    page.on("request", lambda r: listed.append(r.url) if r.url.endswith("/sono/live/sessions") else None)
    answer["mode"] = "gone"
    page.route(re.compile(r"/sono/live/[^/]+/stream"), reply)
    page.reload(wait_until="domcontentloaded")
    page.wait_for_function(f"() => ({state})().startsWith('This session no longer exists')", timeout=5_000)
    page.wait_for_function("() => window.sonoStream.gone", timeout=5_000)
    assert lost.inner_text().startswith("This session no longer exists")
    # the list of sessions, no longer fed by the gone session's status, asks for itself and is current
    page.wait_for_function("() => document.getElementById('sessions-stale').hidden", timeout=5_000)
    assert listed
    counts = {k: len(v) for k, v in asked.items()}
    page.wait_for_timeout(2500)
    assert {
        k: len(v) for k, v in asked.items()
    } == counts  # neither asked again (a refused stream: every 2 s)
    assert asked["stream"] == ["gone"]
    page.click("#stop")


def test_a_watcher_hears_the_warning_but_cannot_acknowledge_it(
    browser: Any, live_server: str, page: Any, tmp_path: Path, sign_in: Any
) -> None:
    sign_in(page)
    _start_no_spread_cine(page, tmp_path)
    session = page.url.rsplit("=", 1)[1]
    page.click("#inject")
    context = browser.new_context(base_url=live_server, viewport={"width": 1360, "height": 900})
    watcher = context.new_page()
    try:
        sign_in(watcher, "trainee")
        watcher.goto(f"/sono/live?session={session}", wait_until="domcontentloaded")
        assert watcher.locator("#inject").count() == 0
        watcher.click("h1")  # a gesture so that the browser lets the page sound
        watcher.wait_for_selector("#warnings:not([hidden])", timeout=30_000)
        watcher.wait_for_function("() => window.sonoAlarm.beeps >= 1", timeout=10_000)
        assert watcher.locator("button.sono-ack").count() == 0
    finally:
        context.close()
    page.wait_for_selector("button.sono-ack", timeout=30_000)
    page.click("button.sono-ack")
    page.locator("#warnings").wait_for(state="hidden", timeout=5_000)
    page.click("#stop")


def test_the_session_list_shows_sessions_started_after_the_page_loaded(
    browser: Any, live_server: str, page: Any, tmp_path: Path, sign_in: Any
) -> None:
    """A watcher's page without an open session lists a session started later, then sees it end."""
    ids = "() => [...document.querySelectorAll('#sessions tr[data-session]')].map(r => r.dataset.session)"
    context = browser.new_context(base_url=live_server, viewport={"width": 1360, "height": 900})
    watcher = context.new_page()
    try:
        sign_in(watcher, "trainee")
        watcher.goto("/sono/live", wait_until="domcontentloaded")
        listed = watcher.evaluate(ids)
        sign_in(page, "admin")
        _start_no_spread_cine(page, tmp_path)
        session = page.url.rsplit("=", 1)[1]
        assert session not in listed
        row = f"#sessions tr[data-session='{session}']"
        watcher.wait_for_selector(row, timeout=10_000)  # no reload: the list polls
        assert watcher.locator(f"{row} a").get_attribute("href") == f"/sono/live?session={session}"
        assert watcher.locator(f"{row} td").nth(1).inner_text() == "admin"
        assert watcher.locator(f"[data-state='{session}']").inner_text() == "running"
        assert watcher.locator("#sessions tr.sono-none").is_hidden()
        assert watcher.evaluate(ids) == [*listed, session]
        page.click("#stop")
        ended = f"() => document.querySelector(\"[data-state='{session}']\").textContent === 'ended'"
        watcher.wait_for_function(ended, timeout=10_000)
    finally:
        context.close()


def test_a_german_live_page_writes_decimal_commas(browser: Any, live_server: str, sign_in: Any) -> None:
    context = browser.new_context(
        base_url=live_server, locale="de-DE", viewport={"width": 1360, "height": 900}
    )
    page = context.new_page()
    try:
        sign_in(page, "trainee")
        page.goto("/sono/live", wait_until="domcontentloaded")
        assert page.locator("html").get_attribute("lang") == "de"
        if page.locator("details.sono-source[open]").count() == 0:
            page.click("details.sono-source summary")
        page.fill("details.sono-source input[name=source]", "simulated")
        page.click("details.sono-source button[type=submit]", no_wait_after=True)
        page.wait_for_url("**/sono/live?session=*", wait_until="domcontentloaded")
        page.wait_for_function(
            "() => document.getElementById('tip-z').textContent.endsWith(' mm')", timeout=30_000
        )
        assert re.fullmatch(r"\d+,\d mm", page.locator("#tip-z").inner_text())
        assert re.fullmatch(r"[01],\d\d", page.locator("#tip-confidence").inner_text())
        page.click("#stop")
    finally:
        context.close()
