"""Shared FastAPI dependencies: templates, the unit of work, the signed-in user and the action check."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from painguide.accounts.service import session_login, session_user, token_user
from painguide.auth import User, authorize, permission_matrix
from painguide.errors import PermissionDeniedError
from painguide.i18n.service import stored_language
from painguide.services import open_uow
from painguide.store.uow import UnitOfWork
from painguide.web.i18n import template_context
from painguide.web.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    check_csrf,
    csp_nonce,
    csrf_token_for,
)

__all__ = [
    "ACTION_ATTRIBUTE",
    "Check",
    "LoginRequired",
    "allow",
    "allow_in_route",
    "current_user",
    "get_uow",
    "optional_user",
    "templates",
]

templates = Jinja2Templates(
    directory=str(Path(__file__).with_name("templates")), context_processors=[template_context]
)
# Jinja2's i18n extension ({% trans %} blocks); the request's gettext callables come from template_context,
# English (the message ids) where a template is rendered without a request.
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
# Templates are read once per process; create_app() turns checking for changed files back on in development
# (PAINGUIDE_TEMPLATE_RELOAD): the check costs a stat() of every template a page uses, per request.
templates.env.auto_reload = False
templates.env.globals["disclaimer"] = "painguide supports decisions; the physician decides."


def _can(user: object, action: str) -> bool:
    """For templates: may ``user`` perform ``action`` (shows a link only to those who may follow it)."""
    return isinstance(user, User) and permission_matrix().allows(user.roles, action)


@pass_context
def _csrf_field(context: Context) -> Markup:
    """For templates: the hidden CSRF field every state-changing form carries."""
    token = csrf_token_for(context["request"])
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


@pass_context
def _csrf_token(context: Context) -> str:
    """For templates: the CSRF token (the ``csrf-token`` meta tag, read by static/painguide.js)."""
    return csrf_token_for(context["request"])


@pass_context
def _nonce(context: Context) -> str:
    """For templates: this request's CSP nonce."""
    return csp_nonce(context["request"])


@pass_context
def _nonced(context: Context, html: str) -> Markup:
    """For templates: trusted generated HTML (Plotly charts) with this request's nonce on its scripts."""
    nonce = csp_nonce(context["request"])
    return Markup(str(html).replace("<script", f'<script nonce="{nonce}"'))


templates.env.globals["can"] = _can
templates.env.globals["csrf_field"] = _csrf_field
templates.env.globals["csrf_token"] = _csrf_token
templates.env.globals["csp_nonce"] = _nonce
templates.env.filters["nonced"] = _nonced

ACTION_ATTRIBUTE = "__painguide_action__"
"""The attribute on an :func:`allow` dependency that names its action (read by the route-table tests)."""


class LoginRequired(PermissionDeniedError):
    """Not signed in: pages redirect to the login form, API calls answer 401."""

    http_status = 401


async def get_uow() -> AsyncIterator[UnitOfWork]:
    """A unit of work per request (rolled back unless a service commits).

    Opened on the event loop (no I/O: the session connects when first used) and closed there when no
    transaction is open (the service committed); otherwise closed in a worker thread, since the rollback is
    I/O. A sync generator would cost two hand-offs to the thread pool per request.
    """
    uow = open_uow().__enter__()
    try:
        yield uow
    finally:
        if uow.in_transaction():
            await run_in_threadpool(uow.__exit__, None, None, None)
        else:
            uow.__exit__(None, None, None)


def optional_user(request: Request, uow: UnitOfWork) -> User | None:
    """The user of the session cookie, or ``None`` (for the few public routes that behave differently
    after sign-in)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    return session_user(uow, session_id) if session_id else None


def _bearer_user(request: Request, uow: UnitOfWork, header: str) -> User:
    if not request.url.path.startswith("/api/"):
        raise LoginRequired("Authorization: API tokens are accepted for /api/ routes only; sign in at /login")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LoginRequired("Authorization: expected `Bearer TOKEN` (an administrator makes one with "
                            "`painguide user token NAME`)")  # fmt: skip
    user = token_user(uow, token.strip())
    if user is None:
        raise LoginRequired("Authorization: the token is unknown, revoked or expired; ask for a new one")
    return user


def current_user(request: Request, uow: UnitOfWork = Depends(get_uow)) -> User:
    """The signed-in user (session cookie, or an API token on /api/ routes), or :class:`LoginRequired`."""
    header = request.headers.get("authorization")
    if header:
        user = _bearer_user(request, uow, header)
        request.state.auth = "token"
        language = stored_language(uow, user.username)
    else:
        session_id = request.cookies.get(SESSION_COOKIE)
        found = session_login(uow, session_id) if session_id else None
        if found is None:
            raise LoginRequired("not signed in: sign in at /login")
        user, language, request.state.auth = found.user, found.language, "session"
    request.state.user = user
    request.state.language = language  # the page language the user chose (read with the session)
    return user


@cache
def allow(action: str) -> Callable[..., Awaitable[User | None]]:
    """The dependency of a route that performs ``action``: the signed-in user if the matrix allows it.

    A public action (``anonymous`` in the matrix) needs no sign-in and yields ``None``. A state-changing
    request must also pass the CSRF check (:func:`painguide.web.security.check_csrf`) unless it is
    authenticated by an API token. One dependency per action is made and cached, so FastAPI resolves it
    once per request.
    """
    entry = permission_matrix().action(action)  # an undeclared action fails at import, not at request time

    if entry.public:

        async def public(request: Request) -> None:
            await check_csrf(request)
            return None

        setattr(public, ACTION_ATTRIBUTE, action)
        return public

    async def check(request: Request, user: User = Depends(current_user)) -> User:
        authorize(user, action)
        if getattr(request.state, "auth", "session") != "token":
            await check_csrf(request)
        return user

    setattr(check, ACTION_ATTRIBUTE, action)
    return check


@dataclass(frozen=True, slots=True)
class Check:
    """The permission check of a read route, made in the route's own worker thread: calling it with the
    request's unit of work gives the signed-in user allowed to perform ``action``, or raises as
    :func:`allow`'s dependency does (:class:`LoginRequired`, then
    :class:`~painguide.errors.PermissionDeniedError`)."""

    request: Request
    action: str

    def __call__(self, uow: UnitOfWork) -> User:
        """The signed-in user, if the permission matrix allows them ``action``."""
        user = current_user(self.request, uow)
        authorize(user, self.action)
        return user


@cache
def allow_in_route(action: str) -> Callable[[Request], Awaitable[Check]]:
    """The dependency of a read (GET) route that performs ``action`` and checks it itself, in the worker
    thread that does its database work: :func:`allow` looks the session up in a worker thread of its own,
    and each hand-off between the event loop and a worker thread costs the most requested pages about a
    tenth of their CPU time. The route must call the :class:`Check` before anything else and parse its
    query itself after it (so refusals come before validation errors, as with :func:`allow`).

    A state-changing request is refused as a programming error: its CSRF check needs the request body,
    which is read on the event loop (use :func:`allow`).
    """
    entry = permission_matrix().action(action)  # an undeclared action fails at import, not at request time
    if entry.public:
        raise ValueError(f"{action}: a public action needs no check in the route; use allow()")

    async def deferred(request: Request) -> Check:
        if request.method in UNSAFE_METHODS:
            raise RuntimeError(f"{request.method} {request.url.path}: allow_in_route is for GET routes only")
        return Check(request, action)

    setattr(deferred, ACTION_ATTRIBUTE, action)
    return deferred
