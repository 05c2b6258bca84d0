"""A physician signs in, finds a procedure and asks the advisor, in a real browser against a real server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_sign_in_catalogue_and_advisor(page: Any, sign_in: Any) -> None:
    page.goto("/")
    assert "/login" in page.url  # not signed in: sent to the sign-in form
    sign_in(page, "physician")
    page.wait_for_selector("#catalogue")
    assert page.locator("#catalogue tbody tr").count() == 39
    assert "the physician decides" in page.locator(".disclaimer").inner_text()

    page.goto("/advise")
    page.select_option("select[name=procedure]", "cervical-facet-mbb")
    page.check("input[name=pregnant]")
    page.fill("input[name=drug]", "apixaban")
    page.click("#advise-form button[type=submit]")
    page.wait_for_selector("ol.ranking")
    order = page.locator("li.modality").evaluate_all("els => els.map(e => e.dataset.modality)")
    assert order[0] == "ultrasound"
    assert order.index("ultrasound") < order.index("fluoroscopy")
    assert "ACOG723" in page.locator("li.modality[data-modality=fluoroscopy]").inner_text()
    plan = page.locator("table.grid").last.inner_text()
    assert "apixaban" in plan and "hold" in plan
    if os.environ.get("PAINGUIDE_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / "advisor.png"), full_page=False)


def test_bad_number_shows_field_error(page: Any, sign_in: Any) -> None:
    sign_in(page, "trainee")
    page.goto("/advise?procedure=knee-ia&bmi=heavy")
    assert "BMI (kg/m²): 'heavy' is not a number" in page.locator(".error").inner_text()  # its form label


def test_trainee_cannot_open_audit(page: Any, sign_in: Any) -> None:
    sign_in(page, "trainee")
    response = page.goto("/audit")
    assert response is not None and response.status == 403
    assert "audit.read needs one of the roles admin, rpo" in page.locator(".error").inner_text()
