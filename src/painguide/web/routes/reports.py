"""Report pages: a case's procedure report and the quality report of a period, as HTML and PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from painguide.auth import User
from painguide.interop.pdf import render_pdf
from painguide.interop.reports import Message, Names, Value, Warnings
from painguide.interop.service import get_procedure_report, get_quality_report
from painguide.store.uow import UnitOfWork
from painguide.web.deps import allow, get_uow, templates
from painguide.web.i18n import Translator, translator

__all__ = ["router"]

router = APIRouter(prefix="/reports")
CaseReader = Annotated[User, Depends(allow("case.read"))]
Quality = Annotated[User, Depends(allow("report.quality"))]
Uow = Annotated[UnitOfWork, Depends(get_uow)]
_DISCLAIMER = "painguide supports decisions; the physician decides."


def value_formatter(t: Translator) -> Callable[[Value], str]:
    """Values in the page's language: dates, times and numbers formatted, data words labelled."""

    def fmt(value: Value) -> str:
        if value is None:
            return "—"
        if isinstance(value, Names):
            return value.get(t.language)
        if isinstance(value, Message):
            return t.gettext(value.text, **dict(value.variables))
        if isinstance(value, Warnings):
            return "; ".join(
                t.label(kind)
                if at is None
                else t.gettext("%(event)s at %(time)s s", event=t.label(kind), time=t.decimal(round(at, 1)))
                for kind, at in value.items
            )
        if isinstance(value, datetime):
            return t.datetime(value, "short")
        if isinstance(value, date):
            return t.date(value)
        if isinstance(value, bool):
            return t.gettext("yes") if value else t.gettext("no")
        if isinstance(value, int | float):
            return t.decimal(value)
        return t.label(t.gettext(value))

    return fmt


def _pdf(title: str, subtitle: str, sections: tuple, t: Translator, name: str) -> Response:  # type: ignore[type-arg]
    body = render_pdf(
        title, subtitle, sections, gettext=t.gettext, format_value=value_formatter(t),
        footer=t.gettext(_DISCLAIMER),
    )  # fmt: skip
    headers = {"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"}
    return Response(body, media_type="application/pdf", headers=headers)


@router.get("/procedure/{case_id}.pdf")
def procedure_pdf(request: Request, user: CaseReader, uow: Uow, case_id: int) -> Response:
    """The procedure report of a case as PDF, in the page language."""
    report = get_procedure_report(uow, user, case_id)
    t = translator(request)
    subtitle = t.gettext("Procedure report, case %(case)s, issued %(time)s", case=case_id,
                         time=t.datetime(report.issued, "short"))  # fmt: skip
    return _pdf(report.title.get(t.language), subtitle, report.sections, t, f"procedure-report-{case_id}.pdf")


@router.get("/procedure/{case_id}", response_class=HTMLResponse)
def procedure(request: Request, user: CaseReader, uow: Uow, case_id: int) -> Response:
    """The procedure report of a case."""
    report = get_procedure_report(uow, user, case_id)
    t = translator(request)
    context = {
        "user": user,
        "report": report,
        "title": report.title.get(t.language),
        "fv": value_formatter(t),
        "tr": t.gettext,
    }
    return templates.TemplateResponse(request, "reports/procedure.html", context)


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or date.today()
    return start or (end - timedelta(days=90)), end


@router.get("/quality", response_class=HTMLResponse)
def quality(
    request: Request, user: Quality, uow: Uow, start: date | None = None, end: date | None = None
) -> Response:
    """The quality report of a period (default: the last 90 days)."""
    first, last = _period(start, end)
    report = get_quality_report(uow, user, start=first, end=last)
    t = translator(request)
    context = {"user": user, "report": report, "fv": value_formatter(t), "tr": t.gettext}
    return templates.TemplateResponse(request, "reports/quality.html", context)


@router.get("/quality.pdf")
def quality_pdf(
    request: Request, user: Quality, uow: Uow, start: date | None = None, end: date | None = None
) -> Response:
    """The quality report of a period as PDF."""
    first, last = _period(start, end)
    report = get_quality_report(uow, user, start=first, end=last)
    t = translator(request)
    title = t.gettext("Quality report %(start)s to %(end)s", start=t.date(first), end=t.date(last))
    subtitle = t.gettext("Issued %(time)s", time=t.datetime(report.issued, "short"))
    return _pdf(title, subtitle, report.sections, t, f"quality-{first}-{last}.pdf")
