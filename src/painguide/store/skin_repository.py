"""Peak skin dose estimates: one ``dose_skin`` row per report (read by pages and alerts).

A report pyskindose can model gets a *pending* row at import, holding the report file; the estimate
replaces it later (:func:`painguide.dose.service.estimate_pending_skin_doses`). Every other report gets
its reason at import.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from painguide.dose.models import SkinDose, SkinDoseMap, SkinReason
from painguide.dose.reference import SkinSample
from painguide.store.base import utcnow
from painguide.store.dose_tables import DosePatientTallyRow, DoseReportRow, DoseSkinRow
from painguide.store.dose_tally import count_skin_in_tallies

__all__ = [
    "get_skin",
    "patient_skin_samples",
    "pending_count",
    "pending_file",
    "pending_reports",
    "replace_skin",
    "save_pending",
    "save_pending_many",
    "save_skin",
    "skin_samples",
]


def _map_json(skin: SkinDose) -> dict[str, object] | None:
    if skin.dose_map is None:
        return None
    return {
        "around_deg": list(skin.dose_map.around_deg),
        "along_cm": list(skin.dose_map.along_cm),
        "dose_mgy": list(skin.dose_map.dose_mgy),
    }


def _count_in_patient_sum(session: Session, report_id: int, peak: float | None) -> None:
    if peak is not None:
        patient = session.scalar(select(DoseReportRow.patient_id).where(DoseReportRow.id == report_id))
        count_skin_in_tallies(session, [(patient, peak)])


def save_skin(session: Session, report_id: int, skin: SkinDose) -> None:
    """Store the estimate of one report (the caller's unit of work commits)."""
    _count_in_patient_sum(session, report_id, skin.peak_skin_dose_mgy)
    dose_map = _map_json(skin)
    session.add(
        DoseSkinRow(
            report_id=report_id,
            peak_skin_dose_mgy=skin.peak_skin_dose_mgy,
            note=skin.note[:500],
            method=skin.method[:200],
            dose_map=dose_map,
            reasons=_reasons_json(skin),
        )
    )


def save_pending(session: Session, report_id: int, data: bytes, note: str) -> None:
    """Keep the report file of a report whose estimate is still to be made (the caller commits)."""
    session.add(
        DoseSkinRow(
            report_id=report_id, peak_skin_dose_mgy=None, note=note[:500], pending=True, pending_rdsr=data
        )
    )


def save_pending_many(session: Session, files: Sequence[tuple[int, bytes]], note: str) -> None:
    """:func:`save_pending` for many reports ``(report id, file)`` in one statement (the caller commits)."""
    if files:
        rows = [
            {"report_id": i, "peak_skin_dose_mgy": None, "note": note[:500], "method": "", "pending": True,
             "pending_rdsr": data, "computed_at": utcnow()}
            for i, data in files
        ]  # fmt: skip
        session.execute(insert(DoseSkinRow), rows)


def pending_reports(
    session: Session, report_ids: Sequence[int] | None = None, limit: int | None = None
) -> list[int]:
    """The reports waiting for their estimate (an index on ``pending``), oldest first."""
    stmt = select(DoseSkinRow.report_id).where(DoseSkinRow.pending.is_(True)).order_by(DoseSkinRow.report_id)
    if report_ids is not None:
        stmt = stmt.where(DoseSkinRow.report_id.in_(list(report_ids)))
    return [int(i) for i in session.scalars(stmt.limit(limit))]


def pending_count(session: Session) -> int:
    """How many reports wait for their estimate (the ``pending`` index)."""
    stmt = select(func.count()).select_from(DoseSkinRow).where(DoseSkinRow.pending.is_(True))
    return int(session.scalar(stmt) or 0)


def pending_file(session: Session, report_id: int) -> bytes | None:
    """The kept report file of a pending report (``None`` when it is not pending)."""
    row = session.get(DoseSkinRow, report_id)
    return row.pending_rdsr if row is not None and row.pending else None


def replace_skin(session: Session, report_id: int, skin: SkinDose) -> bool:
    """Store a pending report's estimate and drop its kept file; ``False`` when it is no longer pending."""
    row = session.get(DoseSkinRow, report_id, with_for_update=True)
    if row is None or not row.pending:
        return False
    row.peak_skin_dose_mgy = skin.peak_skin_dose_mgy
    row.note, row.method = skin.note[:500], skin.method[:200]
    row.dose_map, row.reasons = _map_json(skin), _reasons_json(skin)
    row.pending, row.pending_rdsr, row.computed_at = False, None, utcnow()
    _count_in_patient_sum(session, report_id, skin.peak_skin_dose_mgy)
    return True


def get_skin(session: Session, report_id: int) -> SkinDose | None:
    """The stored estimate of a report, or ``None`` when the report was imported without one."""
    row = session.get(DoseSkinRow, report_id)
    if row is None:
        return None
    dose_map = None
    if row.dose_map:
        dose_map = SkinDoseMap(
            tuple(row.dose_map["around_deg"]),
            tuple(row.dose_map["along_cm"]),
            tuple(row.dose_map["dose_mgy"]),
        )
    return SkinDose(row.peak_skin_dose_mgy, row.note, row.method, dose_map, stored_reasons(row.reasons))


def _reasons_json(skin: SkinDose) -> list[dict[str, object]] | None:
    return [reason.record() for reason in skin.reasons] or None


def stored_reasons(stored: list[dict[str, object]] | None) -> tuple[SkinReason, ...]:
    """The stored reasons; a malformed entry is left out (the English note still says it)."""
    reasons = []
    for entry in stored or ():
        text, params = entry.get("text"), entry.get("params") or {}
        if isinstance(text, str) and isinstance(params, dict):
            reasons.append(SkinReason(text, params))
    return tuple(reasons)


def _skin_columns() -> Select[Any]:
    columns: tuple[Any, ...] = (
        DoseSkinRow.report_id,
        DoseReportRow.patient_id,
        DoseReportRow.study_datetime,
        DoseSkinRow.peak_skin_dose_mgy,
    )
    return (
        select(*columns)
        .join(DoseReportRow, DoseReportRow.id == DoseSkinRow.report_id)
        .where(DoseSkinRow.peak_skin_dose_mgy.is_not(None))
    )


def _to_samples(session: Session, stmt: Select[Any]) -> list[SkinSample]:
    rows = session.execute(stmt.order_by(DoseReportRow.study_datetime, DoseSkinRow.report_id))
    return [SkinSample(r.report_id, r.patient_id, r.study_datetime, r.peak_skin_dose_mgy) for r in rows]


def skin_samples(session: Session, threshold: float | None) -> list[SkinSample]:
    """The estimates an alert level of ``threshold`` mGy can concern, in date order (none without a level).

    Reports whose own peak skin dose reaches the level (an index range on ``peak_skin_dose_mgy``), and every
    estimate of the patients whose estimates add up to the level over all time (the maintained
    ``dose_patient_tally.skin_sum_mgy``): a sum over any window is at most that, so the patients left out
    cannot raise a per-patient alert. No other estimate is read.
    """
    if threshold is None:
        return []
    at_level = select(DoseSkinRow.report_id).where(DoseSkinRow.peak_skin_dose_mgy >= threshold)
    ids = [int(i) for i in session.scalars(at_level)]
    own: list[SkinSample] = []
    for start in range(0, len(ids), 500):  # stay below SQLite's bound-parameter limit
        own += _to_samples(
            session, _skin_columns().where(DoseSkinRow.report_id.in_(ids[start : start + 500]))
        )
    own.sort(key=lambda s: (s.study_datetime or datetime.min, s.report_id))
    candidates = select(DosePatientTallyRow.patient_id).where(DosePatientTallyRow.skin_sum_mgy >= threshold)
    patients = sorted(str(p) for p in session.scalars(candidates))
    return _merge(own, patient_skin_samples(session, patients))


def patient_skin_samples(session: Session, patients: Sequence[str]) -> list[SkinSample]:
    """Every estimate of the given patients, in date order."""
    found: list[SkinSample] = []
    for start in range(0, len(patients), 500):  # stay below SQLite's bound-parameter limit
        chunk = patients[start : start + 500]
        found += _to_samples(session, _skin_columns().where(DoseReportRow.patient_id.in_(chunk)))
    return found


def _merge(first: list[SkinSample], second: list[SkinSample]) -> list[SkinSample]:
    unique = {s.report_id: s for s in (*first, *second)}
    return sorted(unique.values(), key=lambda s: (s.study_datetime or datetime.min, s.report_id))
