"""Core pages: health, sign-in, catalogue, advisor, audit trail (the JSON API is in routes/api.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from painguide.advisor import PatientFactors, find_procedure, recommend
from painguide.advisor.models import rrl_label
from painguide.auth import User
from painguide.catalogue.loader import KnowledgeBase, load_knowledge
from painguide.catalogue.models import MODALITIES
from painguide.errors import PainguideError, ValidationError
from painguide.settings import get_settings
from painguide.store.audit import list_audit, record_audit
from painguide.store.uow import UnitOfWork
from painguide.store.users import authenticate
from painguide.web.deps import allow, get_uow, templates
from painguide.web.i18n import gettext_for

__all__ = ["router"]

router = APIRouter()
Catalogue = Annotated[User, Depends(allow("catalogue.read"))]
Advise = Annotated[User, Depends(allow("advise"))]
Public = Depends(allow("public"))


def _kb() -> KnowledgeBase:
    return load_knowledge(get_settings().site_policy)


@router.get("/health", dependencies=[Public])
def health() -> dict[str, Any]:
    """Liveness and readiness (no authentication: used by monitors; reveals no patient data)."""
    from painguide.services import ensure_database

    ensure_database()
    return {"status": "ok", "procedures": len(_kb().catalogue.enabled()), "demo": get_settings().demo}


@router.get("/login", response_class=HTMLResponse, dependencies=[Public])
def login_form(request: Request, next: str = "/") -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"next": next, "demo": get_settings().demo, "error": None}
    )


@router.post("/login", response_class=HTMLResponse, dependencies=[Public])
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    _ = gettext_for(request)
    user = authenticate(uow.session, username, password)
    if user is None:
        record_audit(uow.session, username or "(empty)", "login.failed", "user", username or "")
        uow.commit()
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": next, "demo": get_settings().demo, "error": _("username or password is wrong")},
            status_code=401,
        )
    record_audit(uow.session, user.username, "login", "user", user.username)
    uow.commit()
    request.session["user"] = user.username
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, user: Annotated[User, Depends(allow("session.end"))]) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: Catalogue, region: str | None = None) -> Response:
    procs = [p for p in _kb().catalogue.enabled() if region in (None, "", p.region)]
    regions = sorted({p.region for p in _kb().catalogue.enabled()})
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "user": user,
            "procedures": procs,
            "regions": regions,
            "region": region,
            "modalities": MODALITIES,
        },
    )


@router.get("/procedures/{procedure_id}", response_class=HTMLResponse)
def procedure_page(request: Request, procedure_id: str, user: Catalogue) -> Response:
    kb = _kb()
    proc = find_procedure(kb, procedure_id)
    return templates.TemplateResponse(
        request,
        "procedure.html",
        {
            "user": user,
            "p": proc,
            "catalogue": kb.catalogue,
            "modalities": MODALITIES,
            "rrl_label": rrl_label,
        },
    )


def _number(name: str, raw: str | None) -> float | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        raise ValidationError(name, f"{raw!r} is not a number") from None


def _factors(q: dict[str, Any]) -> PatientFactors:
    flags = (
        "pregnant",
        "breastfeeding",
        "contrast_allergy",
        "high_bleeding_risk",
        "renal_impairment",
        "prior_fusion",
        "spinal_hardware",
    )
    drugs = tuple(d.strip() for raw in q.get("drug", []) for d in raw.split(",") if d.strip())
    aspirin = q.get("aspirin_indication") or None
    return PatientFactors(
        **{f: q.get(f) in ("on", "true", "1") for f in flags},
        egfr=_number("egfr", q.get("egfr")),
        bmi=_number("bmi", q.get("bmi")),
        age=_number("age", q.get("age")),
        drugs=drugs,
        aspirin_indication=aspirin,
    )


def _query(request: Request) -> dict[str, Any]:
    q: dict[str, Any] = {k: v for k, v in request.query_params.items() if k != "drug"}
    q["drug"] = request.query_params.getlist("drug")
    return q


@router.get("/advise", response_class=HTMLResponse)
def advise_page(request: Request, user: Advise, procedure: str = "") -> Response:
    kb = _kb()
    q = _query(request)
    context: dict[str, Any] = {
        "user": user,
        "procedures": kb.catalogue.enabled(),
        "q": q,
        "rec": None,
        "error": None,
        "drugs": sorted(kb.drugs.names),
        "rrl_label": rrl_label,
    }
    if procedure:
        try:
            context["rec"] = recommend(kb, procedure, _factors(q))
        except PainguideError as exc:
            context["error"] = str(exc)
    return templates.TemplateResponse(request, "advise.html", context)


@router.get("/sono/", include_in_schema=False)
def sono_home(user: Annotated[User, Depends(allow("sono.live.view"))]) -> Response:
    return RedirectResponse("/sono/live", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    user: Annotated[User, Depends(allow("audit.read"))],
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    return templates.TemplateResponse(
        request, "audit.html", {"user": user, "entries": list_audit(uow.session)}
    )
