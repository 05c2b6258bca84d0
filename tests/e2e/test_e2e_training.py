"""Competence and outcomes in a real browser: the trainee's logbook and learning curve, a physician declaring
competence, a follow-up answered by the patient through the one-time link, and the procedure report."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_logbook_curve_declaration_patient_link_and_report(
    browser: Any, page: Any, live_server: str, sign_in: Any
) -> None:
    sign_in(page, "trainee")
    page.goto("/training/")
    summary = page.locator("#logbook-summary").inner_text()
    assert "24" in summary and "Knee" in summary  # 24 demo procedures on patients
    page.goto("/training/curves")
    page.wait_for_selector("section.curve .js-plotly-plot .plotly")
    names = page.evaluate(
        "() => document.querySelector('section.curve .js-plotly-plot').data.map(t => t.name)"
    )
    assert "competence declared at procedure 23" in names
    assert page.locator("form.declare").count() == 0  # a trainee cannot declare
    if os.environ.get("PAINGUIDE_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.locator("section.curve").first.screenshot(path=str(DOCS_IMG / "learning-curve.png"))

    doctor_context = browser.new_context(base_url=live_server, viewport={"width": 1360, "height": 900})
    doctor = doctor_context.new_page()
    sign_in(doctor, "physician")
    doctor.goto("/training/curves?operator=trainee")
    doctor.click("form.declare button[value=lc_cusum]")
    doctor.wait_for_selector("strong.competent")
    assert "Competence declared" in doctor.locator("section.curve strong.competent").inner_text()

    doctor.goto("/outcomes/follow-ups")
    doctor.locator("#follow-ups a:has-text('Enter')").first.click()
    doctor.select_option("#make-link select[name=language]", "de")
    doctor.click("#make-link button")
    url = doctor.locator("#patient-link-url").inner_text()
    assert re.match(r"^http://127\.0\.0\.1:\d+/f/[A-Za-z0-9_-]{40,}$", url)

    patient_context = browser.new_context(viewport={"width": 420, "height": 800})  # no session
    patient = patient_context.new_page()
    patient.goto(url)
    assert patient.locator("h1").inner_text() == "Ihre Nachkontrolle"
    assert patient.locator("header, nav").count() == 0
    patient.check("input[name=nrs][value='3']")
    patient.check("input[name=pgic][value=much_improved]")
    patient.click("#patient-follow-up button")
    patient.wait_for_selector("#patient-thanks")
    patient.goto(url)
    assert patient.locator("#patient-invalid").count() == 1
    patient_context.close()

    doctor.goto("/reports/procedure/1")
    assert doctor.locator("h2:has-text('Technique')").count() == 1
    pdf = doctor.request.get(f"{live_server}/reports/procedure/1.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    doctor_context.close()
