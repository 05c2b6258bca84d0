"""Dose review in a real browser: dashboard, report detail and CSV as RPO; what a trainee may open."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_rpo_reviews_dashboard_report_and_csv(page: Any, tmp_path: Path, sign_in: Any) -> None:
    sign_in(page, "rpo")
    response = page.goto("/dose/")
    assert response is not None and response.status == 200
    page.wait_for_selector("#dose-box.js-plotly-plot .plotly")
    traces = page.evaluate("() => document.getElementById('dose-box').data.length")
    assert traces >= 6  # one box per procedure type and the local-median markers
    y_axis = page.evaluate("() => document.getElementById('dose-box').layout.yaxis.type")
    assert y_axis == "log"
    assert page.locator("#dose-trend .plotly").count() == 1
    names = page.evaluate("() => document.getElementById('dose-box').data.map(t => t.name)")
    assert "Lumbar transforaminal epidural steroid injection" in names  # groups by catalogue name
    if os.environ.get("PAINGUIDE_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        top = page.evaluate("() => document.querySelector('section.chart').getBoundingClientRect().top")
        clip = {"x": 0, "y": top - 8, "width": 1360, "height": 920}
        page.screenshot(path=str(DOCS_IMG / "dose-dashboard.png"), full_page=True, clip=clip)

    page.goto("/dose/reports?patient=DEMO-ALERT")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 3
    rows.first.locator("a").first.click()
    page.wait_for_selector("h1:has-text('Dose report')")
    assert "Vertebroplasty" in page.locator("dl.facts").inner_text()
    events = page.locator("h2:has-text('Irradiation events') + table tbody tr")
    assert events.count() >= 3
    alerts = page.locator("h2:has-text('Alerts') + ul").inner_text()
    assert "sum per patient: DAP" in alerts and "200" in alerts  # labels of the translated dose pages

    page.goto("/dose/")
    with page.expect_download() as info:
        page.click("a[href='/dose/export.csv']")
    path = tmp_path / "dose.csv"
    info.value.save_as(path)
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    assert (
        lines[0].startswith("id,sop_instance_uid,kind") and len(lines) == 62
    )  # a header and 61 demo reports
    assert sum("DEMO-ALERT" in line for line in lines) == 3


def test_trainee_is_refused_the_dashboard_and_the_report_list(page: Any, sign_in: Any) -> None:
    sign_in(page, "trainee")
    response = page.goto("/dose/")
    assert response is not None and response.status == 403
    assert (
        "dose.dashboard needs one of the roles admin, physician, rpo" in page.locator(".error").inner_text()
    )
    listing = page.goto("/dose/reports")
    assert listing is not None and listing.status == 403
    assert page.locator("table.grid tbody tr").count() == 0
    assert page.get_by_role("link", name="Dose").count() == 0  # the navigation offers no refused page


def test_report_list_names_a_procedure_for_every_synthetic_demo_report(page: Any, sign_in: Any) -> None:
    sign_in(page, "physician")
    listing = page.goto("/dose/reports")
    assert listing is not None and listing.status == 200
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 50  # the first page of the 61 demo reports
    page.get_by_role("link", name="older →").click()
    assert page.locator("table.grid tbody tr").count() == 11
    # only pyskindose's real example report ("DSA Body") is named by no catalogue procedure
    page.goto("/dose/reports")
    unmapped = page.locator("td.procedure .unmapped").count()
    page.get_by_role("link", name="older →").click()
    unmapped += page.locator("td.procedure .unmapped").count()
    assert unmapped == 1
