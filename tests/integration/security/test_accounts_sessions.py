"""Accounts and sessions over HTTP: secret key, demo accounts, server-side sessions, expiry, disable,
API tokens, Secure cookies and password re-hashing."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.integration.pages import PageClient

from painguide.accounts.service import disable_user, issue_token, revoke_access
from painguide.auth import User
from painguide.demo import DEMO_PASSWORD
from painguide.errors import ConfigurationError
from painguide.services import open_uow
from painguide.settings import get_settings
from painguide.store.base import utcnow
from painguide.store.tables import AuditEntry, SessionRow, UserRow
from painguide.store.users import create_user
from painguide.web.security import SESSION_COOKIE

GOOD_SECRET = "k" * 48
ADMIN = User("root", "", frozenset({"admin"}))


def _app(monkeypatch: pytest.MonkeyPatch, *, demo: bool, **env: str) -> FastAPI:
    monkeypatch.setenv("PAINGUIDE_DEMO", "1" if demo else "0")
    monkeypatch.setenv("PAINGUIDE_SECRET_KEY", GOOD_SECRET)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    from painguide.web.app import create_app

    return create_app()


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """A non-demo site with one physician account ``ada``."""
    app = _app(monkeypatch, demo=False)
    with open_uow() as uow:
        create_user(uow.session, "ada", "correct horse", ["physician"], actor="test")
        create_user(uow.session, "root", "correct horse", ["admin"], actor="test")
        uow.commit()
    yield app


def _login(client: TestClient, name: str = "ada", password: str = "correct horse") -> int:
    return client.post(
        "/login", data={"username": name, "password": password, "next": "/"}, follow_redirects=False
    ).status_code


@pytest.mark.parametrize("key", ["x", "s" * 31])
def test_short_secret_key_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("PAINGUIDE_SECRET_KEY", key)
    get_settings.cache_clear()
    from painguide.web.app import create_app

    with pytest.raises(
        ConfigurationError, match=r"PAINGUIDE_SECRET_KEY: \d+ bytes is too short.*token_urlsafe"
    ):
        create_app()


def test_demo_accounts_are_refused_outside_demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    _app(monkeypatch, demo=True)  # `make serve` once used this data folder
    app = _app(monkeypatch, demo=False)
    with PageClient(app) as client:
        assert _login(client, "admin", DEMO_PASSWORD) == 401
        assert client.get("/api/v1/catalogue").status_code == 401
    with open_uow() as uow:
        reasons = [
            e.detail["reason"]
            for e in uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed"))
            if e.detail
        ]
        assert uow.users.require("admin").demo
    assert reasons == ["demo account outside demo mode"]


def test_demo_password_is_refused_outside_demo_mode_for_any_account(site: FastAPI) -> None:
    with open_uow() as uow:
        create_user(uow.session, "lazy", DEMO_PASSWORD, ["viewer"], actor="test")
        uow.commit()
    with PageClient(site) as client:
        assert _login(client, "lazy", DEMO_PASSWORD) == 401


def test_cookie_holds_a_random_id_and_sign_out_ends_a_copied_cookie(site: FastAPI) -> None:
    with PageClient(site) as browser, PageClient(site) as thief, PageClient(site) as again:
        assert _login(browser) == 303
        cookie = browser.cookies.get(SESSION_COOKIE)
        # one opaque token (no signed payload with the user's name), new at each sign-in: a random id
        assert cookie and len(cookie) >= 40 and re.fullmatch(r"[A-Za-z0-9_-]+", cookie)
        with open_uow() as uow:  # only the digest is stored
            stored = list(uow.session.scalars(select(SessionRow.id_hash)))
        assert stored == [hashlib.sha256(cookie.encode()).hexdigest()]
        assert _login(again) == 303
        assert again.cookies.get(SESSION_COOKIE) not in (None, cookie)
        thief.cookies.set(SESSION_COOKIE, cookie)
        assert thief.get("/api/v1/catalogue").status_code == 200
        assert browser.post("/logout", follow_redirects=False).status_code == 303
        assert thief.get("/api/v1/catalogue").status_code == 401
        assert browser.get("/api/v1/catalogue").status_code == 401


def test_idle_and_absolute_expiry_end_sessions(site: FastAPI) -> None:
    settings = get_settings()
    for column, age in (
        ("last_seen_at", timedelta(minutes=settings.session_idle_minutes, seconds=5)),
        ("created_at", timedelta(hours=settings.session_absolute_hours, seconds=5)),
    ):
        with PageClient(site) as client:
            assert _login(client) == 303
            assert client.get("/api/v1/catalogue").status_code == 200
            with open_uow() as uow:
                uow.session.execute(update(SessionRow).values({column: utcnow() - age}))
                uow.commit()
            assert client.get("/api/v1/catalogue").status_code == 401, column
            with open_uow() as uow:
                assert all(s.ended_at for s in uow.session.scalars(select(SessionRow)))


def test_disable_ends_sessions_and_tokens_and_enable_restores_sign_in(site: FastAPI) -> None:
    with open_uow() as uow:
        token = issue_token(uow, ADMIN, "ada", label="script")
    with PageClient(site) as client:
        assert _login(client) == 303
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/catalogue", headers=bearer).status_code == 200
        with open_uow() as uow:
            assert disable_user(uow, ADMIN, "ada") == (1, 1)
        assert client.get("/api/v1/catalogue").status_code == 401
        assert client.get("/api/v1/catalogue", headers=bearer).status_code == 401
        assert _login(client) == 401


def test_api_token_works_for_api_routes_only_and_revoke_ends_it(site: FastAPI) -> None:
    with open_uow() as uow:
        token = issue_token(uow, ADMIN, "ada", days=30)
        stored = uow.session.scalar(select(UserRow).where(UserRow.username == "ada"))
        assert stored is not None
    assert token.startswith("pgt_")
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(site) as script:  # no cookie, no CSRF token: a script
        assert script.get("/api/v1/advise/lumbar-tfesi", headers=bearer).status_code == 200
        r = script.get("/", headers={**bearer, "accept": "application/json"})
        assert r.status_code == 401 and "/api/ routes only" in r.json()["detail"]
        bad = script.get("/api/v1/catalogue", headers={"Authorization": "Bearer pgt_wrong"})
        assert bad.status_code == 401 and "unknown, revoked or expired" in bad.json()["detail"]
        with open_uow() as uow:
            assert revoke_access(uow, ADMIN, "ada") == (0, 1)
        assert script.get("/api/v1/catalogue", headers=bearer).status_code == 401


def test_session_cookie_is_secure_and_httponly_over_https(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app(monkeypatch, demo=True, PAINGUIDE_HTTPS="1")
    with PageClient(app, base_url="https://testserver") as client:
        r = client.post(
            "/login", data={"username": "physician", "password": DEMO_PASSWORD}, follow_redirects=False
        )
        cookie = r.headers["set-cookie"]
        assert (
            r.status_code == 303 and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        )
        assert "max-age=31536000" in client.get("/health").headers["strict-transport-security"]


def test_plain_http_cookie_is_not_secure(site: FastAPI) -> None:
    with PageClient(site) as client:
        r = client.post(
            "/login", data={"username": "ada", "password": "correct horse"}, follow_redirects=False
        )
        assert "Secure" not in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]


def _scrypt(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return "$".join(
        ["scrypt", "16384", "8", "1", base64.b64encode(salt).decode(), base64.b64encode(digest).decode()]
    )


def test_old_scrypt_hash_still_verifies_and_is_upgraded_on_sign_in(site: FastAPI) -> None:
    with open_uow() as uow:
        uow.users.require("ada").password_hash = _scrypt("correct horse")
        uow.commit()
    with PageClient(site) as client:
        assert _login(client, password="wrong horse") == 401
        with open_uow() as uow:
            assert uow.users.require("ada").password_hash.startswith("scrypt$")
        assert _login(client) == 303
    with open_uow() as uow:
        assert uow.users.require("ada").password_hash.startswith("$argon2id$")


def test_sign_in_issues_a_fresh_session_id(site: FastAPI) -> None:
    with PageClient(site) as client:
        client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="testserver.local")
        assert _login(client) == 303
        assert client.cookies.get(SESSION_COOKIE) != "planted-by-an-attacker"


def test_last_seen_is_written_at_most_once_a_minute_and_idle_expiry_still_holds(
    site: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request looks the session up; its last-seen time is written only when a minute old, so reads do
    not each cost a write. A session used every 50 s stays open past the idle limit; one left idle for the
    idle limit after its last request is ended, however recently its last-seen time was written."""
    from painguide.accounts import service

    with PageClient(site) as client:
        assert _login(client) == 303
        session_id = client.cookies.get(SESSION_COOKIE)
        assert session_id
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    start = utcnow()
    clock = {"now": start}
    monkeypatch.setattr(service, "utcnow", lambda: clock["now"])

    def seen() -> object:
        with open_uow() as uow:
            return uow.session.scalar(select(SessionRow.last_seen_at))

    def use(after: timedelta) -> User | None:
        clock["now"] += after
        with open_uow() as uow:
            return service.session_user(uow, session_id)

    first_seen = seen()
    assert use(timedelta(seconds=30)) is not None
    assert seen() == first_seen  # 30 s later: nothing written
    assert use(timedelta(seconds=35)) is not None
    assert seen() == clock["now"]  # 65 s after the last write: written
    steps = int(2 * idle / timedelta(seconds=50))
    for _ in range(steps):  # twice the idle limit of steady use, a request every 50 s
        assert use(timedelta(seconds=50)) is not None
    last_write = seen()
    assert isinstance(last_write, datetime) and clock["now"] - last_write <= timedelta(seconds=60)
    assert use(idle - timedelta(seconds=60)) is not None  # idle for less than the limit after the last write
    assert use(idle + timedelta(seconds=1)) is None  # then idle past the limit: ended
    with open_uow() as uow:
        assert all(s.ended_at for s in uow.session.scalars(select(SessionRow)))
