"""In Chromium against a real server: sign in, a form and a fetch() post work with their CSRF token, no
Content-Security-Policy violation on the chart and live pages, and signing out ends a copied cookie."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_tokens_csp_and_sign_out_ends_copied_cookie(page: Any, sign_in: Any, live_server: str) -> None:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, "admin")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert "painguide_session" in cookies
    copied = httpx.Client(base_url=live_server, cookies={"painguide_session": cookies["painguide_session"]})
    assert copied.get("/api/v1/catalogue").status_code == 200

    # A form post with its token: the catalogue region filter submits through painguide.js (no inline code).
    page.goto("/")
    page.select_option("select[name=region]", index=1)
    page.wait_for_url("**/?region=*")
    # A form post with its hidden token: the language switch.
    page.click("#language-switch button[value=de]")
    page.wait_for_selector("html[lang=de]")
    # A fetch() post from a page's script gets the X-CSRF-Token header from painguide.js.
    status = page.evaluate(
        """() => fetch("/language", {method: "POST", redirect: "manual",
                 body: new URLSearchParams({language: "en", next: "/"})}).then(r => r.type)"""
    )
    assert status == "opaqueredirect"  # 303: accepted (a refusal would be a 403 "basic" response)
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    # Charts (Plotly's inline scripts carry the nonce) draw under the CSP.
    page.goto("/dose/")
    page.wait_for_selector("#dose-box .main-svg")
    page.goto("/audit")
    assert page.locator("table.audit tbody tr").count() > 3
    assert violations == []

    page.click("header form[action='/logout'] button")
    page.wait_for_url("**/login")
    assert copied.get("/api/v1/catalogue").status_code == 401
    # A cross-site form post with the old cookie is refused even before the session check.
    forged = copied.post("/logout", headers={"origin": "https://evil.example", "accept": "application/json"})
    assert forged.status_code in (401, 403)
    copied.close()
