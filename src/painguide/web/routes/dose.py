"""Dose pages: dashboard (distributions, trends, reference lines), report list and detail, CSV/XLSX export."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from painguide.dose.reference import DoseSample
from painguide.dose.service import DoseAudit, audit, get_stored, list_stored
from painguide.services import open_uow
from painguide.store.users import User
from painguide.web.deps import require_role, templates

__all__ = ["router"]

router = APIRouter(prefix="/dose")
AnyUser = Annotated[User, Depends(require_role())]
DoseAuditor = Annotated[User, Depends(require_role("rpo", "physician", "admin"))]
GroupBy = Literal["procedure", "device", "operator"]
Kind = Literal["fluoro", "radiography", "ct"]

_QUANTITY = {
    "fluoro": ("dap", "DAP (Gy·cm²)"),
    "radiography": ("dap", "DAP (Gy·cm²)"),
    "ct": ("dlp", "DLP (mGy·cm)"),
}


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


@router.get("/plotly.js", include_in_schema=False)
def plotly_js() -> Response:
    """Plotly's browser bundle, served from the installed package (no CDN needed)."""
    return Response(
        _plotly_js(), media_type="application/javascript", headers={"Cache-Control": "max-age=86400"}
    )


def _group(sample: DoseSample, group_by: GroupBy) -> str:
    value = {"procedure": sample.procedure_type, "device": sample.device, "operator": sample.operator}[
        group_by
    ]
    return value or "unspecified"


def _figures(result: DoseAudit, kind: Kind, group_by: GroupBy) -> tuple[str, str]:
    import plotly.graph_objects as go

    quantity, label = _QUANTITY[kind]
    samples = [s for s in result.samples if s.kind == kind and s.value(quantity) is not None]
    groups: dict[str, list[DoseSample]] = defaultdict(list)
    for sample in samples:
        groups[_group(sample, group_by)].append(sample)
    box, trend = go.Figure(), go.Figure()
    for name, members in sorted(groups.items()):
        values = [m.value(quantity) for m in members]
        box.add_trace(go.Box(y=values, name=name, boxpoints="all", jitter=0.3))
        trend.add_trace(
            go.Scatter(x=[m.study_datetime for m in members], y=values, mode="markers", name=name)
        )
    for line_value, text in _reference_lines(result, kind, quantity, group_by, set(groups)):
        for figure in (box, trend):
            figure.add_hline(
                y=line_value, line_dash="dash", annotation_text=text, annotation_position="top left"
            )
    box.update_layout(title=f"{label} by {group_by}", yaxis_title=label, showlegend=False, height=420)
    trend.update_layout(title=f"{label} over time", yaxis_title=label, height=420)
    html = {"full_html": False, "include_plotlyjs": False}
    return box.to_html(**html), trend.to_html(**html)


def _reference_lines(
    result: DoseAudit, kind: Kind, quantity: str, group_by: GroupBy, groups: set[str]
) -> list[tuple[float, str]]:
    lines: list[tuple[float, str]] = []
    if group_by == "procedure":
        for drl in result.local_drls:
            if drl.quantity == quantity and drl.procedure_type in groups:
                lines.append((drl.median, f"local median {drl.procedure_type} (n={drl.count})"))
        for level in result.reference.levels:
            if level.value is not None and level.kind == kind and level.procedure_type in groups:
                lines.append((level.value, f"{level.source} {level.description} [{level.status}]"))
    if quantity == "dap" and result.alert_levels.dap_gy_cm2 is not None:
        lines.append((result.alert_levels.dap_gy_cm2, f"alert level ({result.alert_levels.source})"))
    return lines


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request,
    user: DoseAuditor,
    kind: Kind = "fluoro",
    group_by: Annotated[GroupBy, Query(alias="by")] = "procedure",
) -> Response:
    """Distributions and trends per procedure type, device or operator, with reference lines and alerts."""
    result = audit(open_uow)
    box, trend = _figures(result, kind, group_by)
    return templates.TemplateResponse(
        request,
        "dose/dashboard.html",
        {
            "user": user,
            "kind": kind,
            "by": group_by,
            "box": box,
            "trend": trend,
            "result": result,
            "alerts": result.alerts[-50:][::-1],
            "count": sum(1 for s in result.samples if s.kind == kind),
        },
    )


@router.get("/reports", response_class=HTMLResponse)
def reports(
    request: Request,
    user: AnyUser,
    patient: str | None = None,
    study: str | None = None,
    procedure: str | None = None,
) -> Response:
    """Stored reports, newest first; filter by patient, study or procedure type."""
    stored = list_stored(open_uow, patient_id=patient or None, study_instance_uid=study or None,
                         procedure_type=procedure or None)  # fmt: skip
    context = {"user": user, "reports": stored, "patient": patient, "study": study, "procedure": procedure}
    return templates.TemplateResponse(request, "dose/reports.html", context)


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_detail(request: Request, user: AnyUser, report_id: int) -> Response:
    """One report: totals, every irradiation event, comparisons with reference levels and its alerts."""
    stored = get_stored(open_uow, report_id)
    result = audit(open_uow)
    comparisons = [c for c in result.comparisons if c.report_id == report_id]
    alerts = [a for a in result.alerts if report_id in a.report_ids]
    context: dict[str, Any] = {
        "user": user,
        "item": stored,
        "report": stored.report,
        "comparisons": comparisons,
        "alerts": alerts,
    }
    return templates.TemplateResponse(request, "dose/report.html", context)


@router.get("/export.csv")
def export_csv(user: DoseAuditor, patient: str | None = None) -> Response:
    """Every stored report (or one patient's) as CSV."""
    from painguide.dose.export import to_csv

    body = to_csv(list_stored(open_uow, patient_id=patient or None, limit=1_000_000))
    headers = {"Content-Disposition": 'attachment; filename="dose-reports.csv"'}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/export.xlsx")
def export_xlsx(user: DoseAuditor, patient: str | None = None) -> Response:
    """Every stored report (or one patient's) as an XLSX workbook."""
    from painguide.dose.export import to_xlsx

    body = to_xlsx(list_stored(open_uow, patient_id=patient or None, limit=1_000_000))
    headers = {"Content-Disposition": 'attachment; filename="dose-reports.xlsx"'}
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers=headers)
