"""Every command declares the action it performs; :func:`requires` checks it against the permission matrix.

The command line acts as the local operator (role admin: whoever can run it on the server can read the
database) unless ``PAINGUIDE_CLI_USER`` names an account, whose roles then apply; a disabled or unknown
account is refused. The check runs when the command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from painguide import timing
from painguide.auth.models import User

__all__ = ["ACTION_ATTRIBUTE", "cli_principal", "requires"]

ACTION_ATTRIBUTE = "__painguide_action__"
P = ParamSpec("P")
R = TypeVar("R")


def cli_principal() -> User:
    """The user the command line acts as."""
    name = os.environ.get("PAINGUIDE_CLI_USER", "").strip()
    if not name:
        return User("cli", "local operator", frozenset({"admin"}))
    from painguide.errors import PermissionDeniedError
    from painguide.services import open_uow

    with open_uow() as uow:
        user = uow.users.active(name)
    if user is None:
        raise PermissionDeniedError(
            f"PAINGUIDE_CLI_USER: no active account {name!r}; unset it or name an active account"
        )
    return user


def requires(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a command as performing ``action`` and refuse it to a principal the matrix does not allow."""

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(command)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            from painguide.auth.permissions import authorize

            authorize(cli_principal(), action)
            timing.mark("command")
            return command(*args, **kwargs)

        setattr(run, ACTION_ATTRIBUTE, action)
        return run

    return decorate
