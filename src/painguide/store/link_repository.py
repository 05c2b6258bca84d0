"""Queries of the worklist and of linking (inside the caller's unit of work; never commits).

Links live on the procedure (``pathway_procedure.dose_report_ids`` and ``sono_analysis_ids``); each link
and unlink is also a timeline entry of the case (kinds ``link`` and ``unlink``), which is where a manual
unlink is remembered so that automatic linking does not propose that procedure again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from painguide.dose.models import SkinDose
from painguide.pathway.linking import ItemKind, LinkItem, ProcedureKey, modality_of_dose_kind
from painguide.store.dose_tables import DoseReportRow, DoseSkinRow
from painguide.store.pathway_tables import CaseRow, EntryRow, PatientRow, ProcedureRow
from painguide.store.skin_repository import stored_reasons
from painguide.store.sono_tables import SonoAnalysisRow

__all__ = [
    "LINK_COLUMNS",
    "LinkRepository",
    "add_link",
    "dose_items",
    "dose_values",
    "excluded_by_hand",
    "item_exists",
    "linked_items",
    "procedure_keys",
    "procedures_holding",
    "remove_link",
    "scheduled_procedures",
    "skin_values",
    "sono_rows",
    "type_values",
    "unlinked_ids",
]

LINK_COLUMNS = {"dose": "dose_report_ids", "sono": "sono_analysis_ids"}
_CHUNK = 500  # stay below SQLite's bound-parameter limit


def _chunks(values: Iterable[object]) -> Iterable[list[object]]:
    ordered = list(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def scheduled_procedures(
    session: Session,
    *,
    modalities: Collection[str],
    start: datetime | None,
    end: datetime | None,
    patient_id: str | None,
    accession_number: str | None,
    limit: int,
) -> list[tuple[ProcedureRow, PatientRow]]:
    """Procedures still to be done (status ``scheduled``) for the worklist, by scheduled time.

    ``start``/``end`` bound the scheduled time (UTC, end exclusive); exact ``patient_id`` and
    ``accession_number`` narrow the query by index.
    """
    stmt = (
        select(ProcedureRow, PatientRow)
        .join(CaseRow, CaseRow.id == ProcedureRow.case_id)
        .join(PatientRow, PatientRow.id == CaseRow.patient_id)
        .where(ProcedureRow.status == "scheduled", ProcedureRow.modality.in_(list(modalities)))
    )
    if start is not None:
        stmt = stmt.where(ProcedureRow.scheduled_at >= start)
    if end is not None:
        stmt = stmt.where(ProcedureRow.scheduled_at < end)
    if patient_id is not None:
        stmt = stmt.where(ProcedureRow.patient_pseudonym == patient_id)
    if accession_number is not None:
        stmt = stmt.where(ProcedureRow.accession_number == accession_number)
    stmt = stmt.order_by(ProcedureRow.scheduled_at, ProcedureRow.id).limit(limit)
    return [(proc, patient) for proc, patient in session.execute(stmt)]


def _key(row: ProcedureRow) -> ProcedureKey:
    return ProcedureKey(
        id=row.id,
        accession_number=row.accession_number,
        study_instance_uid=row.study_instance_uid,
        patient_id=row.patient_pseudonym,
        at=row.performed_at or row.scheduled_at,
        modality=row.modality,
    )


def procedure_keys(session: Session, items: Iterable[LinkItem]) -> list[ProcedureKey]:
    """Every procedure sharing an accession number, a Study Instance UID or the patient with ``items``."""
    accessions, studies, patients = set(), set(), set()
    for item in items:
        accessions.update([item.accession_number] if item.accession_number else [])
        studies.update([item.study_instance_uid] if item.study_instance_uid else [])
        patients.update([item.patient_id] if item.patient_id else [])
    found: dict[int, ProcedureKey] = {}
    p = ProcedureRow
    for column, values in ((p.accession_number, accessions), (p.study_instance_uid, studies)):
        for chunk in _chunks(values):
            for row in session.scalars(select(p).where(column.in_(chunk))):
                found[row.id] = _key(row)
    for chunk in _chunks(patients):
        for row in session.scalars(select(p).where(p.patient_pseudonym.in_(chunk))):
            found[row.id] = _key(row)
    return sorted(found.values(), key=lambda k: k.id)


def excluded_by_hand(session: Session, procedure_ids: Collection[int]) -> dict[tuple[str, int], set[int]]:
    """(item kind, item id) → procedures it was unlinked from by hand (and not linked to again since)."""
    if not procedure_ids:
        return {}
    cases: set[int] = set()
    for chunk in _chunks(procedure_ids):
        cases.update(session.scalars(select(ProcedureRow.case_id).where(ProcedureRow.id.in_(chunk))))
    excluded: dict[tuple[str, int], set[int]] = {}
    stmt = (
        select(EntryRow.kind, EntryRow.data)
        .where(EntryRow.case_id.in_(sorted(cases)), EntryRow.kind.in_(("link", "unlink")))
        .order_by(EntryRow.id)
    )
    for kind, data in session.execute(stmt):
        key = (str(data.get("item_kind")), int(data.get("item_id", 0)))
        procedure = int(data.get("procedure_id", 0))
        if kind == "unlink":
            excluded.setdefault(key, set()).add(procedure)
        else:
            excluded.get(key, set()).discard(procedure)
    return excluded


def procedures_holding(session: Session, kind: ItemKind, item_id: int) -> list[ProcedureRow]:
    """The procedures an item is linked to (a text prefilter on the JSON list, then an exact check)."""
    column = getattr(ProcedureRow, LINK_COLUMNS[kind])
    stmt = select(ProcedureRow).where(cast(column, String).like(f"%{int(item_id)}%"))
    return [row for row in session.scalars(stmt) if item_id in getattr(row, LINK_COLUMNS[kind])]


def linked_items(session: Session, kind: ItemKind) -> dict[int, int]:
    """Item id → procedure id of every linked item of ``kind``."""
    column = getattr(ProcedureRow, LINK_COLUMNS[kind])
    stmt = select(ProcedureRow.id, column).where(cast(column, String) != "[]")
    return {int(item): int(proc) for proc, items in session.execute(stmt) for item in items or []}


def add_link(row: ProcedureRow, kind: ItemKind, item_id: int) -> None:
    """Add an item to the procedure's list (a new list, so the JSON column is seen as changed)."""
    name = LINK_COLUMNS[kind]
    current = list(getattr(row, name) or [])
    if item_id not in current:
        setattr(row, name, sorted([*current, item_id]))


def remove_link(row: ProcedureRow, kind: ItemKind, item_id: int) -> None:
    """Remove an item from the procedure's list."""
    name = LINK_COLUMNS[kind]
    setattr(row, name, [i for i in getattr(row, name) or [] if i != item_id])


def item_exists(session: Session, kind: ItemKind, item_id: int) -> bool:
    """Whether the dose report or analysis exists."""
    table = DoseReportRow if kind == "dose" else SonoAnalysisRow
    return session.get(table, item_id) is not None


def _aware(value: datetime | None, zone: tzinfo) -> datetime | None:
    """A naive local DICOM date-time read in the site's zone, as UTC."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)


def dose_items(session: Session, ids: Collection[int] | None, zone: tzinfo) -> list[LinkItem]:
    """Dose reports as link items (all of them for ``ids=None``)."""
    r = DoseReportRow
    columns = (r.id, r.accession_number, r.study_instance_uid, r.patient_id, r.study_datetime, r.kind)
    rows: list[Any] = []
    if ids is None:
        rows = list(session.execute(select(*columns)))
    else:
        for chunk in _chunks(ids):
            rows.extend(session.execute(select(*columns).where(r.id.in_(chunk))))
    return [
        LinkItem("dose", row.id, row.accession_number, row.study_instance_uid, row.patient_id,
                 _aware(row.study_datetime, zone), modality_of_dose_kind(row.kind))
        for row in rows
    ]  # fmt: skip


def sono_rows(session: Session, ids: Collection[int] | None) -> list[SonoAnalysisRow]:
    """Stored ultrasound analyses (all of them for ``ids=None``)."""
    if ids is None:
        return list(session.scalars(select(SonoAnalysisRow).order_by(SonoAnalysisRow.id)))
    rows: list[SonoAnalysisRow] = []
    for chunk in _chunks(ids):
        rows.extend(session.scalars(select(SonoAnalysisRow).where(SonoAnalysisRow.id.in_(chunk))))
    return sorted(rows, key=lambda row: row.id)


def unlinked_ids(session: Session, kind: ItemKind) -> list[int]:
    """Ids of the items of ``kind`` linked to no procedure, most recently stored first."""
    linked = linked_items(session, kind)
    if kind == "dose":
        stmt = select(DoseReportRow.id).order_by(DoseReportRow.id.desc())
    else:
        stmt = select(SonoAnalysisRow.id).order_by(SonoAnalysisRow.id.desc())
    return [item for item in session.scalars(stmt) if item not in linked]


def dose_values(session: Session, ids: Collection[int]) -> list[DoseReportRow]:
    """The dose reports with these ids (for a procedure's totals)."""
    rows: list[DoseReportRow] = []
    for chunk in _chunks(ids):
        rows.extend(session.scalars(select(DoseReportRow).where(DoseReportRow.id.in_(chunk))))
    return sorted(rows, key=lambda row: row.id)


def type_values(session: Session, procedure_type: str, *, quantity: str) -> list[float]:
    """Every stored report's DAP (``dap``, Gy·cm²) or DLP (``dlp``, mGy·cm) of one procedure type."""
    column = DoseReportRow.dlp_total_mgy_cm if quantity == "dlp" else DoseReportRow.dap_total_gy_cm2
    stmt = select(column).where(DoseReportRow.procedure_type == procedure_type, column.is_not(None))
    return [float(v) for v in session.scalars(stmt) if v is not None]


def skin_values(session: Session, ids: Collection[int]) -> dict[int, SkinDose]:
    """Report id → its skin dose estimate (peak in mGy or ``None``, the note and its reasons; no method or
    map), for reports that have a row."""
    found: dict[int, SkinDose] = {}
    s = DoseSkinRow
    for chunk in _chunks(ids):
        stmt = select(s.report_id, s.peak_skin_dose_mgy, s.note, s.reasons).where(s.report_id.in_(chunk))
        for report_id, peak, note, reasons in session.execute(stmt):
            found[int(report_id)] = SkinDose(peak, str(note), reasons=stored_reasons(reasons))
    return found


class LinkRepository:
    """The queries above on one unit of work's session (``uow.links``); never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def scheduled_procedures(
        self,
        *,
        modalities: Collection[str],
        start: datetime | None,
        end: datetime | None,
        patient_id: str | None,
        accession_number: str | None,
        limit: int,
    ) -> list[tuple[ProcedureRow, PatientRow]]:
        """See :func:`scheduled_procedures`."""
        return scheduled_procedures(
            self.session,
            modalities=modalities,
            start=start,
            end=end,
            patient_id=patient_id,
            accession_number=accession_number,
            limit=limit,
        )

    def procedure_keys(self, items: Iterable[LinkItem]) -> list[ProcedureKey]:
        """See :func:`procedure_keys`."""
        return procedure_keys(self.session, items)

    def excluded_by_hand(self, procedure_ids: Collection[int]) -> dict[tuple[str, int], set[int]]:
        """See :func:`excluded_by_hand`."""
        return excluded_by_hand(self.session, procedure_ids)

    def procedures_holding(self, kind: ItemKind, item_id: int) -> list[ProcedureRow]:
        """See :func:`procedures_holding`."""
        return procedures_holding(self.session, kind, item_id)

    def linked_items(self, kind: ItemKind) -> dict[int, int]:
        """See :func:`linked_items`."""
        return linked_items(self.session, kind)

    def item_exists(self, kind: ItemKind, item_id: int) -> bool:
        """See :func:`item_exists`."""
        return item_exists(self.session, kind, item_id)

    def dose_items(self, ids: Collection[int] | None, zone: tzinfo) -> list[LinkItem]:
        """See :func:`dose_items`."""
        return dose_items(self.session, ids, zone)

    def sono_rows(self, ids: Collection[int] | None) -> list[SonoAnalysisRow]:
        """See :func:`sono_rows`."""
        return sono_rows(self.session, ids)

    def unlinked_ids(self, kind: ItemKind) -> list[int]:
        """See :func:`unlinked_ids`."""
        return unlinked_ids(self.session, kind)

    def dose_values(self, ids: Collection[int]) -> list[DoseReportRow]:
        """See :func:`dose_values`."""
        return dose_values(self.session, ids)

    def type_values(self, procedure_type: str, *, quantity: str) -> list[float]:
        """See :func:`type_values`."""
        return type_values(self.session, procedure_type, quantity=quantity)

    def skin_values(self, ids: Collection[int]) -> dict[int, SkinDose]:
        """See :func:`skin_values`."""
        return skin_values(self.session, ids)
