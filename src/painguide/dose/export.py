"""Exports of stored dose reports as CSV or XLSX (one row per report, canonical units in the headers).

Text that came from a modality (patient, operator, descriptions) is never executed by a spreadsheet: every
text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe
(OWASP CSV injection rules), and XLSX cells holding text are written as strings, never as formulas. Numbers
stay numbers. Both writers take any iterable of reports and hold at most one chunk of rows in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from painguide.dose.models import StoredReport

__all__ = ["COLUMNS", "csv_chunks", "neutralise", "report_rows", "to_csv", "to_xlsx", "write_xlsx"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

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


def neutralise(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, made inert with a leading apostrophe.

    Examples
    --------
    >>> print(neutralise('=HYPERLINK("http://x","y")'))
    '=HYPERLINK("http://x","y")
    >>> neutralise("-1+2"), neutralise(-1.5), neutralise("Doe^Jane")
    ("'-1+2", -1.5, 'Doe^Jane')
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _row(item: StoredReport) -> tuple[object, ...]:
    r, t = item.report, item.report.totals
    return (
        item.id,
        r.sop_instance_uid,
        r.kind.value,
        r.study_datetime.isoformat() if r.study_datetime else None,
        r.accession_number,
        r.patient.patient_id,
        item.procedure_type,
        r.device.manufacturer,
        r.device.model,
        r.device.station,
        r.operator,
        t.event_count,
        t.dap_total_gy_cm2,
        t.fluoro_dap_gy_cm2,
        t.acquisition_dap_gy_cm2,
        t.rp_dose_total_mgy,
        t.fluoro_time_s,
        t.acquisition_time_s,
        t.dlp_total_mgy_cm,
        len(r.warnings),
    )


def report_rows(stored: Iterable[StoredReport]) -> Iterator[tuple[object, ...]]:
    """One tuple per report in :data:`COLUMNS` order, text neutralised."""
    for item in stored:
        yield tuple(neutralise(value) for value in _row(item))


def csv_chunks(stored: Iterable[StoredReport], *, rows_per_chunk: int = 500) -> Iterator[str]:
    """CSV text with a header row, yielded a chunk of rows at a time (for streaming)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for count, row in enumerate(report_rows(stored), start=1):
        writer.writerow(row)
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def to_csv(stored: Sequence[StoredReport]) -> str:
    """CSV text with a header row."""
    return "".join(csv_chunks(stored))


def write_xlsx(stored: Iterable[StoredReport], target: IO[bytes]) -> None:
    """Write an XLSX workbook with one sheet ``dose reports`` to ``target`` (rows streamed to disk)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("dose reports")
    sheet.append(COLUMNS)
    for row in report_rows(stored):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text is a string, never a formula
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)


def to_xlsx(stored: Sequence[StoredReport]) -> bytes:
    """An XLSX workbook with one sheet ``dose reports``."""
    buffer = io.BytesIO()
    write_xlsx(stored, buffer)
    return buffer.getvalue()
