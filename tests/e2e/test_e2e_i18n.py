"""Language switch in a real browser: a German browser gets the German sign-in page; the switch in the header
changes every page and is remembered for the user."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_german_browser_and_language_switch(browser: Any, live_server: str, sign_in: Any) -> None:
    viewport = {"width": 1360, "height": 900}
    context = browser.new_context(base_url=live_server, locale="de-DE", viewport=viewport)
    page = context.new_page()
    try:
        page.goto("/login")
        assert page.locator("html").get_attribute("lang") == "de"  # Accept-Language: de-DE
        assert page.locator("h1").inner_text() == "Anmelden"
        page.click("#language-switch button[value=en]")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Sign in"  # the choice beats the browser's language
        sign_in(page, "admin")
        assert page.locator("h1").inner_text() == "Procedure catalogue"

        page.click("#language-switch button[value=de]")
        page.wait_for_selector("html[lang=de]")
        assert page.locator("h1").inner_text() == "Eingriffskatalog"
        assert "die Ärztin oder der Arzt entscheidet" in page.locator(".disclaimer").inner_text()
        page.goto("/advise?procedure=lumbar-tfesi&pregnant=on&drug=apixaban")
        assert page.locator("h1").inner_text() == "Modalitätsempfehlung"
        assert "Antikoagulationsplan" in page.locator("#result").inner_text()
        if os.environ.get("PAINGUIDE_SCREENSHOTS"):
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS_IMG / "advisor-de.png"), full_page=False)

        # a new browser in English: the German choice was stored for the user
        other = browser.new_context(base_url=live_server, locale="en-US")
        try:
            second = other.new_page()
            sign_in(second, "admin")
            assert second.locator("h1").inner_text() == "Eingriffskatalog"
        finally:
            other.close()
    finally:
        page.click("#language-switch button[value=en]")  # leave the shared demo user as other tests expect
        page.wait_for_selector("html[lang=en]")
        context.close()
