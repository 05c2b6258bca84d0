"""Integration fixtures shared by feature folders: the app in demo mode and a sign-in helper."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.integration.pages import PageClient, page_csrf_token

from painguide.demo import DEMO_PASSWORD
from painguide.settings import get_settings

SignIn = Callable[[TestClient, str], None]


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder seeded once per test session by the real demo seeders, copied for each demo app."""
    from painguide.demo import seed_demo
    from painguide.services import ensure_database
    from painguide.store.db import make_engine

    folder = tmp_path_factory.mktemp("demo-template")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PAINGUIDE_DATA_DIR", str(folder))
        patch.setenv("PAINGUIDE_DEMO", "1")
        get_settings.cache_clear()
        url = ensure_database()
        seed_demo()
        make_engine(url).dispose()  # close the SQLite file (and fold its WAL) before it is copied
    get_settings.cache_clear()
    return folder


@pytest.fixture
def demo_client(
    monkeypatch: pytest.MonkeyPatch, isolated_settings: Path, demo_template: Path
) -> Iterator[TestClient]:
    """The web app in demo mode (demo users and data) on this test's own copy of the seeded demo site.

    The copy was seeded by the real seeders once per session; seeding again here would only repeat that
    (tests/integration/dose/test_dose_web.py checks that seeding twice changes nothing).
    """
    shutil.copytree(demo_template, isolated_settings, dirs_exist_ok=True)
    monkeypatch.setenv("PAINGUIDE_DEMO", "1")
    monkeypatch.setattr("painguide.demo.seed_demo", lambda: None)
    get_settings.cache_clear()
    from painguide.web.app import create_app

    with PageClient(create_app()) as client:
        yield client


def _sign_in(client: TestClient, username: str) -> None:
    form = {
        "username": username,
        "password": DEMO_PASSWORD,
        "next": "/",
        "csrf_token": page_csrf_token(client),
    }
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text


@pytest.fixture
def sign_in() -> SignIn:
    """Sign a demo user in through the login form (asserts the redirect that follows success)."""
    return _sign_in
