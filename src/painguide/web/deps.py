"""Shared FastAPI dependencies: templates, the unit of work, the signed-in user and the action check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from painguide.auth import User, authorize, permission_matrix
from painguide.errors import PermissionDeniedError
from painguide.i18n.service import stored_language
from painguide.services import open_uow
from painguide.store.uow import UnitOfWork
from painguide.store.users import get_user
from painguide.web.i18n import template_context

__all__ = [
    "ACTION_ATTRIBUTE",
    "LoginRequired",
    "allow",
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
templates.env.globals["disclaimer"] = "painguide supports decisions; the physician decides."


def _can(user: object, action: str) -> bool:
    """For templates: may ``user`` perform ``action`` (shows a link only to those who may follow it)."""
    return isinstance(user, User) and permission_matrix().allows(user.roles, action)


templates.env.globals["can"] = _can

ACTION_ATTRIBUTE = "__painguide_action__"
"""The attribute on an :func:`allow` dependency that names its action (read by the route-table tests)."""


class LoginRequired(PermissionDeniedError):
    """Not signed in: pages redirect to the login form, API calls answer 401."""

    http_status = 401


def get_uow() -> Iterator[UnitOfWork]:
    """A unit of work per request (rolled back unless a service commits)."""
    with open_uow() as uow:
        yield uow


def optional_user(request: Request, uow: UnitOfWork) -> User | None:
    """The signed-in user, or ``None`` (for the few public routes that behave differently after sign-in)."""
    username = request.session.get("user")
    return get_user(uow.session, username) if isinstance(username, str) else None


def current_user(request: Request, uow: UnitOfWork = Depends(get_uow)) -> User:
    """The signed-in user, or :class:`LoginRequired`."""
    user = optional_user(request, uow)
    if user is None:
        raise LoginRequired("not signed in: sign in at /login")
    request.state.user = user
    request.state.language = stored_language(uow, user.username)  # the page language the user chose
    return user


@cache
def allow(action: str) -> Callable[..., User | None]:
    """The dependency of a route that performs ``action``: the signed-in user if the matrix allows it.

    A public action (``anonymous`` in the matrix) needs no sign-in and yields ``None``. One dependency per
    action is made and cached, so FastAPI resolves it once per request.
    """
    entry = permission_matrix().action(action)  # an undeclared action fails at import, not at request time

    if entry.public:

        def public() -> None:
            return None

        setattr(public, ACTION_ATTRIBUTE, action)
        return public

    def check(user: User = Depends(current_user)) -> User:
        authorize(user, action)
        return user

    setattr(check, ACTION_ATTRIBUTE, action)
    return check
