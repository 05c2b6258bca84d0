"""The care pathway in Chromium, as a physician works through it: sign in, register a patient, open a case,
meet a refusal, override one gate with a written reason, complete every step, switch to German and print the
patient information sheet."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def _submit(page: Any, step: str) -> None:
    page.click(f"form[action$='/steps/{step}'] button[type=submit]")
    page.wait_for_load_state()


def _step(page: Any, case_url: str, step: str) -> None:
    page.goto(f"{case_url}/steps/{step}")


def test_a_case_from_registration_to_the_printed_sheet(page: Any, sign_in: Any, tmp_path: Path) -> None:
    sign_in(page, "physician")
    today = datetime.now(UTC).date().isoformat()
    page.click("nav >> text=Patients")
    page.click("text=New patient")
    page.fill("input[name=pseudonym]", "E2E-0001")
    page.fill("input[name=name]", "Erika Beispiel")
    page.fill("input[name=birth_year]", "1971")
    page.select_option("select[name=sex]", "female")
    page.select_option("select[name=pregnancy]", "not_pregnant")
    page.fill("input[name=pregnancy_asked_on]", today)
    page.select_option("select[name=breastfeeding]", "no")
    page.click("#patient-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("E2E-0001")

    page.click("text=New case")
    page.fill("input[name=complaint]", "axial low back pain, right")
    page.select_option("select[name=region]", "lumbar")
    page.select_option("select[name=side]", "right")
    page.fill("input[name=pain_duration_weeks]", "30")
    page.select_option("select[name=nrs]", "7")
    page.select_option("select[name=disability_scale]", "ODI")
    page.fill("input[name=disability_score]", "38")
    page.click("#case-form button[type=submit]")
    page.wait_for_load_state()
    case_url = re.sub(r"[?#].*$", "", page.url)
    assert re.search(r"/cases/\d+$", case_url)
    assert "Next step: Diagnostics" in page.locator("#next-step").inner_text()

    # The indication too early: refused with every unmet reason, the values kept.
    _step(page, case_url, "indication")
    page.select_option("select[name=procedure]", "lumbar-facet-mbb")
    page.fill("input[name=levels]", "L4/5")
    page.fill("textarea[name=rationale]", "facet-mediated pain, loading positive")
    _submit(page, "indication")
    problem = page.locator("#problem")
    codes = problem.locator("li[data-code]").evaluate_all("els => els.map(e => e.dataset.code)")
    assert {"diagnostics_missing", "conservative_therapy_missing"} <= set(codes)
    assert page.input_value("input[name=levels]") == "L4/5"
    assert page.input_value("textarea[name=rationale]") == "facet-mediated pain, loading positive"

    _step(page, case_url, "diagnostics")
    page.fill("textarea[name=findings]", "pain on facet loading, no deficit")
    _submit(page, "diagnostics")
    _step(page, case_url, "diagnostics")
    page.select_option("select[name=kind]", "imaging")
    page.select_option("select[name=modality]", "mri")
    page.fill("textarea[name=finding]", "facet arthropathy L4-L5")
    _submit(page, "diagnostics")
    assert page.locator("li[data-kind=diagnostic]").count() == 2

    # A physician overrides the conservative-care gate with a written reason.
    page.goto(f"{case_url}/override?code=conservative_therapy_missing")
    page.fill("textarea[name=reason]", "physiotherapy abroad for 4 months, report pending")
    page.click("#override-form button[type=submit]")
    page.wait_for_load_state()
    overrides = page.locator("#overrides").inner_text()
    assert "conservative_therapy_missing" in overrides and "report pending" in overrides

    _step(page, case_url, "indication")
    page.select_option("select[name=procedure]", "lumbar-facet-mbb")
    page.fill("input[name=levels]", "L4-L5")
    page.fill("textarea[name=rationale]", "facet-mediated pain, loading positive")
    _submit(page, "indication")
    assert "Plan (modality)" in page.locator("#next-step").inner_text()

    _step(page, case_url, "plan")
    ranked = page.locator("#advisor-panel li[data-modality]").evaluate_all(
        "els => els.map(e => e.dataset.modality)"
    )
    assert ranked[0] == "fluoroscopy"
    _submit(page, "plan")
    _step(page, case_url, "schedule")
    page.fill("input[name=at]", (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT09:00"))
    _submit(page, "schedule")
    assert re.fullmatch(r"PG\d{8}", page.locator("#accession").inner_text())
    _step(page, case_url, "justification")
    assert "valid until" in page.locator("#qualification").inner_text()
    page.fill("textarea[name=alternative_not_chosen_because]", "BMI 36, target depth beyond reliable view")
    _submit(page, "justification")
    _step(page, case_url, "consent")
    page.fill("textarea[name=alternatives]", "ultrasound guidance; no procedure")
    page.fill("textarea[name=risks]", "bleeding, infection, transient numbness")
    page.check("input[name=radiation_explained]")
    _submit(page, "consent")
    _step(page, case_url, "checklist")
    for box in page.locator("#checklist input[type=checkbox]").all():
        box.check()
    _submit(page, "checklist")
    assert "Procedure record" in page.locator("#next-step").inner_text()
    _step(page, case_url, "procedure")
    page.fill("input[name='name:0']", "bupivacaine 0.5 %")
    page.fill("input[name='volume_ml:0']", "0,5")
    _submit(page, "procedure")
    _step(page, case_url, "follow-ups")
    page.fill("input[name=days_after]", "14, 42")
    _submit(page, "follow-ups")
    assert "Follow-ups" in page.locator("#next-step").inner_text()
    assert page.locator("#unmet").count() == 0

    # German, remembered for this user; the information sheet printed.
    page.click("#language-switch button[value=de]")
    page.wait_for_load_state()
    try:
        assert "Nächster Schritt" in page.locator("#next-step").inner_text()
        page.click("#sheet-link")
        page.wait_for_load_state()
        sheet = page.locator("#information-sheet").inner_text()
        assert "Dieser Eingriff arbeitet mit Röntgenstrahlen." in sheet and "Ultraschall" in sheet
        page.emulate_media(media="print")
        assert not page.locator("header.top").is_visible()  # the print layout hides the navigation
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        (tmp_path / "sheet.pdf").write_bytes(pdf)
    finally:  # the choice is stored for the demo physician, whom the other browser tests share
        page.emulate_media(media="screen")
        page.goto(case_url)
        page.click("#language-switch button[value=en]")
        page.wait_for_load_state()
