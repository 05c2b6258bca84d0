"""The whole app on a real PostgreSQL server: every migration, demo data of every feature, the main pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from painguide.settings import get_settings
from painguide.store.db import current_revisions, known_heads

pytestmark = pytest.mark.postgres


def test_demo_site_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, sign_in: Callable[[TestClient, str], None]
) -> None:
    monkeypatch.setenv("PAINGUIDE_DATABASE_URL", postgres_url)
    monkeypatch.setenv("PAINGUIDE_DEMO", "1")
    get_settings.cache_clear()
    from painguide.web.app import create_app

    with TestClient(create_app()) as client:
        assert client.get("/health").json()["status"] == "ok"
        sign_in(client, "admin")
        for path in (
            "/",
            "/advise?procedure=lumbar-tfesi&pregnant=on",
            "/dose/",
            "/dose/reports",
            "/sono/review",
            "/audit",
        ):
            assert client.get(path).status_code == 200, path
        reports = client.get("/dose/export.csv")
        assert reports.status_code == 200 and reports.text.count("\n") > 10
    revisions = current_revisions(postgres_url)
    assert revisions == known_heads()  # every branch at its head
    assert {"0015_dose_skin_reasons", "0005_sono", "0007_security", "0011_i18n"} <= revisions  # one dose head
