"""Shared FastAPI dependencies: templates, the unit of work, the signed-in user and role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from painguide.errors import PermissionDeniedError
from painguide.services import open_uow
from painguide.store.uow import UnitOfWork
from painguide.store.users import User, get_user

__all__ = ["LoginRequired", "current_user", "get_uow", "require_role", "templates"]

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.globals["disclaimer"] = "painguide supports decisions; the physician decides."


class LoginRequired(PermissionDeniedError):
    """Not signed in: pages redirect to the login form, API calls answer 401."""

    http_status = 401


def get_uow() -> Iterator[UnitOfWork]:
    """A unit of work per request (rolled back unless a service commits)."""
    with open_uow() as uow:
        yield uow


def current_user(request: Request, uow: UnitOfWork = Depends(get_uow)) -> User:
    """The signed-in user, or :class:`LoginRequired`."""
    username = request.session.get("user")
    user = get_user(uow.session, username) if isinstance(username, str) else None
    if user is None:
        raise LoginRequired("not signed in: sign in at /login")
    request.state.user = user
    return user


def require_role(*roles: str) -> Callable[..., Any]:
    """A dependency that returns the signed-in user if they hold one of ``roles`` (admin holds all)."""

    def check(user: User = Depends(current_user)) -> User:
        if roles and not user.has_any(*roles):
            raise PermissionDeniedError(
                f"role required: one of {', '.join(roles)}; "
                f"{user.username} has {', '.join(sorted(user.roles))}"
            )
        return user

    return check
