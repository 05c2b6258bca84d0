"""The language switch in the page header: stored for a signed-in user, kept in a cookie before sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from painguide.i18n.service import choose_language
from painguide.store.uow import UnitOfWork
from painguide.web.deps import allow, get_uow, optional_user
from painguide.web.i18n import COOKIE

__all__ = ["router"]

router = APIRouter()
_YEAR = 365 * 24 * 3600


def _local(target: str) -> str:
    """``target`` if it is a path on this site, else ``/`` (no open redirect)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.post("/language", dependencies=[Depends(allow("language.choose"))])
def switch_language(
    request: Request,
    language: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """Choose the page language and return to the page the switch was used on."""
    code = choose_language(uow, optional_user(request, uow), language)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(COOKIE, code, max_age=_YEAR, httponly=True, samesite="lax")
    return response
