"""Integration fixtures shared by feature folders: the app in demo mode and a sign-in helper."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from painguide.demo import DEMO_PASSWORD
from painguide.settings import get_settings

SignIn = Callable[[TestClient, str], None]


@pytest.fixture
def demo_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The web app in demo mode (demo users and data) on this test's own data directory."""
    monkeypatch.setenv("PAINGUIDE_DEMO", "1")
    get_settings.cache_clear()
    from painguide.web.app import create_app

    with TestClient(create_app()) as client:
        yield client


def _sign_in(client: TestClient, username: str) -> None:
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def sign_in() -> SignIn:
    """Sign a demo user in through the login form (asserts the redirect that follows success)."""
    return _sign_in
