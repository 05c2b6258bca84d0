"""Dose report persistence: add, de-duplicate, list and query reports (inside the caller's unit of work)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from painguide.dose.models import (
    DeviceInfo,
    DoseReport,
    DoseTotals,
    IrradiationEvent,
    ParseWarning,
    PatientInfo,
    ReportFilter,
    ReportKind,
    StoredReport,
)
from painguide.errors import NotFoundError, ValidationError
from painguide.i18n.marks import N_
from painguide.store.base import utcnow
from painguide.store.dose_tables import DoseEventRow, DoseReportRow
from painguide.store.dose_tally import count_reports_in_tallies, rebuild_tallies

__all__ = [
    "add_report",
    "add_reports",
    "count_reports",
    "distinct_values",
    "existing_sop_uids",
    "get_report",
    "ids_by_sop_uid",
    "iter_reports",
    "list_reports",
    "procedure_texts",
    "reports_near",
    "same_content",
    "same_content_many",
    "set_procedure_types",
]

_EVENT_FIELDS = tuple(f for f in IrradiationEvent.__dataclass_fields__ if f != "index")
_TOTAL_FIELDS = tuple(f for f in DoseTotals.__dataclass_fields__)


def existing_sop_uids(session: Session, uids: Collection[str]) -> set[str]:
    """The subset of ``uids`` already stored."""
    found: set[str] = set()
    ordered = list(uids)
    for start in range(0, len(ordered), 500):  # stay below SQLite's bound-parameter limit
        chunk = ordered[start : start + 500]
        stmt = select(DoseReportRow.sop_instance_uid).where(DoseReportRow.sop_instance_uid.in_(chunk))
        found.update(session.scalars(stmt))
    return found


def ids_by_sop_uid(session: Session, uids: Collection[str]) -> dict[str, int]:
    """The stored report id of each of ``uids`` that is stored."""
    found: dict[str, int] = {}
    ordered = list(uids)
    for start in range(0, len(ordered), 500):  # stay below SQLite's bound-parameter limit
        chunk = ordered[start : start + 500]
        stmt = select(DoseReportRow.sop_instance_uid, DoseReportRow.id).where(
            DoseReportRow.sop_instance_uid.in_(chunk)
        )
        found.update({uid: report_id for uid, report_id in session.execute(stmt)})
    return found


def _truncate(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


def _report_values(report: DoseReport, *, source: str, procedure_type: str | None) -> dict[str, object]:
    values: dict[str, object] = {
        "sop_instance_uid": report.sop_instance_uid,
        "sop_class_uid": report.sop_class_uid,
        "kind": report.kind.value,
        "template_id": _truncate(report.template_id, 16),
        "study_instance_uid": _truncate(report.study_instance_uid, 64),
        "study_datetime": report.study_datetime,
        "accession_number": _truncate(report.accession_number, 64),
        "study_description": _truncate(report.study_description, 200),
        "procedure_descriptions": [text[:200] for text in report.procedure_descriptions] or None,
        "procedure_type": _truncate(procedure_type, 100),
        "operator": _truncate(report.operator, 200),
        "patient_id": _truncate(report.patient.patient_id, 64),
        "patient_name": _truncate(report.patient.name, 200),
        "patient_birth_date": _truncate(report.patient.birth_date, 16),
        "patient_sex": _truncate(report.patient.sex, 16),
        "patient_age": _truncate(report.patient.age, 16),
        "manufacturer": _truncate(report.device.manufacturer, 100),
        "model": _truncate(report.device.model, 100),
        "station_name": _truncate(report.device.station, 100),
        "device_serial": _truncate(report.device.serial, 100),
        "device_observer_uid": _truncate(report.device.observer_uid, 64),
        "warnings": [{"kind": w.kind, "message": w.message} for w in report.warnings],
        "source": source[:500],
    }
    values.update({name: getattr(report.totals, name) for name in _TOTAL_FIELDS})
    when = report.study_datetime
    values["study_month"] = when.year * 100 + when.month if when is not None else None
    totals = report.totals
    values["audit_dose"] = (
        totals.dlp_total_mgy_cm if report.kind is ReportKind.CT else totals.dap_total_gy_cm2
    )
    return values


def add_report(
    session: Session, report: DoseReport, *, source: str, procedure_type: str | None = None
) -> int:
    """Insert a report and its events; returns the new row id (the caller's unit of work commits).

    Raises
    ------
    sqlalchemy.exc.IntegrityError
        On flush or commit, if the SOP Instance UID is already stored (check with :func:`existing_sop_uids`).
    """
    return add_reports(session, [(report, source, procedure_type)])[0]


def _event_rows(report_id: int, events: Sequence[IrradiationEvent]) -> Iterator[dict[str, object]]:
    for event in events:
        values = {name: getattr(event, name) for name in _EVENT_FIELDS}
        values["event_index"] = event.index
        values["event_uid"] = _truncate(values.pop("uid"), 64)
        values["protocol"] = _truncate(values["protocol"], 200)
        values["target_region"] = _truncate(values["target_region"], 100)
        values["report_id"] = report_id
        yield values


def add_reports(session: Session, reports: Sequence[tuple[DoseReport, str, str | None]]) -> list[int]:
    """Insert reports ``(report, source, procedure type)`` with their events, counted in the tallies.

    A few statements for the whole batch (one multi-row insert of the reports returning their ids in order,
    one of all their events, one upsert per tally); returns the new ids in the order given. The caller's unit
    of work commits.

    Raises
    ------
    sqlalchemy.exc.IntegrityError
        If a SOP Instance UID is already stored (check with :func:`existing_sop_uids`).
    """
    if not reports:
        return []
    values = [_report_values(report, source=source, procedure_type=kind) for report, source, kind in reports]
    for row in values:
        row["event_count"] = row.get("event_count") or 0
        row["imported_at"] = utcnow()
    stmt = insert(DoseReportRow).returning(DoseReportRow.id, sort_by_parameter_order=True)
    ids = [int(i) for i in session.scalars(stmt, values)]
    count_reports_in_tallies(session, values)
    events = [
        row for (report, _, _), i in zip(reports, ids, strict=True) for row in _event_rows(i, report.events)
    ]
    if events:
        session.execute(insert(DoseEventRow), events)
    return ids


def _to_domain(row: DoseReportRow, *, with_events: bool) -> StoredReport:
    events: tuple[IrradiationEvent, ...] = ()
    if with_events:
        events = tuple(
            IrradiationEvent(
                index=e.event_index,
                uid=e.event_uid,
                **{f: getattr(e, f) for f in _EVENT_FIELDS if f != "uid"},
            )
            for e in row.events
        )
    report = DoseReport(
        sop_instance_uid=row.sop_instance_uid,
        sop_class_uid=row.sop_class_uid,
        kind=ReportKind(row.kind),
        template_id=row.template_id,
        study_instance_uid=row.study_instance_uid,
        study_datetime=row.study_datetime,
        accession_number=row.accession_number,
        study_description=row.study_description,
        procedure_descriptions=tuple(row.procedure_descriptions or ()),
        operator=row.operator,
        patient=PatientInfo(
            row.patient_id, row.patient_name, row.patient_birth_date, row.patient_sex, row.patient_age
        ),
        device=DeviceInfo(
            row.manufacturer, row.model, row.station_name, row.device_serial, row.device_observer_uid
        ),
        totals=DoseTotals(**{name: getattr(row, name) for name in _TOTAL_FIELDS}),
        events=events,
        warnings=tuple(ParseWarning(w["kind"], w["message"]) for w in row.warnings or []),
    )
    return StoredReport(row.id, report, row.procedure_type, row.source, row.imported_at)


def _conditions(where: ReportFilter) -> list[ColumnElement[bool]]:
    r = DoseReportRow
    conditions: list[ColumnElement[bool]] = []
    equal = (
        (r.patient_id, where.patient_id),
        (r.study_instance_uid, where.study_instance_uid),
        (r.procedure_type, where.procedure_type),
        (r.operator, where.operator),
    )
    conditions += [column == value for column, value in equal if value is not None]
    if where.unmapped:
        conditions.append(r.procedure_type.is_(None))
    if where.device is not None:
        conditions.append((r.station_name == where.device) | (r.device_serial == where.device))
    if where.since is not None:
        conditions.append(r.study_datetime >= where.since)
    if where.until is not None:
        conditions.append(r.study_datetime < where.until)
    return conditions


def list_reports(
    session: Session,
    where: ReportFilter = ReportFilter(),
    *,
    limit: int = 500,
    offset: int = 0,
    after: int | None = None,
    before: int | None = None,
) -> list[StoredReport]:
    """Reports, newest study first, matching ``where``; one page of ``limit``.

    The page starts at ``offset``, or (keyset paging, as fast for the last page as for the first) right after
    the report with id ``after`` or ends right before the report with id ``before`` in this order.

    Raises
    ------
    ValidationError
        If ``after`` or ``before`` names no stored report.
    """
    stmt = select(DoseReportRow).where(and_(True, *_conditions(where)))
    if after is None and before is None:
        stmt = stmt.order_by(DoseReportRow.study_datetime.desc(), DoseReportRow.id.desc())
        return [
            _to_domain(row, with_events=False) for row in session.scalars(stmt.limit(limit).offset(offset))
        ]
    return [_to_domain(row, with_events=False) for row in _keyset(session, stmt, limit, after, before)]


def _keyset(
    session: Session, stmt: Select[Any], limit: int, after: int | None, before: int | None
) -> list[DoseReportRow]:
    """One page next to an anchor report, newest first: index seeks, no offset.

    The list's order is study date-time descending, then id descending, with the reports without a date-time
    last on SQLite and first on PostgreSQL (each database's order of NULL in ``DESC``); the order is walked as
    two segments (with and without a date-time) so that every statement is a range seek on an index.
    """
    r = DoseReportRow
    field, anchor_id = ("after", after) if after is not None else ("before", before)
    found = session.execute(select(r.study_datetime).where(r.id == anchor_id)).one_or_none()
    if found is None:
        raise ValidationError(
            field, N_("no dose report with id %(id)s; follow the page links of the list"), id=str(anchor_id)
        )
    when = found[0]
    dated: list[object] = [r.study_datetime.is_not(None)]
    undated: list[object] = [r.study_datetime.is_(None)]
    first: list[Any]
    segments = [dated, undated] if session.get_bind().dialect.name != "postgresql" else [undated, dated]
    position = segments.index(undated if when is None else dated)
    newest_first: list[Any] = [r.study_datetime.desc(), r.id.desc()]
    oldest_first: list[Any] = [r.study_datetime.asc(), r.id.asc()]
    rows: list[DoseReportRow] = []
    if after is not None:  # older reports: the rest of the anchor's segment, then the later segments
        if when is None:
            first = [*undated, r.id < anchor_id]
        else:
            first = [r.study_datetime <= when, (r.study_datetime < when) | (r.id < anchor_id)]
        for conditions in [first, *segments[position + 1 :]]:
            page = stmt.where(*conditions).order_by(*newest_first).limit(limit - len(rows))
            rows += session.scalars(page)
            if len(rows) >= limit:
                break
        return rows
    if when is None:  # newer reports: back through the anchor's segment, then the earlier segments
        first = [*undated, r.id > anchor_id]
    else:
        first = [r.study_datetime >= when, (r.study_datetime > when) | (r.id > anchor_id)]
    for conditions in [first, *reversed(segments[:position])]:
        page = stmt.where(*conditions).order_by(*oldest_first).limit(limit - len(rows))
        rows += session.scalars(page)
        if len(rows) >= limit:
            break
    return rows[::-1]


def count_reports(session: Session, where: ReportFilter = ReportFilter()) -> int:
    """How many reports match ``where``."""
    stmt = select(func.count()).select_from(DoseReportRow).where(and_(True, *_conditions(where)))
    return int(session.scalar(stmt) or 0)


def iter_reports(
    session: Session, where: ReportFilter = ReportFilter(), *, chunk: int = 1000
) -> Iterator[StoredReport]:
    """Every report matching ``where`` in id order, read ``chunk`` rows at a time (never all at once)."""
    after = 0
    while True:
        stmt = select(DoseReportRow).where(DoseReportRow.id > after, *_conditions(where))
        rows = list(session.scalars(stmt.order_by(DoseReportRow.id).limit(chunk)))
        for row in rows:
            yield _to_domain(row, with_events=False)
        if len(rows) < chunk:
            return
        after = rows[-1].id
        session.expunge_all()


def distinct_values(session: Session) -> tuple[list[str], list[str]]:
    """The stored operators and station names (for filter choices)."""
    operators = select(DoseReportRow.operator).where(DoseReportRow.operator.is_not(None)).distinct()
    stations = select(DoseReportRow.station_name).where(DoseReportRow.station_name.is_not(None)).distinct()
    return sorted(session.scalars(operators)), sorted(session.scalars(stations))


def procedure_texts(session: Session) -> dict[int, tuple[str | None, list[str]]]:
    """Per report id: its procedure type and the texts that name the procedure, in order of priority.

    The texts are Study Description, the other header descriptions, then the distinct acquisition protocols
    of its events.
    """
    r, e = DoseReportRow, DoseEventRow
    texts: dict[int, tuple[str | None, list[str]]] = {}
    for row in session.execute(select(r.id, r.procedure_type, r.study_description, r.procedure_descriptions)):
        found = [row.study_description or "", *(row.procedure_descriptions or [])]
        texts[row.id] = (row.procedure_type, [t for t in found if t])
    protocols = select(e.report_id, e.protocol).where(e.protocol.is_not(None)).distinct()
    for report_id, protocol in session.execute(protocols.order_by(e.report_id)):
        if report_id in texts and protocol and protocol not in texts[report_id][1]:
            texts[report_id][1].append(protocol)
    return texts


def set_procedure_types(session: Session, changes: dict[int, str | None]) -> None:
    """Set the procedure type of the given reports (the caller's unit of work commits)."""
    if changes:
        session.execute(
            update(DoseReportRow),
            [{"id": report_id, "procedure_type": value} for report_id, value in changes.items()],
        )
        rebuild_tallies(session, dimensions=["procedure"])


def get_report(session: Session, report_id: int) -> StoredReport:
    """One report with its events.

    Raises
    ------
    NotFoundError
        If there is no report with this id.
    """
    stmt = (
        select(DoseReportRow).where(DoseReportRow.id == report_id).options(selectinload(DoseReportRow.events))
    )
    row = session.scalars(stmt).one_or_none()
    if row is None:
        raise NotFoundError(f"dose report {report_id}: not found; list reports with `painguide dose list`")
    return _to_domain(row, with_events=True)


def reports_near(
    session: Session,
    *,
    patient_id: str,
    around: datetime,
    window: timedelta = timedelta(hours=12),
    accession_number: str | None = None,
) -> list[StoredReport]:
    """Reports of a patient within ``window`` of a procedure time (or with its accession number).

    This is the query a procedure record uses to find its dose reports (indexed on patient id and study
    date-time, and on accession number).
    """
    near = and_(
        DoseReportRow.patient_id == patient_id,
        DoseReportRow.study_datetime >= around - window,
        DoseReportRow.study_datetime <= around + window,
    )
    condition = (
        near if accession_number is None else (near | (DoseReportRow.accession_number == accession_number))
    )
    stmt = select(DoseReportRow).where(condition).order_by(DoseReportRow.study_datetime)
    return [_to_domain(row, with_events=False) for row in session.scalars(stmt)]


def same_content(session: Session, report: DoseReport) -> int | None:
    """A stored report with another SOP Instance UID but the same study, study time and dose totals.

    A damaged copy whose UID changed (one flipped bit keeps it a valid UID) or a re-identified copy would
    otherwise be stored a second time and count its dose twice. ``None`` when there is none, or when the
    report names no study.
    """
    if report.study_instance_uid is None:
        return None
    r, totals = DoseReportRow, report.totals

    def same(column: Any, value: object) -> ColumnElement[bool]:
        return column.is_(None) if value is None else column == value  # type: ignore[no-any-return]

    stmt = (
        select(r.id)
        .where(
            r.study_instance_uid == _truncate(report.study_instance_uid, 64),
            r.sop_instance_uid != report.sop_instance_uid,
            r.event_count == totals.event_count,
            same(r.study_datetime, report.study_datetime),
            same(r.dap_total_gy_cm2, totals.dap_total_gy_cm2),
            same(r.rp_dose_total_mgy, totals.rp_dose_total_mgy),
            same(r.dlp_total_mgy_cm, totals.dlp_total_mgy_cm),
        )
        .limit(1)
    )
    found: int | None = session.scalar(stmt)
    return found


def same_content_many(session: Session, reports: Sequence[DoseReport]) -> list[int | None]:
    """:func:`same_content` of each report, in one query per 500 studies (what a batch import checks)."""
    r = DoseReportRow
    studies = sorted({x.study_instance_uid[:64] for x in reports if x.study_instance_uid})
    stored: dict[str, list[Any]] = {}
    columns = (r.id, r.study_instance_uid, r.sop_instance_uid, r.event_count, r.study_datetime)
    figures = (r.dap_total_gy_cm2, r.rp_dose_total_mgy, r.dlp_total_mgy_cm)
    for start in range(0, len(studies), 500):
        stmt = select(*columns, *figures).where(r.study_instance_uid.in_(studies[start : start + 500]))
        for row in session.execute(stmt.order_by(r.id)):
            stored.setdefault(row.study_instance_uid, []).append(row)
    found: list[int | None] = []
    for report in reports:
        totals, match = report.totals, None
        if report.study_instance_uid is not None:
            for row in stored.get(report.study_instance_uid[:64], []):
                if (
                    row.sop_instance_uid != report.sop_instance_uid
                    and row.event_count == totals.event_count
                    and row.study_datetime == report.study_datetime
                    and row.dap_total_gy_cm2 == totals.dap_total_gy_cm2
                    and row.rp_dose_total_mgy == totals.rp_dose_total_mgy
                    and row.dlp_total_mgy_cm == totals.dlp_total_mgy_cm
                ):
                    match = int(row.id)
                    break
        found.append(match)
    return found
