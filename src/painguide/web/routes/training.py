"""Competence pages: the logbook, learning curves with competence declarations, continuing education."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from painguide.auth import User, permission_matrix
from painguide.catalogue.loader import load_knowledge
from painguide.catalogue.models import MODALITIES, Modality
from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.pathway.models import build
from painguide.settings import get_settings
from painguide.store.uow import UnitOfWork
from painguide.training import service
from painguide.training.charts import figure_html, learning_curve_figure
from painguide.training.education import Course
from painguide.training.records import TrainingSession
from painguide.web.deps import allow, get_uow, templates
from painguide.web.i18n import translator

__all__ = ["router"]

router = APIRouter(prefix="/training")
Logbook = Annotated[User, Depends(allow("training.logbook.own"))]
Declarer = Annotated[User, Depends(allow("training.declare"))]
Education = Annotated[User, Depends(allow("training.education.own"))]
Uow = Annotated[UnitOfWork, Depends(get_uow)]


def procedure_names() -> dict[str, dict[str, str]]:
    """Catalogue names per procedure id and language (for every page that shows procedures)."""
    procedures = load_knowledge(get_settings().site_policy).catalogue.procedures
    return {pid: {str(k): v for k, v in p.names.items()} for pid, p in procedures.items()}


def _common(user: User, uow: UnitOfWork, operator: str) -> dict[str, object]:
    return {
        "user": user,
        "operator": operator,
        "operators": service.operators(uow, user) if _sees_all(user) else [],
        "names": procedure_names(),
        "modalities": MODALITIES,
    }


def _sees_all(user: User) -> bool:
    return permission_matrix().allows(user.roles, "training.logbook.all")


@router.get("/", response_class=HTMLResponse)
def logbook_page(request: Request, user: Logbook, uow: Uow, operator: str | None = None) -> Response:
    """An operator's logbook: counts, every procedure with its verdict, logged sessions."""
    view = service.get_logbook(uow, user, operator or None)
    context = {**_common(user, uow, view.operator), "view": view, "today": date.today()}
    return templates.TemplateResponse(request, "training/logbook.html", context)


@router.post("/sessions")
def log_session(
    user: Logbook,
    uow: Uow,
    operator: Annotated[str, Form()],
    procedure_id: Annotated[str, Form()],
    modality: Annotated[str, Form()],
    setting: Annotated[str, Form()],
    performed_on: Annotated[date, Form()],
    target_reached: Annotated[str, Form()] = "",
    supervisor: Annotated[str, Form()] = "",
    complications: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Log a simulator or cadaver session, then back to the logbook."""
    reached = {"yes": True, "no": False}.get(target_reached)
    item = build(
        TrainingSession, operator=operator, procedure_id=procedure_id, modality=modality, setting=setting,
        performed_on=performed_on, target_reached=reached, supervisor=supervisor or None,
        complications=(complications,), note=note or None,
    )  # fmt: skip
    service.log_session(uow, user, item)
    return RedirectResponse(f"/training/?operator={operator}", status_code=303)


@router.post("/assessments")
def assess(
    user: Logbook,
    uow: Uow,
    case_id: Annotated[int, Form()],
    target_reached: Annotated[str, Form()],
    operator: Annotated[str, Form()] = "",
) -> Response:
    """Record whether the target was reached in a procedure, then back to the logbook."""
    if target_reached not in ("yes", "no"):
        raise ValidationError("target_reached", N_("answer yes or no"))
    service.assess_procedure(uow, user, case_id, target_reached=target_reached == "yes")
    return RedirectResponse(f"/training/?operator={operator or user.username}", status_code=303)


@router.get("/curves", response_class=HTMLResponse)
def curves_page(
    request: Request, user: Logbook, uow: Uow, operator: str | None = None, horizon: int | None = None
) -> Response:
    """CUSUM and LC-CUSUM per procedure × modality, with the competence state and the declare form."""
    views = service.learning_curves(uow, user, operator or None, horizon=horizon)
    person = views[0].operator if views else (operator or user.username)
    t, names = translator(request), procedure_names()

    def title(procedure_id: str, modality: str) -> str:
        named = names.get(procedure_id, {})
        return f"{named.get(t.language) or named.get('en') or procedure_id} · {t.label(modality)}"

    charts = [
        figure_html(
            learning_curve_figure(v.curve, title=title(v.procedure_id, v.modality), t=t), f"curve-{i}"
        )
        for i, v in enumerate(views)
    ]
    context = {
        **_common(user, uow, person),
        "views": views,
        "charts": charts,
        "horizon": horizon,
        "policy": service.training_policy(),
        "competences": service.get_competences(uow, user, person),
    }
    return templates.TemplateResponse(request, "training/curves.html", context)


@router.post("/competence")
def declare(
    user: Declarer,
    uow: Uow,
    operator: Annotated[str, Form()],
    procedure_id: Annotated[str, Form()],
    modality: Annotated[Modality, Form()],
    basis: Annotated[Literal["lc_cusum", "attestation"], Form()] = "lc_cusum",
    note: Annotated[str, Form()] = "",
    horizon: Annotated[str, Form()] = "",
) -> Response:
    """Declare competence (after the LC-CUSUM crossed, or by attestation), then back to the curves."""
    limit = int(horizon) if horizon.strip().isdigit() else None
    service.declare_competence(
        uow,
        user,
        operator,
        procedure_id,
        modality,
        basis=basis,
        note=note or None,
        horizon=limit,
    )
    return RedirectResponse(f"/training/curves?operator={operator}", status_code=303)


@router.post("/competence/{declaration_id}/revoke")
def revoke(user: Declarer, uow: Uow, declaration_id: int, reason: Annotated[str, Form()] = "") -> Response:
    """Revoke a declaration with a reason, then back to the curves."""
    view = service.revoke_competence(uow, user, declaration_id, reason=reason)
    return RedirectResponse(f"/training/curves?operator={view.operator}", status_code=303)


@router.get("/education", response_class=HTMLResponse)
def education_page(request: Request, user: Education, uow: Uow, person: str | None = None) -> Response:
    """Courses, requirements, the radiation-protection qualification and reminders of one person."""
    view = service.education_status(uow, user, person or None)
    context = {"user": user, "view": view, "modalities": MODALITIES, "today": date.today()}
    return templates.TemplateResponse(request, "training/education.html", context)


@router.post("/courses")
def add_course(
    user: Education,
    uow: Uow,
    person: Annotated[str, Form()],
    attended_on: Annotated[date, Form()],
    provider: Annotated[str, Form()],
    topic: Annotated[str, Form()],
    hours: Annotated[float, Form()],
    modality: Annotated[str, Form()] = "",
) -> Response:
    """Record a course, then back to the education page."""
    if modality and modality not in MODALITIES:
        raise ValidationError("modality", N_("one of %(choices)s or none"), choices=", ".join(MODALITIES))
    needed = (
        ("provider", provider, N_("give the course's provider")),
        ("topic", topic, N_("give the course's topic")),
    )
    for field, value, message in needed:
        if not value.strip():
            raise ValidationError(field, message)
    course = Course(person, attended_on, provider.strip(), topic.strip(), hours, modality or None)
    service.record_course(uow, user, course)
    return RedirectResponse(f"/training/education?person={person}", status_code=303)
