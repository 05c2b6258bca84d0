"""The competence, outcome and report pages through the app: the patient's link page shows nothing else and
works once, in German and English; staff pages render for those allowed and refuse the others."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from tests.integration.pages import PageClient, page_csrf_token

from painguide.auth.models import User
from painguide.pathway.models import FollowUpResult, Qualification
from painguide.pathway.service import record_follow_up, record_qualification
from painguide.services import open_uow
from painguide.settings import get_settings
from painguide.store.users import create_user

from .conftest import START, perform

PASSWORD = "password-123"
HTML = {"accept": "text/html"}


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, dict[str, int]]]:
    monkeypatch.setenv("PAINGUIDE_SECRET_KEY", "a-long-random-test-secret-of-enough-length")
    get_settings.cache_clear()
    from painguide.web.app import create_app

    client = PageClient(create_app())
    with open_uow() as uow:
        for name, role in (("dr.a", "physician"), ("tina", "trainee"), ("vic", "viewer")):
            create_user(uow.session, name, PASSWORD, [role])
        uow.commit()
        done = perform(uow, supervisor="dr.a", follow_up_days=(14, 90), pseudonym="SECRET-PSEUDO")
        perform(uow, at=START + timedelta(days=1), follow_up_days=(14,))
    yield client, {"case": done.case_id, "follow_up": done.follow_ups[14]}
    client.close()


def signed_in(client: TestClient, name: str) -> TestClient:
    other = PageClient(client.app)
    form = {"username": name, "password": PASSWORD, "next": "/", "csrf_token": page_csrf_token(other)}
    response = other.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303
    return other


def test_the_patient_page_shows_only_the_questions_and_works_once(
    app: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = app
    staff = signed_in(client, "dr.a")
    made = staff.post(f"/outcomes/follow-ups/{ids['follow_up']}/link", data={"language": "de"}, headers=HTML)
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    path = re.search(r'id="patient-link-url">http://testserver([^<]+)<', made.text).group(1)  # type: ignore[union-attr]

    patient = PageClient(client.app)  # no session: the CSRF seed cookie only
    page = patient.get(path)
    assert page.status_code == 200
    assert "Ihre Nachkontrolle" in page.text and "Wie stark sind Ihre Schmerzen heute?" in page.text
    assert "SECRET-PSEUDO" not in page.text and "Test Person" not in page.text and "tina" not in page.text
    assert "<nav" not in page.text and "/logout" not in page.text
    hrefs = set(re.findall(r'href="([^"]+)"', page.text))
    assert hrefs == {"/static/painguide.css", "?lang=en"}
    assert page.headers["referrer-policy"] == "same-origin" and "noindex" in page.headers["x-robots-tag"]
    english = patient.get(f"{path}?lang=en")
    assert "Your follow-up" in english.text and "How strong is your pain today?" in english.text

    incomplete = patient.post(path, data={"nrs": "4"})
    assert incomplete.status_code == 422 and "beide Fragen" in incomplete.text
    done = patient.post(path, data={"nrs": "2", "pgic": "much_improved"})
    assert done.status_code == 200 and "Vielen Dank" in done.text
    used = patient.get(path)
    unknown = patient.get("/f/" + "A" * 43)
    assert used.status_code == unknown.status_code == 404
    assert used.text == unknown.text and "SECRET" not in used.text
    assert patient.post(path, data={"nrs": "9", "pgic": "much_worse"}).status_code == 404
    listed = staff.get("/outcomes/follow-ups?all=true", headers=HTML)
    assert "much improved" in listed.text or "viel besser" in listed.text


def test_staff_pages_render_and_refuse_those_not_allowed(app: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = app
    doctor = signed_in(client, "dr.a")
    for path in (
        "/training/?operator=tina",
        "/training/curves?operator=tina",
        "/training/education",
        "/outcomes/",
        "/outcomes/follow-ups",
        f"/outcomes/follow-ups/{ids['follow_up']}",
        f"/reports/procedure/{ids['case']}",
        "/reports/quality",
    ):
        response = doctor.get(path, headers=HTML)
        assert response.status_code == 200, (path, response.text[-500:])
    pdf = doctor.get(f"/reports/procedure/{ids['case']}.pdf")
    assert (
        pdf.status_code == 200
        and pdf.content.startswith(b"%PDF")
        and pdf.headers["content-type"] == "application/pdf"
    )
    report = doctor.get(f"/reports/procedure/{ids['case']}", headers={**HTML, "accept-language": "de"})
    assert "Technik" in report.text and "SECRET-PSEUDO" in report.text
    # the catalogue's German name leads a German report; a birth year is not grouped by thousands
    assert "Kniegelenksinfiltration (intraartikulär)" in report.text
    assert "Knee intra-articular injection" not in report.text
    assert ">1960<" in report.text and "1.960" not in report.text
    english = doctor.get(f"/reports/procedure/{ids['case']}", headers={**HTML, "accept-language": "en"})
    assert "Knee intra-articular injection" in english.text and "Kniegelenksinfiltration" not in english.text

    trainee = signed_in(client, "tina")
    own = trainee.get("/training/", headers=HTML)
    assert own.status_code == 200 and "Logbook of tina" in own.text
    assert trainee.get("/training/?operator=dr.a", headers=HTML).status_code == 403
    assert trainee.get("/outcomes/", headers=HTML).status_code == 403
    assert trainee.get("/reports/quality", headers=HTML).status_code == 403
    viewer = signed_in(client, "vic")
    for path in ("/training/", "/outcomes/follow-ups", f"/reports/procedure/{ids['case']}", "/outcomes/"):
        assert viewer.get(path, headers=HTML).status_code == 403, path


def test_the_outcome_table_names_groups_and_criteria_in_the_page_language(
    app: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = app
    result = FollowUpResult(on=(START + timedelta(days=14)).date(), nrs=2, pgic="much_improved")
    with open_uow() as uow:
        dr_a = User("dr.a", "", frozenset({"physician"}))
        record_follow_up(uow, dr_a, ids["case"], ids["follow_up"], result, now=START + timedelta(days=14))
    doctor = signed_in(client, "dr.a")
    german = doctor.get("/outcomes/", headers={**HTML, "accept-language": "de"}).text
    table = german.split('id="responders-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>([^<]+)</td>", table)
    assert rows and all(" · " in row for row in rows), rows
    assert all(row.endswith(("Ultraschall", "Durchleuchtung", "CT", "Landmarken")) for row in rows), rows
    assert "&gt;= 30 % NRS-Reduktion (moderat)" in table and "(moderate)" not in table


def test_the_education_page_shows_a_qualification_s_dates_in_the_page_language(
    app: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = app
    admin = User("root", "", frozenset({"admin"}))
    with open_uow() as uow:
        qualification = Qualification(username="dr.a", certificate="FK-7", valid_until=date(2029, 12, 1))
        record_qualification(uow, admin, qualification, now=START)
        uow.commit()
    doctor = signed_in(client, "dr.a")
    german = doctor.get("/training/education", headers={**HTML, "accept-language": "de"})
    assert german.status_code == 200 and "<td>FK-7</td>" in german.text
    assert "01.12.2029" in german.text and "2029-12-01" not in german.text
    english = doctor.get("/training/education", headers={**HTML, "accept-language": "en"})
    assert english.status_code == 200 and "Dec 1, 2029" in english.text
