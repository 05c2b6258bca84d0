"""Peak skin dose estimates: one ``dose_skin`` row per report (written at import, read by pages, alerts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from painguide.dose.models import SkinDose, SkinDoseMap
from painguide.dose.reference import SkinSample
from painguide.store.dose_tables import DoseReportRow, DoseSkinRow

__all__ = ["get_skin", "save_skin", "skin_samples"]


def save_skin(session: Session, report_id: int, skin: SkinDose) -> None:
    """Store the estimate of one report (the caller's unit of work commits)."""
    dose_map: dict[str, Any] | None = None
    if skin.dose_map is not None:
        dose_map = {
            "around_deg": list(skin.dose_map.around_deg),
            "along_cm": list(skin.dose_map.along_cm),
            "dose_mgy": list(skin.dose_map.dose_mgy),
        }
    session.add(
        DoseSkinRow(
            report_id=report_id,
            peak_skin_dose_mgy=skin.peak_skin_dose_mgy,
            note=skin.note[:500],
            method=skin.method[:200],
            dose_map=dose_map,
        )
    )


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
    return SkinDose(row.peak_skin_dose_mgy, row.note, row.method, dose_map)


def skin_samples(session: Session) -> list[SkinSample]:
    """Every stored peak skin dose value with its patient and study date-time (for alerts)."""
    stmt = (
        select(
            DoseSkinRow.report_id,
            DoseReportRow.patient_id,
            DoseReportRow.study_datetime,
            DoseSkinRow.peak_skin_dose_mgy,
        )
        .join(DoseReportRow, DoseReportRow.id == DoseSkinRow.report_id)
        .where(DoseSkinRow.peak_skin_dose_mgy.is_not(None))
        .order_by(DoseReportRow.study_datetime, DoseSkinRow.report_id)
    )  # fmt: skip
    return [
        SkinSample(r.report_id, r.patient_id, r.study_datetime, r.peak_skin_dose_mgy)
        for r in session.execute(stmt)
    ]
