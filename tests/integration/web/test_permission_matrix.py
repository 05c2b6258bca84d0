"""Generated from the app's route table: every route declares an action of the permission matrix, and every
role gets exactly what the matrix gives it (403 where it does not; never 401/403 where it does)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount
from tests.integration.pages import PageClient

from painguide.auth import ROLES, permission_matrix
from painguide.demo import DEMO_PASSWORD
from painguide.services import open_uow
from painguide.settings import get_settings
from painguide.store.users import create_user
from painguide.web.deps import ACTION_ATTRIBUTE

#: Routes whose allowed call would hold the connection open (a live stream): only denial is checked.
STREAMING = {"/sono/live/{session_id}/stream"}


def _actions(dependant: object) -> set[str]:
    found: set[str] = set()
    call = getattr(dependant, "call", None)
    if call is not None and hasattr(call, ACTION_ATTRIBUTE):
        found.add(getattr(call, ACTION_ATTRIBUTE))
    for sub in getattr(dependant, "dependencies", []):
        found |= _actions(sub)
    return found


@pytest.fixture
def app_and_clients(
    monkeypatch: pytest.MonkeyPatch, isolated_settings: Path, demo_template: Path
) -> Iterator[tuple[object, dict[str, TestClient]]]:
    """The demo app with one signed-in client per role (a viewer account is added) and an anonymous one."""
    shutil.copytree(demo_template, isolated_settings, dirs_exist_ok=True)
    monkeypatch.setenv("PAINGUIDE_DEMO", "1")
    monkeypatch.setattr("painguide.demo.seed_demo", lambda: None)  # the copy holds the seeded demo site
    get_settings.cache_clear()
    from painguide.web.app import create_app

    app = create_app()
    with open_uow() as uow:
        create_user(uow.session, "viewer", DEMO_PASSWORD, ["viewer"], actor="test")
        uow.commit()
    clients: dict[str, TestClient] = {}
    for role in ROLES:
        client = PageClient(app)  # sends the CSRF token as the pages do: the matrix decides, not CSRF
        form = {"username": role, "password": DEMO_PASSWORD, "next": "/"}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        clients[role] = client
    clients["anonymous"] = PageClient(app)
    yield app, clients
    for client in clients.values():
        client.close()


def _routes(app: object) -> list[RouteContext]:
    """Every API route with its full path (FastAPI keeps included routers as contexts)."""
    contexts = iter_route_contexts(getattr(app, "routes", []))
    return [c for c in contexts if isinstance(c.original_route, APIRoute)]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_declares_one_known_action(app_and_clients: tuple[object, dict[str, TestClient]]) -> None:
    app, _ = app_and_clients
    matrix = permission_matrix()
    missing = [r.path for r in _routes(app) if not _actions(r.dependant)]
    several = [
        (r.path, sorted(_actions(r.dependant))) for r in _routes(app) if len(_actions(r.dependant)) > 1
    ]
    assert not missing, f"routes without an action of the permission matrix: {missing}"
    assert not several, f"routes declaring several actions: {several}"
    for route in _routes(app):
        (action,) = _actions(route.dependant)
        matrix.action(action)  # raises for an action without an entry


def test_only_static_files_are_mounted(app_and_clients: tuple[object, dict[str, TestClient]]) -> None:
    app, _ = app_and_clients
    contexts = iter_route_contexts(getattr(app, "routes", []))
    mounts = [c.path for c in contexts if isinstance(c.original_route, Mount)]
    assert mounts == ["/static"]


def test_every_route_for_every_role(app_and_clients: tuple[object, dict[str, TestClient]]) -> None:
    app, clients = app_and_clients
    matrix = permission_matrix()
    wrong: list[str] = []
    checked = 0
    routes = sorted(_routes(app), key=lambda r: r.path == "/logout")  # sign-out last
    for route in routes:
        (action,) = _actions(route.dependant)
        allowed = matrix.roles_for(action)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            for who, client in clients.items():
                may = matrix.action(action).public or who in allowed
                if may and (route.path in STREAMING or route.path == "/logout"):
                    continue
                response = client.request(
                    method,
                    _concrete(str(route.path)),
                    headers={"accept": "application/json"},
                    follow_redirects=False,
                )
                checked += 1
                status = response.status_code
                if may and status in (401, 403):
                    wrong.append(f"{who} {method} {route.path}: {status}, but the matrix allows {action}")
                if not may and status != (401 if who == "anonymous" else 403):
                    wrong.append(f"{who} {method} {route.path}: {status}, but the matrix refuses {action}")
    assert checked > 5 * len(routes) // 2
    assert not wrong, "\n".join(wrong)
