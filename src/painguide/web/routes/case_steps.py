"""The step forms of a case: one page per step (``/cases/{id}/steps/{step}``), the override form.

A form is posted to its step's own route, which declares the step's action (``case.write``, ``case.justify``,
``case.procedure``, ``case.followup``, ``case.override``), parses the form into the step's record and calls
the step's one service function. A refusal (409) or invalid input (422) shows the same form again with every
unmet reason (code, message, source) or the field named, and every value entered kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from painguide.advisor.models import rrl_label
from painguide.auth import User
from painguide.catalogue.loader import load_knowledge
from painguide.catalogue.models import MODALITIES, Catalogue
from painguide.errors import NotFoundError, PainguideError, ValidationError
from painguide.i18n.marks import N_
from painguide.pathway import page_service, service
from painguide.pathway.case import STEPS
from painguide.pathway.gates import GATE_CODES
from painguide.pathway.models import (
    CHECKLIST_ITEMS,
    Checklist,
    ClinicalExam,
    Consent,
    ConservativeTherapy,
    DrugGiven,
    FollowUpResult,
    Imaging,
    Indication,
    LabResult,
    ProcedureRecord,
    build,
)
from painguide.pathway.service import CaseView
from painguide.settings import get_settings
from painguide.store.uow import UnitOfWork
from painguide.web.deps import allow, get_uow, templates
from painguide.web.forms import FormData, clean, form_data
from painguide.web.i18n import translator

__all__ = ["STEP_ACTIONS", "router", "slug"]

router = APIRouter()
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Form = Annotated[FormData, Depends(form_data)]
CaseReader = Annotated[User, Depends(allow("case.read"))]
Overrider = Annotated[User, Depends(allow("case.override"))]
Followup = Annotated[User, Depends(allow("case.followup"))]
CaseWriter = Annotated[User, Depends(allow("case.write"))]

#: The action each step's form performs (the permission matrix decides who may post it).
STEP_ACTIONS: dict[str, str] = {
    "diagnostics": "case.write",
    "conservative_therapies": "case.write",
    "indication": "case.write",
    "plan": "case.write",
    "schedule": "case.write",
    "anticoagulation": "case.write",
    "justification": "case.justify",
    "consent": "case.write",
    "checklist": "case.write",
    "procedure": "case.procedure",
    "follow_ups": "case.followup",
}
DRUG_ROWS = 3
Submit = Callable[[UnitOfWork, User, int], CaseView]


def slug(step: str) -> str:
    """The step's name in URLs (``conservative_therapies`` → ``conservative-therapies``)."""
    return step.replace("_", "-")


def _step(text: str) -> str:
    step = text.replace("-", "_")
    if step not in STEPS:
        raise NotFoundError(f"no step {text!r}; steps: {', '.join(slug(s) for s in STEPS)}")
    return step


def _catalogue() -> Catalogue:
    return load_knowledge(get_settings().site_policy).catalogue


def _render(
    request: Request,
    user: User,
    form: page_service.StepForm,
    values: FormData,
    problem: dict[str, object] | None = None,
    status: int = 200,
) -> Response:
    view = form.case
    plan = view.file.plan
    context = {
        "user": user,
        "case": view,
        "form": form,
        "step": form.step,
        "values": values,
        "problem": problem,
        "procedures": _catalogue().enabled(),
        "modalities": MODALITIES,
        "rrl_label": rrl_label,
        "checklist_items": CHECKLIST_ITEMS,
        "required_items": Checklist.required_items(plan.modality, plan.contrast) if plan else (),
        "action": STEP_ACTIONS[form.step],
        "slug": slug,
        "drug_rows": range(DRUG_ROWS),
        "today": datetime.now(UTC).date().isoformat(),
    }
    return templates.TemplateResponse(request, "pathway/step.html", context, status_code=status)


@router.get("/cases/{case_id}/steps/{step}", response_class=HTMLResponse)
def step_page(request: Request, case_id: int, step: str, user: CaseReader, uow: Uow) -> Response:
    """The form of one step, with the case's stage, next step and unmet reasons above it."""
    form = page_service.step_form(uow, user, case_id, _step(step))
    return _render(request, user, form, {})


def _submit(
    request: Request, uow: UnitOfWork, user: User, case_id: int, step: str, form: FormData, parse: Any
) -> Response:
    """Parse and submit; on refusal or invalid input show the form again with the reasons and values."""
    try:
        submit: Submit = parse(form)
        submit(uow, user, case_id)
    except PainguideError as exc:
        if not isinstance(exc, ValidationError) and exc.http_status != 409:
            raise
        uow.rollback()
        problem = {
            "field": getattr(exc, "field", None),
            "message": translator(request).error(exc),
            "unmet": list(getattr(exc, "unmet", ())),
        }
        again = page_service.step_form(uow, user, case_id, step)
        return _render(request, user, again, form, problem, exc.http_status)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


# ---------------------------------------------------------------------------------- form → service


def _diagnostic(form: FormData) -> Submit:
    kind = str(form.get("kind") or "")
    if kind == "exam":
        record: Any = build(ClinicalExam, **clean(form, ("kind", "on", "examiner", "findings")))
    elif kind == "imaging":
        fields = ("kind", "on", "modality", "finding", "concordant")
        record = build(Imaging, **clean(form, fields, flags=("concordant",)))
    elif kind == "lab":
        record = build(LabResult, **clean(form, ("kind", "on", "test", "value"), numbers=("value",)))
    else:
        raise ValidationError("kind", N_("choose clinical examination, imaging or laboratory"))
    return lambda uow, user, case_id: service.record_diagnostic(uow, user, case_id, record)


def _therapy(form: FormData) -> Submit:
    fields = ("type", "started_on", "duration_weeks", "outcome", "note")
    record = build(ConservativeTherapy, **clean(form, fields, numbers=("duration_weeks",)))
    return lambda uow, user, case_id: service.record_therapy(uow, user, case_id, record)


def _indication(form: FormData) -> Submit:
    fields = ("procedure", "levels", "side", "rationale", "physician", "on")
    record = build(Indication, **clean(form, fields, lists=("levels",)))
    return lambda uow, user, case_id: service.record_indication(uow, user, case_id, record)


def _plan(form: FormData) -> Submit:
    values = clean(form, ("modality", "reason"))
    if "modality" not in values:
        raise ValidationError("modality", N_("choose the modality"))
    return lambda uow, user, case_id: service.record_plan(uow, user, case_id, **values)


def _schedule(form: FormData) -> Submit:
    values = clean(form, ("at", "location", "accession_number"), datetimes=("at",))
    if "at" not in values:
        raise ValidationError("at", N_("give the date and time of the procedure"))
    return lambda uow, user, case_id: service.schedule_procedure(uow, user, case_id, **values)


def _anticoagulation(form: FormData) -> Submit:
    decisions: dict[str, Any] = {}
    for key, value in form.items():
        if key.startswith("decision:") and value in ("continue", "hold"):
            decisions[key.removeprefix("decision:")] = value
    return lambda uow, user, case_id: service.record_anticoagulation(uow, user, case_id, decisions=decisions)


def _justification(form: FormData) -> Submit:
    values = clean(form, ("alternative", "alternative_not_chosen_because", "note"))
    return lambda uow, user, case_id: service.record_justification(
        uow,
        user,
        case_id,
        alternative=values.get("alternative", ""),
        alternative_not_chosen_because=values.get("alternative_not_chosen_because", ""),
        note=values.get("note"),
    )


def _consent(form: FormData) -> Submit:
    fields = (
        "given_by", "relation", "informed_by", "on", "modality", "alternatives", "risks",
        "radiation_explained",
    )  # fmt: skip
    record = build(Consent, **clean(form, fields, flags=("radiation_explained",)))
    return lambda uow, user, case_id: service.record_consent(uow, user, case_id, record)


def _checklist(form: FormData) -> Submit:
    items = {key: form.get(f"item:{key}") not in (None, "") for key in CHECKLIST_ITEMS}
    return lambda uow, user, case_id: service.record_checklist(uow, user, case_id, items)


def _procedure(form: FormData) -> Submit:
    fields = (
        "performed_at", "operator", "supervisor", "modality", "levels", "side", "needle", "contrast",
        "contrast_volume_ml", "complications",
    )  # fmt: skip
    values = clean(
        form, fields, numbers=("contrast_volume_ml",), lists=("levels",), datetimes=("performed_at",)
    )
    drugs = []
    for i in range(DRUG_ROWS):
        row = clean(
            {k.removesuffix(f":{i}"): v for k, v in form.items() if k.endswith(f":{i}")},
            ("name", "dose", "volume_ml"),
            numbers=("volume_ml",),
        )
        if row:
            try:
                drugs.append(DrugGiven.model_validate(row))
            except ValueError:
                raise ValidationError(
                    f"drugs.{i}", N_("give the drug's name, dose and volume (mL)")
                ) from None
    record = build(ProcedureRecord, drugs=tuple(drugs), **values)
    uid = clean(form, ("study_instance_uid",)).get("study_instance_uid")
    return lambda uow, user, case_id: service.record_procedure(
        uow, user, case_id, record, study_instance_uid=uid
    )


def _follow_ups(form: FormData) -> Submit:
    text = str(form.get("days_after") or "")
    try:
        days = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ValidationError(
            "days_after", N_("give whole days after the procedure, comma-separated")
        ) from None
    return lambda uow, user, case_id: service.schedule_follow_ups(uow, user, case_id, days)


PARSERS: dict[str, Callable[[FormData], Submit]] = {
    "diagnostics": _diagnostic,
    "conservative_therapies": _therapy,
    "indication": _indication,
    "plan": _plan,
    "schedule": _schedule,
    "anticoagulation": _anticoagulation,
    "justification": _justification,
    "consent": _consent,
    "checklist": _checklist,
    "procedure": _procedure,
    "follow_ups": _follow_ups,
}


def _add_step_route(step: str) -> None:
    def post(
        *,
        user: User = Depends(allow(STEP_ACTIONS[step])),  # first: the role is checked before the form
        request: Request,
        case_id: int,
        uow: Uow,
        form: Form,
    ) -> Response:
        return _submit(request, uow, user, case_id, step, form, PARSERS[step])

    post.__doc__ = f"Record the {step.replace('_', ' ')} step of a case (form post)."
    router.add_api_route(
        f"/cases/{{case_id}}/steps/{slug(step)}",
        post,
        methods=["POST"],
        response_class=HTMLResponse,
        name=f"case_step_{step}",
    )


for _name in STEPS:
    _add_step_route(_name)


@router.post("/cases/{case_id}/follow-ups/{follow_up_id}", response_class=HTMLResponse)
def follow_up_result(
    request: Request, case_id: int, follow_up_id: int, user: Followup, uow: Uow, form: Form
) -> Response:
    """Record one follow-up's NRS, PGIC and relief."""

    def parse(data: FormData) -> Submit:
        fields = ("on", "nrs", "pgic", "relief_percent", "note")
        values = clean(data, fields, numbers=("relief_percent",))
        values.setdefault("on", datetime.now(UTC).date())
        result = build(FollowUpResult, **values)
        return lambda u, a, c: service.record_follow_up(u, a, c, follow_up_id, result)

    return _submit(request, uow, user, case_id, "follow_ups", form, parse)


@router.post("/cases/{case_id}/consent/revoke", response_class=HTMLResponse)
def revoke_consent(request: Request, case_id: int, user: CaseWriter, uow: Uow, form: Form) -> Response:
    """Record that the patient withdrew consent."""

    def parse(data: FormData) -> Submit:
        reason = clean(data, ("reason",)).get("reason")
        return lambda u, a, c: service.revoke_consent(u, a, c, reason=reason)

    return _submit(request, uow, user, case_id, "consent", form, parse)


# ------------------------------------------------------------------------------------------ override


def _override_page(
    request: Request, user: User, view: CaseView, values: FormData, problem: object = None, status: int = 200
) -> Response:
    context = {"user": user, "case": view, "values": values, "problem": problem, "codes": GATE_CODES}
    return templates.TemplateResponse(request, "pathway/override.html", context, status_code=status)


@router.get("/cases/{case_id}/override", response_class=HTMLResponse)
def override_form(request: Request, case_id: int, user: Overrider, uow: Uow, code: str = "") -> Response:
    """The override form: a gate code and the physician's written reason."""
    view = service.get_case(uow, user, case_id)
    return _override_page(request, user, view, {"code": code})


@router.post("/cases/{case_id}/overrides", response_class=HTMLResponse)
def override(request: Request, case_id: int, user: Overrider, uow: Uow, form: Form) -> Response:
    """Override one gate code with a written reason (physicians); recorded, audited and shown on the case."""
    values = clean(form, ("code", "reason"))
    try:
        service.override_gate(
            uow, user, case_id, code=values.get("code", ""), reason=values.get("reason", "")
        )
    except ValidationError as exc:
        uow.rollback()
        view = service.get_case(uow, user, case_id)
        problem = {"field": exc.field, "message": translator(request).error(exc), "unmet": []}
        return _override_page(request, user, view, form, problem, exc.http_status)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
