"""Reads the procedure and quality reports and the FHIR export need across features: the dose reports and
ultrasound analyses of a procedure or a period, and the ids of every case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from painguide.store.dose_tables import DoseReportRow
from painguide.store.pathway_tables import CaseRow
from painguide.store.sono_tables import SonoAnalysisRow

__all__ = ["ReportRepository"]


class ReportRepository:
    """Cross-feature reads for reports and exports, on one unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def dose_reports_for(
        self, *, accession_number: str, report_ids: Sequence[int], study_instance_uid: str | None
    ) -> list[DoseReportRow]:
        """Dose reports linked by id, or carrying the accession number or Study Instance UID (by id)."""
        clauses: list[ColumnElement[bool]] = [DoseReportRow.accession_number == accession_number]
        if report_ids:
            clauses.append(DoseReportRow.id.in_(list(report_ids)))
        if study_instance_uid:
            clauses.append(DoseReportRow.study_instance_uid == study_instance_uid)
        stmt = select(DoseReportRow).where(or_(*clauses)).order_by(DoseReportRow.id)
        return list(self.session.scalars(stmt))

    def dose_reports_between(self, since: datetime, until: datetime) -> list[DoseReportRow]:
        """Dose reports whose study time lies in ``[since, until)`` (study times are stored naive)."""
        stmt = select(DoseReportRow).where(
            DoseReportRow.study_datetime >= since.replace(tzinfo=None),
            DoseReportRow.study_datetime < until.replace(tzinfo=None),
        )
        return list(self.session.scalars(stmt))

    def analyses_for(
        self, *, analysis_ids: Sequence[int], study_instance_uid: str | None
    ) -> list[SonoAnalysisRow]:
        """Ultrasound analyses linked by id or of the Study Instance UID (none when neither is given)."""
        clauses: list[ColumnElement[bool]] = []
        if analysis_ids:
            clauses.append(SonoAnalysisRow.id.in_(list(analysis_ids)))
        if study_instance_uid:
            clauses.append(SonoAnalysisRow.study_instance_uid == study_instance_uid)
        if not clauses:
            return []
        stmt = select(SonoAnalysisRow).where(or_(*clauses)).order_by(SonoAnalysisRow.id)
        return list(self.session.scalars(stmt))

    def warned_analyses_between(self, since: datetime, until: datetime) -> list[SonoAnalysisRow]:
        """Ultrasound analyses with at least one warning, stored in ``[since, until)``."""
        stmt = select(SonoAnalysisRow).where(
            SonoAnalysisRow.warning_count > 0,
            SonoAnalysisRow.created_at >= since,
            SonoAnalysisRow.created_at < until,
        )
        return list(self.session.scalars(stmt.order_by(SonoAnalysisRow.id)))

    def case_ids(self) -> list[int]:
        """Every case's id, in order."""
        return list(self.session.scalars(select(CaseRow.id).order_by(CaseRow.id)))
