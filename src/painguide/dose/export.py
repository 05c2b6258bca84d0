"""Exports of stored dose reports as CSV or XLSX (one row per report, canonical units in the headers)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from painguide.dose.models import StoredReport

__all__ = ["COLUMNS", "report_rows", "to_csv", "to_xlsx"]

COLUMNS = (
    "id",
    "sop_instance_uid",
    "kind",
    "study_datetime",
    "accession_number",
    "patient_id",
    "procedure_type",
    "manufacturer",
    "model",
    "station",
    "operator",
    "events",
    "dap_total_gy_cm2",
    "fluoro_dap_gy_cm2",
    "acquisition_dap_gy_cm2",
    "rp_dose_total_mgy",
    "fluoro_time_s",
    "acquisition_time_s",
    "dlp_total_mgy_cm",
    "warnings",
)


def report_rows(stored: Sequence[StoredReport]) -> list[tuple[object, ...]]:
    """One tuple per report in :data:`COLUMNS` order."""
    rows: list[tuple[object, ...]] = []
    for item in stored:
        r, t = item.report, item.report.totals
        rows.append(
            (
                item.id, r.sop_instance_uid, r.kind.value,
                r.study_datetime.isoformat() if r.study_datetime else None,
                r.accession_number, r.patient.patient_id, item.procedure_type,
                r.device.manufacturer, r.device.model, r.device.station, r.operator, t.event_count,
                t.dap_total_gy_cm2, t.fluoro_dap_gy_cm2, t.acquisition_dap_gy_cm2, t.rp_dose_total_mgy,
                t.fluoro_time_s, t.acquisition_time_s, t.dlp_total_mgy_cm, len(r.warnings),
            )
        )  # fmt: skip
    return rows


def to_csv(stored: Sequence[StoredReport]) -> str:
    """CSV text with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(report_rows(stored))
    return buffer.getvalue()


def to_xlsx(stored: Sequence[StoredReport]) -> bytes:
    """An XLSX workbook with one sheet ``dose reports``."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "dose reports"
    sheet.append(COLUMNS)
    for row in report_rows(stored):
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
