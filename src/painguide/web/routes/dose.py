"""Dose pages: dashboard (distributions, trends, reference lines), report list and detail, CSV/XLSX export,
and "Import reports" (upload DICOM dose reports or zip archives of them).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO, Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from painguide.auth import User
from painguide.dose.charts import box_figure, events_figure, skin_map_figure, trend_figure
from painguide.dose.dashboard import OUTLIERS_PER_GROUP, POINTS_PER_GROUP
from painguide.dose.export import csv_chunks, write_xlsx
from painguide.dose.models import ReportFilter
from painguide.dose.review import alert_list, dashboard_view, export_reports, report_page, report_view
from painguide.dose.service import UNMAPPED, procedure_names
from painguide.dose.upload_service import UploadedFile, UploadResult, import_uploads
from painguide.errors import PainguideError, ValidationError
from painguide.i18n.marks import N_
from painguide.services import open_uow
from painguide.settings import get_settings
from painguide.web.deps import allow, templates
from painguide.web.i18n import request_language, translator
from painguide.web.uploads import save_upload

__all__ = ["router"]

router = APIRouter(prefix="/dose")
DoseAuditor = Annotated[User, Depends(allow("dose.dashboard"))]
PatientReader = Annotated[User, Depends(allow("dose.reports.read"))]
Exporter = Annotated[User, Depends(allow("dose.export"))]
Importer = Annotated[User, Depends(allow("dose.import"))]
GroupBy = Literal["procedure", "device", "operator"]
Kind = Literal["fluoro", "radiography", "ct"]
MAX_IMPORT_BYTES = 200 * 1024 * 1024
"""Largest upload of the import page, all files together (a zip of many months of reports)."""
MAX_IMPORT_FILES = 1000
"""Most files in one upload (a zip archive counts as one)."""
UPLOAD_LIMITS: dict[str, int] = {"/dose/import": MAX_IMPORT_BYTES}
"""Body size limit of the upload endpoint, enforced while the body arrives (see ``web/uploads.py``)."""


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


def _day(field: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(
            field, N_("%(value)s is not a date; write YYYY-MM-DD, e.g. 2025-01-31"), value=repr(value[:40])
        ) from exc


def _filter(
    patient: str | None = None,
    study: str | None = None,
    procedure: str | None = None,
    operator: str | None = None,
    device: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> ReportFilter:
    """Report filters from the query string (empty fields mean "any"; ``until`` is inclusive)."""
    first, last = _day("since", since), _day("until", until)
    return ReportFilter(
        patient_id=patient or None,
        study_instance_uid=study or None,
        procedure_type=None if procedure in (None, "", UNMAPPED) else procedure,
        unmapped=procedure == UNMAPPED,
        operator=operator or None,
        device=device or None,
        since=datetime.combine(first, time()) if first else None,
        until=datetime.combine(last + timedelta(days=1), time()) if last else None,
    )


Filter = Annotated[ReportFilter, Depends(_filter)]


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request,
    user: DoseAuditor,
    kind: Kind = "fluoro",
    group_by: Annotated[GroupBy, Query(alias="by")] = "procedure",
) -> Response:
    """Distributions and trends per procedure type, device or operator, with reference levels and alerts."""

    t = translator(request)
    names = procedure_names(t.language)
    view = dashboard_view(open_uow, kind=kind, group_by=group_by, names=names, actor=user.username)
    context = {
        "user": user,
        "kind": kind,
        "by": group_by,
        "box": box_figure(view.data, t),
        "trend": trend_figure(view.data, t),
        "data": view.data,
        "result": view,
        "names": names,
        "alerts": view.alerts,
        "points_per_group": POINTS_PER_GROUP,
        "outliers_per_group": OUTLIERS_PER_GROUP,
    }
    return templates.TemplateResponse(request, "dose/dashboard.html", context)


@router.get("/reports", response_class=HTMLResponse)
def reports(
    request: Request,
    user: PatientReader,
    where: Filter,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    after: Annotated[int | None, Query(ge=1)] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Stored reports, newest first, 50 per page, filtered by patient, procedure, operator, device, dates.

    The "older"/"newer" links page by the last/first report shown (``after``/``before``), not by offset.
    """
    listing = report_page(open_uow, where, actor=user.username, page=page, after=after, before=before)
    query = {k: v for k, v in request.query_params.items() if k not in ("page", "after", "before") and v}
    context = {
        "user": user, "listing": listing, "reports": listing.items, "q": query,
        "names": procedure_names(request_language(request)),
        "unmapped": UNMAPPED, "procedure": request.query_params.get("procedure") or None,
    }  # fmt: skip
    return templates.TemplateResponse(request, "dose/reports.html", context)


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_detail(request: Request, user: PatientReader, report_id: int) -> Response:
    """One report: totals, peak skin dose, every irradiation event, comparisons and its alerts."""

    view = report_view(open_uow, report_id, actor=user.username)
    skin, report = view.skin, view.stored.report
    skin_chart = None
    t = translator(request)
    if skin is not None and skin.dose_map is not None and skin.peak_skin_dose_mgy is not None:
        skin_chart = skin_map_figure(skin.dose_map, peak_mgy=skin.peak_skin_dose_mgy, t=t)
    context: dict[str, object] = {
        "user": user,
        "item": view.stored,
        "report": view.stored.report,
        "comparisons": view.comparisons,
        "alerts": view.alerts,
        "names": procedure_names(t.language),
        "skin": skin,
        "skin_level": view.levels.peak_skin_dose_mgy,
        "skin_chart": skin_chart,
        "events_chart": events_figure(report, t) if report.events else None,
    }
    return templates.TemplateResponse(request, "dose/report.html", context)


@router.get("/alerts", response_class=HTMLResponse)
def alerts(
    request: Request, user: PatientReader, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> Response:
    """Every high-dose alert, newest first, 100 per page."""
    per_page = 100
    found = alert_list(
        open_uow, actor=user.username, limit=per_page, offset=(page - 1) * per_page, newest_first=True
    )
    pages = max(1, -(-found.total // per_page))
    context = {"user": user, "found": found, "page": page, "pages": pages}
    return templates.TemplateResponse(request, "dose/alerts.html", context)


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/export.csv")
def export_csv(user: Exporter, where: Filter) -> Response:
    """The stored reports (all, or those matching the filters) as CSV, streamed."""

    _total, rows = export_reports(open_uow, where, actor=user.username, fmt="csv")
    headers = {"Content-Disposition": 'attachment; filename="dose-reports.csv"'}
    return StreamingResponse(csv_chunks(rows), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/export.xlsx")
def export_xlsx(user: Exporter, where: Filter) -> Response:
    """The stored reports (all, or those matching the filters) as an XLSX workbook, built on disk."""

    _total, rows = export_reports(open_uow, where, actor=user.username, fmt="xlsx")
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (closed after streaming)
    write_xlsx(rows, spool)
    spool.seek(0)
    headers = {"Content-Disposition": 'attachment; filename="dose-reports.xlsx"'}
    return StreamingResponse(_chunks(spool), media_type=_XLSX, headers=headers)


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while block := spool.read(256 * 1024):
            yield block


def _import_page(
    request: Request,
    user: User,
    *,
    result: UploadResult | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    limit_mb = UPLOAD_LIMITS["/dose/import"] >> 20
    context = {"user": user, "result": result, "error": error, "limit_mb": limit_mb}
    return templates.TemplateResponse(request, "dose/import.html", context, status_code=status_code)


@router.get("/import", response_class=HTMLResponse)
def import_form(request: Request, user: Importer) -> Response:
    """The upload form: DICOM dose reports or zip archives of them."""
    return _import_page(request, user)


@router.post("/import", response_class=HTMLResponse)
async def import_upload(request: Request, user: Importer) -> Response:
    """Import uploaded dose reports and zip archives (form field ``files``); one result row per file.

    The form is read here rather than declared as a ``File`` parameter so that a form sent without a file
    (one part without a file name) is answered with the field and the fix, not a type error.
    """

    try:
        form = await request.form(max_files=MAX_IMPORT_FILES)
    except HTTPException as exc:  # a malformed body or too many files: Starlette names the problem
        error = _form_error(str(exc.detail))
        message = translator(request).error(error)
        return _import_page(request, user, error=message, status_code=exc.status_code)
    sent = [part for part in form.getlist("files") if isinstance(part, UploadFile) and part.filename]
    try:
        result = await run_in_threadpool(_save_and_import, sent, user)
    except PainguideError as exc:
        return _import_page(request, user, error=translator(request).error(exc), status_code=exc.http_status)
    return _import_page(request, user, result=result)


TOO_MANY_FILES = N_("more than %(limit)s files at once: send fewer, or put them in zip archives")
"""A page's wording of Starlette's refusal of a form with more files than :data:`MAX_IMPORT_FILES`."""
BAD_FORM = N_("the upload could not be read (%(detail)s): choose the files again and send the form")
"""A page's wording of Starlette's refusal of a malformed form; its own English detail is kept inside."""


def _form_error(detail: str) -> ValidationError:
    """Starlette's refusal of the upload form as an error of the ``files`` field, worded for a page."""
    if detail.startswith("Too many files"):
        return ValidationError("files", TOO_MANY_FILES, limit=MAX_IMPORT_FILES)
    return ValidationError("files", BAD_FORM, detail=detail)


def _save_and_import(sent: list[UploadFile], user: User) -> UploadResult:
    """Save each upload to a private folder within the size limit, then import them all."""
    folder = get_settings().data_dir / "dose-uploads"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        saved = []
        for index, file in enumerate(sent):
            path = Path(tmp) / f"{index:05d}.upload"
            save_upload(file.file, path, limit=UPLOAD_LIMITS["/dose/import"], endpoint="/dose/import")
            saved.append(UploadedFile(file.filename or "", path))
        return import_uploads(saved, actor=user, uow_factory=open_uow)
