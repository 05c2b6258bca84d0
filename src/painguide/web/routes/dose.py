"""Dose pages: dashboard (distributions, trends, reference lines), report list and detail, CSV/XLSX export."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from painguide.auth import User
from painguide.dose.service import UNMAPPED, audit, get_skin_dose, get_stored, list_stored, procedure_names
from painguide.services import open_uow
from painguide.web.deps import allow, templates

__all__ = ["router"]

router = APIRouter(prefix="/dose")
Dashboard = Annotated[User, Depends(allow("dose.dashboard"))]
ReportReader = Annotated[User, Depends(allow("dose.reports.read"))]
Exporter = Annotated[User, Depends(allow("dose.export"))]
GroupBy = Literal["procedure", "device", "operator"]
Kind = Literal["fluoro", "radiography", "ct"]


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


@router.get("/plotly.js", include_in_schema=False, dependencies=[Depends(allow("public"))])
def plotly_js() -> Response:
    """Plotly's browser bundle, served from the installed package (no CDN needed)."""
    return Response(
        _plotly_js(), media_type="application/javascript", headers={"Cache-Control": "max-age=86400"}
    )


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request,
    user: Dashboard,
    kind: Kind = "fluoro",
    group_by: Annotated[GroupBy, Query(alias="by")] = "procedure",
) -> Response:
    """Distributions and trends per procedure type, device or operator, with reference levels and alerts."""
    from painguide.dose.charts import box_figure, trend_figure
    from painguide.dose.dashboard import dashboard_data

    result = audit(open_uow)
    names = procedure_names()
    data = dashboard_data(
        result.samples, kind=kind, group_by=group_by, names=names,
        levels=result.reference.levels, alerts=result.alert_levels,
    )  # fmt: skip
    context = {
        "user": user,
        "kind": kind,
        "by": group_by,
        "box": box_figure(data),
        "trend": trend_figure(data),
        "data": data,
        "result": result,
        "names": names,
        "alerts": result.alerts[-50:][::-1],
    }
    return templates.TemplateResponse(request, "dose/dashboard.html", context)


@router.get("/reports", response_class=HTMLResponse)
def reports(
    request: Request,
    user: ReportReader,
    patient: str | None = None,
    study: str | None = None,
    procedure: str | None = None,
) -> Response:
    """Stored reports, newest first; filter by patient, study or procedure type."""
    stored = list_stored(open_uow, patient_id=patient or None, study_instance_uid=study or None,
                         procedure_type=procedure or None)  # fmt: skip
    context = {"user": user, "reports": stored, "patient": patient, "study": study, "procedure": procedure,
               "names": procedure_names(), "unmapped": UNMAPPED}  # fmt: skip
    return templates.TemplateResponse(request, "dose/reports.html", context)


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_detail(request: Request, user: ReportReader, report_id: int) -> Response:
    """One report: totals, peak skin dose, every irradiation event, comparisons and its alerts."""
    from painguide.dose.charts import events_figure, skin_map_figure

    stored = get_stored(open_uow, report_id)
    skin = get_skin_dose(open_uow, report_id)
    result = audit(open_uow)
    comparisons = [c for c in result.comparisons if c.report_id == report_id]
    alerts = [a for a in result.alerts if report_id in a.report_ids]
    skin_chart = None
    if skin is not None and skin.dose_map is not None and skin.peak_skin_dose_mgy is not None:
        skin_chart = skin_map_figure(skin.dose_map, peak_mgy=skin.peak_skin_dose_mgy)
    context: dict[str, Any] = {
        "user": user,
        "item": stored,
        "report": stored.report,
        "comparisons": comparisons,
        "alerts": alerts,
        "names": procedure_names(),
        "skin": skin,
        "skin_level": result.alert_levels.peak_skin_dose_mgy,
        "skin_chart": skin_chart,
        "events_chart": events_figure(stored.report) if stored.report.events else None,
    }
    return templates.TemplateResponse(request, "dose/report.html", context)


@router.get("/export.csv")
def export_csv(user: Exporter, patient: str | None = None) -> Response:
    """Every stored report (or one patient's) as CSV."""
    from painguide.dose.export import to_csv

    body = to_csv(list_stored(open_uow, patient_id=patient or None, limit=1_000_000))
    headers = {"Content-Disposition": 'attachment; filename="dose-reports.csv"'}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/export.xlsx")
def export_xlsx(user: Exporter, patient: str | None = None) -> Response:
    """Every stored report (or one patient's) as an XLSX workbook."""
    from painguide.dose.export import to_xlsx

    body = to_xlsx(list_stored(open_uow, patient_id=patient or None, limit=1_000_000))
    headers = {"Content-Disposition": 'attachment; filename="dose-reports.xlsx"'}
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers=headers)
