"""Care-pathway pages: patients (search, new), cases (list, new, timeline), the information sheet.

The step forms of a case are in :mod:`painguide.web.routes.case_steps`. Each route parses its input, calls one
service function of :mod:`painguide.pathway.service` (or :mod:`~painguide.pathway.page_service`) and renders;
a refused or invalid form is shown again with every reason and the values entered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from painguide.auth import User
from painguide.catalogue.loader import load_knowledge
from painguide.errors import PainguideError
from painguide.pathway import page_service, service
from painguide.pathway.case import STAGES
from painguide.pathway.models import CHECKLIST_ITEMS, CaseInfo, Patient, build
from painguide.settings import get_settings
from painguide.store.uow import UnitOfWork
from painguide.web.deps import Check, allow, allow_in_route, get_uow, templates
from painguide.web.forms import FormData, clean, form_data
from painguide.web.i18n import translator

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter()
PatientReader = Annotated[User, Depends(allow("patient.read"))]
PatientWriter = Annotated[User, Depends(allow("patient.write"))]
CaseReader = Annotated[User, Depends(allow("case.read"))]
CaseWriter = Annotated[User, Depends(allow("case.write"))]
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Form = Annotated[FormData, Depends(form_data)]
# The two most requested pages check their permission in their own worker thread (deps.allow_in_route)
PatientSearchCheck = Annotated[Check, Depends(allow_in_route("patient.read"))]
CasePageCheck = Annotated[Check, Depends(allow_in_route("case.read"))]
PAGE_SIZE = 25
_PAGE_NUMBER: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=1, le=100_000)])
_CASE_ID: TypeAdapter[int] = TypeAdapter(int)

PATIENT_FIELDS = (
    "pseudonym", "name", "birth_year", "sex", "height_cm", "weight_kg", "pregnancy", "pregnancy_asked_on",
    "breastfeeding", "contrast_allergy", "egfr", "egfr_on", "drugs", "aspirin_indication",
    "high_bleeding_risk", "renal_impairment", "fused_levels",
)  # fmt: skip
CASE_FIELDS = (
    "complaint", "region", "side", "pain_duration_weeks", "nrs", "disability_scale", "disability_score",
    "opened_on",
)  # fmt: skip


def _procedure_name(procedure_id: str | None, language: str = "en") -> str:
    """For templates: a catalogue procedure's name in the page language (the id when unknown)."""
    if not procedure_id:
        return "—"
    found = load_knowledge(get_settings().site_policy).catalogue.procedures.get(procedure_id)
    if found is None:
        return procedure_id
    names: dict[str, str] = {str(k): v for k, v in found.names.items()}
    return names.get(language) or names["en"]


def _in_language(value: object, language: str = "en") -> str:
    """For templates: a ``{en, de}`` text of the data in the page language (a plain text unchanged)."""
    if isinstance(value, dict):
        return str(value.get(language) or value.get("en") or "")
    return "" if value is None else str(value)


templates.env.globals["procedure_name"] = _procedure_name
templates.env.globals["in_language"] = _in_language
templates.env.globals["checklist_labels"] = {key: text for key, (text, _) in CHECKLIST_ITEMS.items()}
templates.env.filters["fromiso"] = datetime.fromisoformat


def _regions() -> list[str]:
    return sorted({p.region for p in load_knowledge(get_settings().site_policy).catalogue.enabled()})


def _page(request: Request, name: str, context: dict[str, object], status: int = 200) -> Response:
    return templates.TemplateResponse(request, f"pathway/{name}", context, status_code=status)


def _validated(adapter: TypeAdapter[int], raw: str, location: tuple[str, str]) -> int:
    """``raw`` validated by ``adapter``, refused with the errors FastAPI gives for a parameter of that type
    at ``location`` (``("query", "page")``, ``("path", "case_id")``): the same validator and messages."""
    try:
        return adapter.validate_python(raw)
    except PydanticValidationError as exc:
        errors = [{**e, "loc": (*location, *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _page_number(request: Request) -> int:
    """The ``page`` query parameter, as ``page: Annotated[int, Query(ge=1, le=100_000)] = 1``."""
    raw = request.query_params.get("page")
    return 1 if raw is None else _validated(_PAGE_NUMBER, raw, ("query", "page"))


def _problem(request: Request, exc: PainguideError) -> dict[str, object]:
    """A refusal or invalid input as the forms show it: the field, the message (in the page's language),
    every unmet reason."""
    return {
        "field": getattr(exc, "field", None),
        "message": translator(request).error(exc),
        "unmet": list(getattr(exc, "unmet", ())),
        "status": exc.http_status,
    }


# ------------------------------------------------------------------------------------------ patients


@router.get("/patients", response_class=HTMLResponse)
async def patients(request: Request, check: PatientSearchCheck, uow: Uow) -> Response:
    """Patients whose pseudonym or name words start with the words searched for (``q``), page by page
    (``page``, 1 to 100,000): checked, searched and rendered in one worker thread."""
    return await run_in_threadpool(_patients, request, check, uow)


def _patients(request: Request, check: Check, uow: UnitOfWork) -> Response:
    user = check(uow)
    q, page = request.query_params.get("q", ""), _page_number(request)
    found = service.search_patients(uow, user, q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-found.total // PAGE_SIZE))
    context = {"user": user, "q": q, "found": found, "page": page, "pages": pages}
    return _page(request, "patients.html", context)


@router.get("/patients/new", response_class=HTMLResponse)
def new_patient_form(request: Request, user: PatientWriter) -> Response:
    """The form for a new patient."""
    return _page(request, "patient_new.html", {"user": user, "values": {}, "problem": None})


@router.post("/patients", response_class=HTMLResponse)
def new_patient(request: Request, user: PatientWriter, uow: Uow, form: Form) -> Response:
    """Register the patient; invalid input shows the form again with the field named."""
    try:
        values = clean(
            form,
            PATIENT_FIELDS,
            flags=("contrast_allergy", "high_bleeding_risk", "renal_impairment"),
            numbers=("height_cm", "weight_kg", "egfr"),
            lists=("drugs", "fused_levels"),
        )
        if "breastfeeding" in values:
            values["breastfeeding"] = values["breastfeeding"] == "yes"
        created = service.register_patient(uow, user, build(Patient, **values))
    except PainguideError as exc:
        uow.rollback()
        context = {"user": user, "values": form, "problem": _problem(request, exc)}
        return _page(request, "patient_new.html", context, exc.http_status)
    return RedirectResponse(f"/patients/{created.id}", status_code=303)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(request: Request, patient_id: int, user: PatientReader, uow: Uow) -> Response:
    """A patient's record and cases."""
    view = service.get_patient(uow, user, patient_id)
    return _page(request, "patient.html", {"user": user, "view": view, "p": view.patient})


@router.get("/patients/{patient_id}/cases/new", response_class=HTMLResponse)
def new_case_form(request: Request, patient_id: int, user: CaseWriter, uow: Uow) -> Response:
    """The form for a new case of a patient."""
    view = service.get_patient(uow, user, patient_id)
    context = {"user": user, "view": view, "values": {}, "problem": None, "regions": _regions()}
    return _page(request, "case_new.html", context)


@router.post("/patients/{patient_id}/cases", response_class=HTMLResponse)
def new_case(request: Request, patient_id: int, user: CaseWriter, uow: Uow, form: Form) -> Response:
    """Open the case; invalid input shows the form again with the field named."""
    try:
        values = clean(form, CASE_FIELDS, numbers=("pain_duration_weeks", "disability_score"), lists=())
        values.setdefault("opened_on", datetime.now(UTC).date())
        view = service.open_case(uow, user, patient_id, build(CaseInfo, **values))
    except PainguideError as exc:
        uow.rollback()
        patient = service.get_patient(uow, user, patient_id)
        context = {
            "user": user,
            "view": patient,
            "values": form,
            "problem": _problem(request, exc),
            "regions": _regions(),
        }
        return _page(request, "case_new.html", context, exc.http_status)
    return RedirectResponse(f"/cases/{view.id}", status_code=303)


# --------------------------------------------------------------------------------------------- cases


@router.get("/cases", response_class=HTMLResponse)
def cases(
    request: Request,
    user: CaseReader,
    uow: Uow,
    stage: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Cases newest first, optionally of one stage."""
    found = service.list_cases(uow, user, stage=stage or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-found.total // PAGE_SIZE))
    context = {"user": user, "stage": stage, "stages": STAGES, "found": found, "page": page, "pages": pages}
    return _page(request, "cases.html", context)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, check: CasePageCheck, uow: Uow) -> Response:
    """The case timeline (``case_id``: an integer): stage, next step, every unmet reason with its source,
    overrides. Checked, read and rendered in one worker thread."""
    return await run_in_threadpool(_case_page, request, check, uow)


def _case_page(request: Request, check: Check, uow: UnitOfWork) -> Response:
    user = check(uow)
    case_id = _validated(_CASE_ID, request.path_params["case_id"], ("path", "case_id"))
    found = page_service.case_page(uow, user, case_id)
    return _page(request, "case.html", {"user": user, "case": found.case, "linked": found.procedure})


@router.get("/cases/{case_id}/information-sheet", response_class=HTMLResponse)
def information_sheet(request: Request, case_id: int, user: CaseReader, uow: Uow) -> Response:
    """The printable patient information sheet of the planned modality."""
    sheet = page_service.information_sheet(uow, user, case_id)
    return _page(request, "sheet.html", {"user": user, "sheet": sheet, "case": sheet.case})
