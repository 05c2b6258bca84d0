"""Request security: body limits before authentication, security headers with a CSP nonce, CSRF tokens.

:class:`BodyLimit` refuses a request body above its cap with 413 before the app sees it: a declared
``Content-Length`` is refused without reading a byte, a streamed body as soon as it passes the cap. The cap is
per path (settings ``body_limits``, else ``body_limit_bytes``) and much smaller for a request that carries no
session cookie and no ``Authorization`` header, or whose session is not open (``body_limit_anonymous_bytes``).

:class:`SecurityHeaders` gives every response a Content-Security-Policy without inline scripts except those
carrying the request's nonce, frame, sniffing, referrer and opener headers, ``Cache-Control: no-store`` unless
a route set its own, HSTS over HTTPS, and the CSRF seed cookie of a signed-out browser.

CSRF: a state-changing request authenticated by the session cookie (or the sign-in form) must carry the
token :func:`csrf_token_for` gives (form field ``csrf_token`` or header ``X-CSRF-Token``), and its ``Origin``
(else ``Referer``) must be this site. Requests authenticated by an API token are exempt: browsers cannot send
that header cross-site.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from painguide.accounts.keys import csrf_token, same
from painguide.errors import PermissionDeniedError, ValidationError
from painguide.settings import get_settings

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "UNSAFE_METHODS",
    "BodyLimit",
    "CsrfError",
    "SecurityHeaders",
    "check_csrf",
    "csp_nonce",
    "csrf_token_for",
]

SESSION_COOKIE = "painguide_session"
CSRF_COOKIE = "painguide_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfError(PermissionDeniedError):
    """A state-changing request without a valid CSRF token or from another site."""


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, object] = scope.setdefault("state", {})
    return state


def csp_nonce(request: Request) -> str:
    """The CSP nonce of this request (scripts in pages carry it)."""
    return str(_state(request.scope).setdefault("csp_nonce", secrets.token_urlsafe(16)))


def csrf_token_for(request: Request) -> str:
    """The CSRF token of this browser: bound to its session cookie, or to its seed cookie when signed out."""
    binding = request.cookies.get(SESSION_COOKIE) or _state(request.scope).get("csrf_seed", "")
    return csrf_token(get_settings().secret_key, binding)


def _origin_ok(request: Request) -> bool:
    settings = get_settings()
    claimed = request.headers.get("origin")
    if claimed is None and (referer := request.headers.get("referer")):
        parts = urlsplit(referer)
        claimed = f"{parts.scheme}://{parts.netloc}"
    if claimed is None:
        return (
            True  # not a browser form (browsers send Origin with every cross-site POST); token still needed
        )
    if claimed in settings.allowed_origins:
        return True
    parts = urlsplit(claimed)
    host = request.headers.get("host", "")
    scheme_ok = parts.scheme in (("https",) if settings.https else ("http", "https"))
    return claimed != "null" and scheme_ok and parts.netloc.lower() == host.lower()


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request from another site or without this browser's CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return
    if not _origin_ok(request):
        raise CsrfError(
            "Origin: this request came from another site and was refused; open the page on this site and "
            "submit it again"
        )
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not same(sent, csrf_token_for(request)):
        raise CsrfError(
            "csrf_token: missing or out of date (the page was opened before signing in or out); "
            "reload the page and submit it again"
        )


class SecurityHeaders:
    """ASGI middleware adding the security headers and the CSRF seed cookie (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def _policy(self, nonce: str) -> str:
        return "; ".join(
            [
                "default-src 'self'",
                f"script-src 'self' 'nonce-{nonce}'",
                "style-src 'self' 'unsafe-inline'",
                "img-src 'self' data: blob:",
                "font-src 'self' data:",
                "connect-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the nonce and seed for the request, add the headers to its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        state = _state(scope)
        nonce = state.setdefault("csp_nonce", secrets.token_urlsafe(16))
        seed = Request(scope).cookies.get(CSRF_COOKIE)
        new_seed = None if seed else secrets.token_urlsafe(32)
        state["csrf_seed"] = seed or new_seed

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                defaults = {
                    "content-security-policy": self._policy(nonce),
                    "x-frame-options": "DENY",
                    "x-content-type-options": "nosniff",
                    "referrer-policy": "same-origin",
                    "cross-origin-opener-policy": "same-origin",
                    "permissions-policy": "camera=(), microphone=(), geolocation=()",
                    "cache-control": "no-store",
                }
                if settings.https:
                    defaults["strict-transport-security"] = "max-age=31536000"
                for name, value in defaults.items():
                    if name not in headers:
                        headers[name] = value
                if new_seed is not None:
                    secure = "; Secure" if settings.https else ""
                    headers.append(
                        "set-cookie", f"{CSRF_COOKIE}={new_seed}; Path=/; HttpOnly; SameSite=Lax{secure}"
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


SessionCheck = Callable[[str], bool]


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware refusing request bodies above their cap with 413, before authentication.

    Parameters
    ----------
    app : ASGI app
        The wrapped application.
    session_open : callable
        ``session_id -> bool``: True when the cookie's session is open (run in a worker thread, and only
        for a body above the anonymous cap).
    """

    def __init__(self, app: ASGIApp, *, session_open: SessionCheck) -> None:
        self.app = app
        self.session_open = session_open

    def _caps(self, scope: Scope) -> tuple[int, int]:
        settings = get_settings()
        path = scope.get("path", "")
        signed_in_cap = settings.body_limits.get(path, settings.body_limit_bytes)
        return min(settings.body_limit_anonymous_bytes, signed_in_cap), signed_in_cap

    async def _signed_in(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        if headers.get("authorization"):
            return True  # checked by the route; a wrong token is refused before the body is parsed
        session_id = Request(scope).cookies.get(SESSION_COOKIE)
        if not session_id:
            return False
        return bool(await anyio.to_thread.run_sync(self.session_open, session_id))

    def _refusal(self, scope: Scope, cap: int) -> Response:
        path = scope.get("path", "")
        error = ValidationError(
            "body",
            f"the request body is larger than the {cap:,} byte limit of {path} "
            "(sign in first; upload a smaller file; PAINGUIDE_BODY_LIMITS sets per-path limits)",
        )
        if "text/html" in Headers(scope=scope).get("accept", "") and not path.startswith("/api/"):
            return PlainTextResponse(str(error), status_code=413)
        return JSONResponse({"error": "RequestTooLarge", "detail": str(error)}, status_code=413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared or streamed body above the cap; pass everything else on unchanged."""
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        anonymous_cap, cap = self._caps(scope)
        declared_raw = Headers(scope=scope).get("content-length", "")
        declared = int(declared_raw) if declared_raw.isdigit() else None
        if declared is not None and declared > anonymous_cap:
            if declared > cap or not await self._signed_in(scope):
                await self._refusal(scope, cap if declared > cap else anonymous_cap)(scope, receive, send)
                return
            anonymous_cap = cap
        state = {"received": 0, "limit": anonymous_cap, "exceeded": 0, "started": False}

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > state["limit"]:
                    if state["limit"] < cap and await self._signed_in(scope):
                        state["limit"] = cap
                    if state["received"] > state["limit"]:
                        state["exceeded"] = state["limit"]
                        raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            if state["exceeded"]:
                return  # the app's answer to a cut-off body is replaced by the 413 below
            state["started"] = True
            await send(message)

        with contextlib.suppress(_TooLarge):  # raised from `counted` when the app reads past the cap
            await self.app(scope, counted, guarded)
        if state["exceeded"] and not state["started"]:
            await self._refusal(scope, int(state["exceeded"]))(scope, receive, send)
