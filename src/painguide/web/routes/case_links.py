"""The unlinked-items page: dose reports and ultrasound analyses linked to no procedure, linked by hand.

``GET /links`` lists what automatic linking could not place (with its reason and the candidate accession
numbers); each row's form links the item to a procedure by accession number, and a second form unlinks an
item from its procedure. Every route declares ``case.link`` and calls one service function of
:mod:`painguide.pathway.link_service` (the list and every link are audited there).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from painguide.auth import User
from painguide.errors import PainguideError, ValidationError
from painguide.i18n.marks import N_
from painguide.pathway import link_service
from painguide.store.uow import UnitOfWork
from painguide.web.deps import allow, get_uow, templates
from painguide.web.forms import FormData, clean, form_data
from painguide.web.i18n import translator

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter()
Linker = Annotated[User, Depends(allow("case.link"))]
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Form = Annotated[FormData, Depends(form_data)]
PAGE_SIZE = 25
KINDS = ("dose", "sono")


def _render(
    request: Request,
    user: User,
    uow: UnitOfWork,
    *,
    kind: str = "",
    page: int = 1,
    done: dict[str, str] | None = None,
    problem: dict[str, object] | None = None,
    values: dict[str, object] | None = None,
    status: int = 200,
) -> Response:
    found = link_service.list_unlinked(
        uow, user, kind=kind or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    context = {
        "user": user, "kind": kind, "kinds": KINDS, "found": found, "page": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)), "done": done or {}, "problem": problem,
        "values": values or {},
    }  # fmt: skip
    return templates.TemplateResponse(request, "pathway/links.html", context, status_code=status)


def _problem(request: Request, exc: PainguideError) -> dict[str, object]:
    message = translator(request).error(exc)
    return {"field": getattr(exc, "field", None), "message": message, "unmet": [], "status": exc.http_status}


def _item_id(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValidationError(
            "item_id", N_("%(value)s is not an item number; give the id listed"), value=repr(raw)
        ) from None


@router.get("/links", response_class=HTMLResponse)
def unlinked(
    request: Request,
    user: Linker,
    uow: Uow,
    kind: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    linked: str = "",
    unlinked_from: str = "",
) -> Response:
    """Dose reports and ultrasound analyses linked to no procedure, newest first, with link forms."""
    done = {"linked": linked, "unlinked_from": unlinked_from}
    return _render(request, user, uow, kind=kind, page=page, done={k: v for k, v in done.items() if v})


@router.post("/links/link", response_class=HTMLResponse)
def link(request: Request, user: Linker, uow: Uow, form: Form) -> Response:
    """Link one item by hand to the procedure with the accession number entered."""
    values = clean(form, ("kind", "item_id", "accession_number", "reason"))
    try:
        view = link_service.link_item(
            uow, user, kind=str(values.get("kind", "")), item_id=_item_id(str(values.get("item_id", ""))),
            accession_number=str(values.get("accession_number", "")), reason=values.get("reason"),
        )  # fmt: skip
    except PainguideError as exc:
        uow.rollback()
        return _render(
            request, user, uow, problem=_problem(request, exc), values=values, status=exc.http_status
        )
    return RedirectResponse(f"/links?linked={view.accession_number}", status_code=303)


@router.post("/links/unlink", response_class=HTMLResponse)
def unlink(request: Request, user: Linker, uow: Uow, form: Form) -> Response:
    """Unlink one item from its procedure by hand (automatic linking will not propose that one again)."""
    values = clean(form, ("kind", "item_id", "reason"))
    try:
        accessions = link_service.unlink_item(
            uow, user, kind=str(values.get("kind", "")), item_id=_item_id(str(values.get("item_id", ""))),
            reason=values.get("reason"),
        )  # fmt: skip
    except PainguideError as exc:
        uow.rollback()
        return _render(
            request, user, uow, problem=_problem(request, exc), values=values, status=exc.http_status
        )
    return RedirectResponse(f"/links?unlinked_from={','.join(accessions)}", status_code=303)
