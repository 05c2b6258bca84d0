"""Store and find ultrasound guidance analysis summaries (inside the caller's unit of work)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from painguide.errors import NotFoundError
from painguide.store.sono_tables import SonoAnalysisRow

__all__ = ["SonoRepository", "add_analysis", "get_analysis", "list_analyses"]


def add_analysis(
    session: Session,
    document: dict[str, Any],
    *,
    actor: str,
    study_instance_uid: str | None = None,
    sop_instance_uid: str | None = None,
    timeline: dict[str, list[object]] | None = None,
    cine_file: str | None = None,
) -> SonoAnalysisRow:
    """Add the summary of an analysis (``AnalysisReport.as_dict()`` without per-frame rows is enough).

    Parameters
    ----------
    session : Session
        The unit of work's session; the caller commits.
    document : dict
        ``{"file", "summary", "events"}`` of an analysis.
    actor : str
        User who ran the analysis.
    study_instance_uid, sop_instance_uid : str, optional
        DICOM identifiers linking the analysis to a study and a procedure record.
    timeline : dict of lists, optional
        Per-frame series for the review chart.
    cine_file : str, optional
        Name of the analysed cine kept under ``data_dir/sono``.

    Returns
    -------
    SonoAnalysisRow
        The new row (flushed, so it has an id).
    """
    s = document["summary"]
    row = SonoAnalysisRow(
        created_by=actor,
        study_instance_uid=study_instance_uid,
        sop_instance_uid=sop_instance_uid,
        source_name=str(document["file"])[-300:],
        frames=int(s["frames"]),
        duration_s=float(s["duration_s"]),
        needle_visible_fraction=float(s["needle_visible_fraction"]),
        final_tip_x_mm=s.get("final_tip_x_mm"),
        final_tip_z_mm=s.get("final_tip_z_mm"),
        final_angle_deg=s.get("final_angle_deg"),
        injection_start_s=s.get("injection_start_s"),
        spread_onset_s=s.get("spread_onset_s"),
        max_spread_area_mm2=float(s["max_spread_area_mm2"]),
        warning_count=len(s.get("warnings", [])),
        summary=s,
        events=list(document.get("events", [])),
        timeline=timeline,
        cine_file=cine_file,
    )
    session.add(row)
    session.flush()
    return row


def get_analysis(session: Session, analysis_id: int) -> SonoAnalysisRow:
    """One analysis by id; raises :class:`NotFoundError` when absent."""
    row = session.get(SonoAnalysisRow, analysis_id)
    if row is None:
        raise NotFoundError(f"ultrasound analysis {analysis_id} does not exist; check the id.")
    return row


def list_analyses(
    session: Session, *, study_instance_uid: str | None = None, limit: int = 100
) -> list[SonoAnalysisRow]:
    """Most recent analyses first, optionally of one study."""
    stmt = select(SonoAnalysisRow).order_by(SonoAnalysisRow.id.desc()).limit(limit)
    if study_instance_uid:
        stmt = stmt.where(SonoAnalysisRow.study_instance_uid == study_instance_uid)
    return list(session.scalars(stmt))


class SonoRepository:
    """Stored ultrasound analyses (``sono_analyses``) on the unit of work's session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        document: dict[str, object],
        *,
        actor: str,
        study_instance_uid: str | None = None,
        sop_instance_uid: str | None = None,
        timeline: dict[str, list[object]] | None = None,
        cine_file: str | None = None,
    ) -> SonoAnalysisRow:
        """Add the summary of an analysis (see :func:`add_analysis`); flushed, so it has an id."""
        return add_analysis(
            self._session,
            document,
            actor=actor,
            study_instance_uid=study_instance_uid,
            sop_instance_uid=sop_instance_uid,
            timeline=timeline,
            cine_file=cine_file,
        )

    def get(self, analysis_id: int) -> SonoAnalysisRow:
        """One analysis by id; raises :class:`NotFoundError` when absent."""
        return get_analysis(self._session, analysis_id)

    def recent(self, *, study_instance_uid: str | None = None, limit: int = 100) -> list[SonoAnalysisRow]:
        """Most recent analyses first, optionally of one study."""
        return list_analyses(self._session, study_instance_uid=study_instance_uid, limit=limit)

    def of_instance(self, sop_instance_uid: str, study_instance_uid: str | None) -> list[SonoAnalysisRow]:
        """The analyses of one DICOM object (SOP Instance UID) filed under ``study_instance_uid``, oldest
        first."""
        stmt = (
            select(SonoAnalysisRow)
            .where(SonoAnalysisRow.sop_instance_uid == sop_instance_uid)
            .where(
                SonoAnalysisRow.study_instance_uid.is_(None)
                if study_instance_uid is None
                else SonoAnalysisRow.study_instance_uid == study_instance_uid
            )
            .order_by(SonoAnalysisRow.id)
        )
        return list(self._session.scalars(stmt))

    def any_by(self, actor: str) -> bool:
        """Whether ``actor`` stored any analysis (the demo seeder's "already seeded" check)."""
        stmt = select(SonoAnalysisRow.id).where(SonoAnalysisRow.created_by == actor).limit(1)
        return self._session.scalar(stmt) is not None
