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


def test_live_page_shows_the_no_spread_warning(page: Any, tmp_path: Path, sign_in: Any) -> None:
    from painguide.sono.demo import demo_cines

    name, _, data = next(c for c in demo_cines() if c[0] == "demo-no-visible-spread.dcm")
    cine = tmp_path / name
    cine.write_bytes(data)
    sign_in(page)
    page.goto("/sono/live", wait_until="domcontentloaded")  # the MJPEG stream never finishes loading
    page.click("details.sono-source summary")
    page.set_input_files("details.sono-source input[name=file]", str(cine))
    page.fill("details.sono-source input[name=source]", "")
    page.click("details.sono-source button[type=submit]", no_wait_after=True)
    page.wait_for_url("**/sono/live", wait_until="domcontentloaded")
    page.wait_for_function("() => document.getElementById('source').textContent.startsWith('dicom:')")
    page.wait_for_function("() => Number(document.getElementById('frames').textContent) >= 12")
    assert page.locator("#warnings").is_hidden()
    page.click("#inject")
    page.wait_for_function("() => document.getElementById('injection').textContent === 'started'")
    page.wait_for_selector("#warnings:not([hidden])", timeout=30_000)
    assert "no visible spread" in page.locator("#warnings").inner_text()
    assert page.locator("#tip-z").inner_text().endswith("mm")
    _screenshot(page, "live-page.png", 860)
    page.click("#stop")
