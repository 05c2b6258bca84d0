"""Requests over HTTP: CSRF tokens and Origin check, security headers, sign-in throttling, equal work for
unknown names, user names cut before the audit trail, body limits before authentication."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.integration.pages import page_csrf_token

from painguide.demo import DEMO_PASSWORD
from painguide.services import open_uow
from painguide.store.tables import AuditEntry
from painguide.web.security import CSRF_FIELD

SignIn = Callable[[TestClient, str], None]
TEMPLATES = Path(__file__).resolve().parents[3] / "src" / "painguide" / "web" / "templates"


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-in time stands still, so a block never runs out between two attempts of a test."""
    import painguide.accounts.service as service

    now = service.utcnow()
    monkeypatch.setattr(service, "utcnow", lambda: now)


@pytest.fixture
def browser(demo_client: TestClient) -> TestClient:
    """A client that sends no CSRF token by itself (a plain browser, or an attacker's page)."""
    return TestClient(demo_client.app)


def _sign_in_plain(client: TestClient, name: str = "physician") -> None:
    form = {"username": name, "password": DEMO_PASSWORD, CSRF_FIELD: page_csrf_token(client)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


def test_every_post_form_in_every_template_carries_the_csrf_field() -> None:
    forms = 0
    for path in TEMPLATES.rglob("*.html"):
        for form in re.findall(r"<form\b[^>]*>.*?</form>", path.read_text(), flags=re.S | re.I):
            if re.search(r'method="post"', form, flags=re.I):
                forms += 1
                assert "csrf_field()" in form, f"{path.name}: a POST form without {{{{ csrf_field() }}}}"
    assert forms >= 4


def test_three_cross_site_posts_are_refused(browser: TestClient) -> None:
    _sign_in_plain(browser)
    evil = {"origin": "https://evil.example", "accept": "application/json"}
    refused = [
        browser.post(path, data=form, headers=evil, follow_redirects=False).status_code
        for path, form in (
            ("/logout", {}),
            ("/language", {"language": "de", "next": "/"}),
            ("/sono/live/1/stop", {}),
        )
    ]
    assert refused == [403, 403, 403]
    token = page_csrf_token(browser)
    form = {"language": "de", "next": "/"}
    # the right token from the wrong site is refused too (Origin check), and so is no token from this site
    r = browser.post("/language", data=form, headers={**evil, "x-csrf-token": token})
    assert r.status_code == 403 and "another site" in r.json()["detail"]
    same_site = {"origin": "http://testserver", "accept": "application/json"}
    r = browser.post("/language", data=form, headers=same_site)
    assert r.status_code == 403 and "csrf_token" in r.json()["detail"]
    assert browser.get("/api/v1/catalogue").status_code == 200  # still signed in: nothing was done
    ok = browser.post(
        "/language", data=form, headers={**same_site, "x-csrf-token": token}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_form_post_with_its_token_works_and_without_is_refused(browser: TestClient) -> None:
    form = {"username": "physician", "password": DEMO_PASSWORD}
    r = browser.post("/login", data=form, headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 403 and "csrf_token" in r.text
    _sign_in_plain(browser)
    token = page_csrf_token(browser)
    r = browser.post("/logout", data={CSRF_FIELD: "0" * 64}, follow_redirects=False)
    assert r.status_code == 403
    r = browser.post("/logout", data={CSRF_FIELD: token}, follow_redirects=False)
    assert r.status_code == 303


def test_security_headers_on_pages_and_api(demo_client: TestClient, sign_in: SignIn) -> None:
    sign_in(demo_client, "rpo")
    for path in ("/login", "/dose/", "/api/v1/catalogue", "/health"):
        headers = demo_client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
        assert (
            re.search(r"script-src 'self' 'nonce-[\w-]{16,}'", csp)
            and "unsafe-inline'" not in csp.split("style-src")[0]
        ), path
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def _inline_scripts_without_nonce(html: str, nonce: str) -> list[str]:
    scripts = re.findall(r"<script\b[^>]*>", html)
    return [s for s in scripts if "src=" not in s and f'nonce="{nonce}"' not in s]


def test_pages_have_no_inline_script_without_the_nonce(demo_client: TestClient, sign_in: SignIn) -> None:
    sign_in(demo_client, "admin")
    checked = 0
    for path in (
        "/",
        "/advise",
        "/dose/",
        "/dose/reports",
        "/sono/live",
        "/sono/review",
        "/audit",
        "/sono/review/1",
        "/dose/reports/1",
    ):
        r = demo_client.get(path)
        assert r.status_code == 200, path
        nonce = re.search(r"'nonce-([\w-]+)'", r.headers["content-security-policy"]).group(1)  # type: ignore[union-attr]
        assert _inline_scripts_without_nonce(r.text, nonce) == [], path
        assert " on" not in " ".join(re.findall(r"<[^>]+\son\w+=", r.text)), path  # no inline handlers
        assert "javascript:" not in r.text, path
        checked += r.text.count("<script")
    assert checked >= 4  # Plotly charts and the live page's script were among them


def _wrong(client: TestClient, name: str) -> Any:
    form = {"username": name, "password": "wrong-password", CSRF_FIELD: page_csrf_token(client)}
    return client.post("/login", data=form)


def test_fifty_wrong_passwords_are_throttled_after_five(browser: TestClient, frozen_clock: None) -> None:
    answers = [_wrong(browser, "physician") for _ in range(50)]
    statuses = [r.status_code for r in answers]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert int(answers[5].headers["retry-after"]) >= 1
    assert "wait" in answers[5].text
    # the right password is refused too while the account is blocked (no password is checked)
    form = {"username": "physician", "password": DEMO_PASSWORD, CSRF_FIELD: page_csrf_token(browser)}
    assert browser.post("/login", data=form, follow_redirects=False).status_code == 429
    with open_uow() as uow:
        failed = uow.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "login.failed"))
        assert len(list(failed)) == 5


def test_one_address_trying_many_names_is_throttled(browser: TestClient, frozen_clock: None) -> None:
    statuses = [_wrong(browser, f"guess{i}").status_code for i in range(25)]
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429] * 5


def test_unknown_user_costs_one_hash_check_like_a_known_one(
    browser: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import painguide.accounts.service as service

    calls: list[str] = []
    real_verify, real_dummy = service.verify_password, service.verify_dummy
    monkeypatch.setattr(service, "verify_password", lambda p, h: calls.append("known") or real_verify(p, h))
    monkeypatch.setattr(service, "verify_dummy", lambda p: calls.append("unknown") or real_dummy(p))
    r_known, r_unknown = _wrong(browser, "physician"), _wrong(browser, "nobody-here")
    assert (r_known.status_code, r_unknown.status_code) == (401, 401)
    assert r_known.text == r_unknown.text  # the page does not say which of name or password was wrong
    assert calls == ["known", "unknown"]


def test_long_user_name_is_cut_and_escaped_before_the_audit_trail(browser: TestClient) -> None:
    name = "<script>\n" + "a" * 50_000
    assert _wrong(browser, name).status_code == 401
    with open_uow() as uow:
        entry = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed")).one()
    assert len(entry.actor) <= 64 and len(entry.object_id) <= 128 and entry.actor.endswith("…")
    assert "\n" not in entry.actor and entry.actor.startswith("<script>\\n")


def test_hundred_kilobyte_user_name_is_refused_before_reading(browser: TestClient) -> None:
    r = _wrong(browser, "a" * 100_000)
    assert r.status_code == 413
    with open_uow() as uow:
        assert list(uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed"))) == []


async def _asgi(app: Any, scope: dict[str, Any], chunks: list[bytes]) -> tuple[int, int]:
    """Drive the app with a body in ``chunks``; returns (status, bytes the app read)."""
    read, status = 0, 0
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        nonlocal read
        if not pending:
            return {"type": "http.disconnect"}
        chunk = pending.pop(0)
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status, read


def _drive(app: Any, scope: dict[str, Any], chunks: list[bytes]) -> tuple[int, int]:
    """Run :func:`_asgi` in its own thread (a browser test may hold an event loop in this one)."""
    import anyio

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, _asgi, app, scope, chunks).result()


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }  # fmt: skip


def test_anonymous_600_mib_body_gets_413_before_a_byte_is_read(demo_client: TestClient) -> None:
    declared = str(600 * 1024 * 1024).encode()
    scope = _scope(
        "/sono/review", [(b"content-length", declared), (b"content-type", b"multipart/form-data; boundary=x")]
    )
    status, read = _drive(demo_client.app, scope, [b"x" * 65536] * 4)
    assert (status, read) == (413, 0)


def test_streamed_anonymous_body_is_cut_at_the_anonymous_cap(demo_client: TestClient) -> None:
    form = [(b"content-type", b"application/x-www-form-urlencoded")]  # no Content-Length: chunked
    status, read = _drive(demo_client.app, _scope("/login", form), [b"a="] + [b"x" * 65536] * 64)
    assert status == 413 and read <= 2 * 65536


def test_signed_in_upload_passes_the_anonymous_cap_but_not_the_path_cap(
    demo_client: TestClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from painguide.settings import get_settings

    sign_in(demo_client, "physician")
    body = b"\0" * 300_000  # above the 64 KiB anonymous cap, below /sono/review's cap
    r = demo_client.post("/sono/review", files={"file": ("x.dcm", body, "application/dicom")})
    assert r.status_code == 422  # reached the service, which refuses the file as no DICOM cine
    monkeypatch.setitem(get_settings().body_limits, "/sono/review", 200_000)
    r = demo_client.post("/sono/review", files={"file": ("x.dcm", body, "application/dicom")})
    assert r.status_code == 413 and "200,000 byte limit of /sono/review" in r.text


def test_delays_grow_and_run_out(browser: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    import painguide.accounts.service as service

    clock = [service.utcnow()]
    monkeypatch.setattr(service, "utcnow", lambda: clock[0])
    assert [_wrong(browser, "rpo").status_code for _ in range(5)] == [401] * 5
    waits = []
    for _ in range(4):
        refused = _wrong(browser, "rpo")
        assert refused.status_code == 429
        waits.append(int(refused.headers["retry-after"]))
        clock[0] += timedelta(seconds=waits[-1])
        assert _wrong(browser, "rpo").status_code == 401  # answered again once the block ran out
    assert waits == [1, 2, 4, 8]  # the delay doubles with each failure
