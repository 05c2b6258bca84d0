"""The ultrasound review page in German, in a real browser: event texts translated, nothing spills out."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SPILLING = """() => {
  const card = document.querySelector('.sono-summary').getBoundingClientRect();
  return [...document.querySelectorAll('.sono-summary dt, .sono-summary dd, .sono-summary .sono-flag')]
    .filter((e) => e.getBoundingClientRect().right > card.right + 0.5)
    .map((e) => e.innerText);
}"""
"""The summary's terms and values that reach beyond its card (longer German words did, over the chart)."""


def test_german_review_page_reads_german_and_keeps_the_summary_in_its_card(page: Any, sign_in: Any) -> None:
    sign_in(page)
    page.click("#language-switch button[value=de]")  # the user's choice (stored) beats the browser's
    page.wait_for_selector("html[lang=de]")
    try:
        page.goto("/sono/review")
        page.click("text=demo-no-visible-spread.dcm")
        page.wait_for_selector("#sono-timeline .plotly")
        banner = page.locator(".sono-banner").inner_text()
        assert "keine sichtbare Ausbreitung" in banner and "nach Injektionsbeginn" in banner
        events = page.locator("table").last.inner_text()
        assert "Injektion begonnen bei" in events and "injection started" not in events
        assert page.evaluate(SPILLING) == []
        hover = page.evaluate(
            "() => document.getElementById('sono-timeline').layout.annotations"
            ".map(a => a.hovertext).join(' ')"
        )
        assert "Injektion begonnen bei" in hover
    finally:
        page.click("#language-switch button[value=en]")  # leave the shared demo user as other tests expect
        page.wait_for_selector("html[lang=en]")
