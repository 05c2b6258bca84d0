"""Outcome pages: follow-ups to enter (staff), the patient's one-time link page, responder rates and
duration of relief.

The patient's page (``/f/{token}``) stands alone: no header, no navigation, no sign-in, nothing about the
patient but the day and name of the procedure; an unknown, expired, used or revoked link gets one and the
same page. It is not cached, sends no referrer and asks not to be indexed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from painguide.auth import User
from painguide.errors import ValidationError
from painguide.i18n import LANGUAGES
from painguide.i18n.marks import N_
from painguide.outcomes import service
from painguide.outcomes.charts import kaplan_meier_figure, responder_figure
from painguide.outcomes.follow_ups import PatientAnswers
from painguide.pathway.models import FollowUpResult, build
from painguide.store.uow import UnitOfWork
from painguide.training.records import DisabilityScore
from painguide.web.deps import allow, get_uow, templates
from painguide.web.i18n import request_language, translator
from painguide.web.routes.training import procedure_names

__all__ = ["patient_router", "router"]

router = APIRouter(prefix="/outcomes")
patient_router = APIRouter()
Reader = Annotated[User, Depends(allow("outcomes.read"))]
CaseReader = Annotated[User, Depends(allow("case.read"))]
FollowUpWriter = Annotated[User, Depends(allow("case.followup"))]
Patient = Depends(allow("followup.patient"))
Uow = Annotated[UnitOfWork, Depends(get_uow)]
PGIC_ANSWERS = (
    "very_much_improved",
    "much_improved",
    "minimally_improved",
    "no_change",
    "minimally_worse",
    "much_worse",
    "very_much_worse",
)
_PRIVATE = {
    "Cache-Control": "no-store",
    # same-origin: the link's token never leaves in a Referer to another site, while the browser still
    # sends this site's Origin with the form (under no-referrer it sends "Origin: null": refused as CSRF).
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}


@router.get("/", response_class=HTMLResponse)
def summary(
    request: Request,
    user: Reader,
    uow: Uow,
    by: Literal["procedure", "modality", "operator", "procedure_modality"] = "procedure_modality",
    days: int | None = None,
    relief: str = "nrs30",
) -> Response:
    """Responder rates with Wilson intervals at one follow-up day, and Kaplan-Meier curves of relief."""
    view = service.outcomes(uow, user, group_by=by, days_after=days, relief_criterion=relief)
    html: dict[str, object] = {"responders": "", "km": ""}
    t = translator(request)
    if view.responders:
        html["responders"] = responder_figure(view.responders, view.criteria, t).to_html(
            full_html=False, include_plotlyjs=False, div_id="responders"
        )
    if view.curves:
        html["km"] = kaplan_meier_figure(view.curves, t).to_html(
            full_html=False, include_plotlyjs=False, div_id="kaplan-meier"
        )
    context = {
        "user": user,
        "view": view,
        "charts": html,
        "by": by,
        "relief": relief,
        "names": procedure_names(),
    }
    return templates.TemplateResponse(request, "outcomes/summary.html", context)


@router.get("/follow-ups", response_class=HTMLResponse)
def follow_ups(request: Request, user: CaseReader, uow: Uow, all: bool = False) -> Response:
    """Follow-ups to record (due first), or all of them."""
    items = service.list_follow_ups(uow, user, open_only=not all)
    context = {"user": user, "items": items, "all": all, "today": date.today(), "names": procedure_names()}
    return templates.TemplateResponse(request, "outcomes/follow_ups.html", context)


@router.get("/follow-ups/{follow_up_id}", response_class=HTMLResponse)
def follow_up(request: Request, user: FollowUpWriter, uow: Uow, follow_up_id: int) -> Response:
    """Enter one follow-up, or hand the patient a one-time link."""
    item = service.get_follow_up(uow, user, follow_up_id)
    context = {"user": user, "item": item, "pgic": PGIC_ANSWERS, "today": date.today(), "link": None,
               "names": procedure_names(), "languages": LANGUAGES}  # fmt: skip
    return templates.TemplateResponse(request, "outcomes/follow_up.html", context)


@router.post("/follow-ups/{follow_up_id}")
def record(
    user: FollowUpWriter,
    uow: Uow,
    follow_up_id: int,
    on: Annotated[date, Form()],
    nrs: Annotated[str, Form()] = "",
    pgic: Annotated[str, Form()] = "",
    relief_percent: Annotated[str, Form()] = "",
    scale: Annotated[str, Form()] = "",
    score: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Record NRS, PGIC, relief and ODI/NDI entered by staff."""
    result = build(
        FollowUpResult, on=on, nrs=_number(nrs, "nrs"), pgic=pgic or None,
        relief_percent=_number(relief_percent, "relief_percent"), note=note or None,
    )  # fmt: skip
    disability = build(DisabilityScore, scale=scale, score=_number(score, "score")) if score.strip() else None
    service.record_answers(uow, user, follow_up_id, result, disability=disability)
    return RedirectResponse("/outcomes/follow-ups", status_code=303)


def _number(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise ValidationError(field, N_("a number, got %(value)s"), value=repr(text)) from None


@router.post("/follow-ups/{follow_up_id}/link", response_class=HTMLResponse)
def make_link(
    request: Request,
    user: FollowUpWriter,
    uow: Uow,
    follow_up_id: int,
    language: Annotated[str, Form()] = "de",
) -> Response:
    """Make a one-time link for the patient; the page shows it once (only its hash is stored)."""
    link = service.create_patient_link(uow, user, follow_up_id, language=language)
    item = service.get_follow_up(uow, user, follow_up_id)
    url = str(request.base_url).rstrip("/") + link.path
    context = {
        "user": user,
        "item": item,
        "pgic": PGIC_ANSWERS,
        "today": date.today(),
        "names": procedure_names(),
        "link": {"url": url, "expires_at": link.expires_at},
        "languages": LANGUAGES,
    }
    return templates.TemplateResponse(request, "outcomes/follow_up.html", context, headers=_PRIVATE)


# ---------------------------------------------------------------------------------------- the patient


def _patient_page(request: Request, name: str, context: dict[str, object], status: int = 200) -> Response:
    chosen = request.query_params.get("lang") or context.get("language")
    if chosen not in LANGUAGES:
        chosen = request_language(request)
    request.state.language = chosen
    return templates.TemplateResponse(
        request, f"outcomes/{name}", {**context, "pgic": PGIC_ANSWERS}, status_code=status, headers=_PRIVATE
    )


@patient_router.get("/f/{token}", response_class=HTMLResponse, dependencies=[Patient])
def patient_form(request: Request, token: str, uow: Uow) -> Response:
    """The patient's follow-up questions, or the one page for every link that cannot be used."""
    try:
        form = service.open_patient_link(uow, token)
    except service.InvalidLink:
        return _patient_page(request, "patient_invalid.html", {}, 404)
    context = {"form": form, "language": form.language, "token": token, "error": None}
    return _patient_page(request, "patient.html", context)


@patient_router.post("/f/{token}", response_class=HTMLResponse, dependencies=[Patient])
def patient_answer(
    request: Request,
    token: str,
    uow: Uow,
    nrs: Annotated[str, Form()] = "",
    pgic: Annotated[str, Form()] = "",
) -> Response:
    """Record the patient's answers once; the link is used up."""
    try:
        answers = PatientAnswers(nrs=int(nrs), pgic=pgic)
    except ValueError:
        try:
            form = service.open_patient_link(uow, token)
        except service.InvalidLink:
            return _patient_page(request, "patient_invalid.html", {}, 404)
        context = {"form": form, "language": form.language, "token": token, "error": True}
        return _patient_page(request, "patient.html", context, 422)
    try:
        language = service.submit_patient_link(uow, token, answers)
    except service.InvalidLink:
        return _patient_page(request, "patient_invalid.html", {}, 404)
    return _patient_page(request, "patient_done.html", {"language": language})
