"""Test clients that behave like the pages: the CSRF token on every state-changing request."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from painguide.accounts.keys import csrf_token
from painguide.settings import get_settings
from painguide.web.security import CSRF_COOKIE, SESSION_COOKIE

__all__ = ["PageClient", "page_csrf_token"]


class PageClient(TestClient):
    """A test client that sends the CSRF token with every state-changing request, as the pages do (their
    forms carry it in a hidden field, their fetch() calls in the ``X-CSRF-Token`` header)."""

    def request(self, method: str, url: object, **kwargs: Any) -> Any:  # type: ignore[override]
        if method.upper() not in ("GET", "HEAD", "OPTIONS"):
            if not (self.cookies.get(SESSION_COOKIE) or self.cookies.get(CSRF_COOKIE)):
                super().request("GET", "/health")  # the first answer sets this browser's CSRF seed
            binding = self.cookies.get(SESSION_COOKIE) or self.cookies.get(CSRF_COOKIE) or ""
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRF-Token", csrf_token(get_settings().secret_key, binding))
            kwargs["headers"] = headers
        return super().request(method, url, **kwargs)  # type: ignore[arg-type]


def page_csrf_token(client: TestClient) -> str:
    """The CSRF token a page shows this client (the meta tag of the sign-in page)."""
    page = client.get("/login").text
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found, "no csrf-token meta tag on /login"
    return found.group(1)
