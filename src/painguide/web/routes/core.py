"""Core pages: health, sign-in, catalogue, advisor, audit trail (the JSON API is in routes/api.py)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from painguide.accounts.service import sign_in, sign_out
from painguide.advisor import PatientFactors, find_procedure, recommend
from painguide.advisor.models import rrl_label
from painguide.audit.service import audit_filter, read_audit
from painguide.auth import User
from painguide.catalogue.loader import KnowledgeBase, load_knowledge
from painguide.catalogue.models import MODALITIES
from painguide.errors import PainguideError, TooManyAttemptsError, ValidationError
from painguide.i18n.marks import N_
from painguide.services import ensure_database
from painguide.settings import get_settings
from painguide.store.uow import UnitOfWork
from painguide.web.deps import allow, get_uow, templates
from painguide.web.i18n import gettext_for, translator
from painguide.web.security import SESSION_COOKIE

__all__ = ["router"]

router = APIRouter()
Catalogue = Annotated[User, Depends(allow("catalogue.read"))]
Advise = Annotated[User, Depends(allow("advise"))]
Public = Depends(allow("public"))


def _kb() -> KnowledgeBase:
    return load_knowledge(get_settings().site_policy)


@router.get("/health", dependencies=[Public])
def health() -> dict[str, object]:
    """Liveness and readiness (no authentication: used by monitors; reveals no patient data)."""

    ensure_database()
    return {"status": "ok", "procedures": len(_kb().catalogue.enabled()), "demo": get_settings().demo}


@router.get("/login", response_class=HTMLResponse, dependencies=[Public])
def login_form(request: Request, next: str = "/") -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"next": next, "demo": get_settings().demo, "error": None}
    )


def _login_page(request: Request, next: str, error: str | None, status: int, **headers: str) -> Response:
    context = {"next": next, "demo": get_settings().demo, "error": error}
    return templates.TemplateResponse(request, "login.html", context, status_code=status, headers=headers)


def _set_session_cookie(response: Response, session_id: str) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=settings.session_absolute_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.https,
        path="/",
    )


@router.post("/login", response_class=HTMLResponse, dependencies=[Public])
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """Check the password (throttled per account and address) and start a server-side session."""
    _ = gettext_for(request)
    address = request.client.host if request.client else ""
    try:
        previous = request.cookies.get(SESSION_COOKIE)
        signed_in = sign_in(uow, username, password, address=address, previous_session=previous)
    except TooManyAttemptsError as exc:
        message = _(
            "too many failed sign-ins: wait %(seconds)s s before trying again", seconds=exc.retry_after
        )
        return _login_page(request, next, message, 429, **{"Retry-After": str(exc.retry_after)})
    if signed_in is None:
        return _login_page(request, next, _("username or password is wrong"), 401)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, signed_in.session_id)
    return response


@router.post("/logout")
def logout(
    request: Request,
    user: Annotated[User, Depends(allow("session.end"))],
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """End this browser's session on the server (a copied cookie stops working) and clear the cookie."""
    sign_out(uow, user, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=get_settings().https, httponly=True)
    return response


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
        raise ValidationError(name, N_("%(value)s is not a number"), value=repr(raw)) from None


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


def _query(request: Request) -> dict[str, object]:
    q: dict[str, object] = {k: v for k, v in request.query_params.items() if k != "drug"}
    q["drug"] = request.query_params.getlist("drug")
    return q


@router.get("/advise", response_class=HTMLResponse)
def advise_page(request: Request, user: Advise, procedure: str = "") -> Response:
    kb = _kb()
    q = _query(request)
    context: dict[str, object] = {
        "user": user,
        "procedures": kb.catalogue.enabled(),
        "q": q,
        "rec": None,
        "error": None,
        "drugs": sorted(kb.drugs.names),
        "rrl_label": rrl_label,
    }
    status = 200
    if procedure:
        try:
            context["rec"] = recommend(kb, procedure, _factors(q))
        except PainguideError as exc:  # the form again, with the field and the fix
            context["error"], status = translator(request).error(exc), exc.http_status
    return templates.TemplateResponse(request, "advise.html", context, status_code=status)


@router.get("/sono/", include_in_schema=False)
def sono_home(user: Annotated[User, Depends(allow("sono.live.view"))]) -> Response:
    return RedirectResponse("/sono/live", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    user: Annotated[User, Depends(allow("audit.read"))],
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """The audit trail, newest first, 100 entries a page, filtered by actor, action, object and dates."""
    form = {"actor": actor, "action": action, "object_type": object_type, "object_id": object_id,
            "since": since, "until": until}  # fmt: skip
    context: dict[str, object] = {"user": user, "q": {k: (v or "")[:200] for k, v in form.items()}}
    try:
        page = read_audit(uow, user, audit_filter(**form), before_id=before)
    except ValidationError as exc:
        context.update(entries=[], older=None, error=translator(request).error(exc))
        return templates.TemplateResponse(request, "audit.html", context, status_code=exc.http_status)
    older = None
    if page.older_than is not None:
        older = "/audit?" + urlencode({**{k: v for k, v in form.items() if v}, "before": page.older_than})
    context.update(entries=page.entries, older=older, error=None)
    return templates.TemplateResponse(request, "audit.html", context)
