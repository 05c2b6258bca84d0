"""The dose repository of a unit of work (``uow.dose``): every read and write of dose data, typed.

Dose use cases (``painguide.dose.service``, ``review``, ``demo``, ``orthanc``) reach the database only through
this class; the SQL lives in :mod:`painguide.store.dose_repository` (reports), :mod:`.dose_statistics`
(aggregates), :mod:`.skin_repository` (peak skin dose) and :mod:`.dose_tally` (maintained tallies).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from painguide.dose.dashboard import GroupBy, GroupStat, MonthStat
from painguide.dose.models import DoseReport, ReportFilter, SkinDose, StoredReport
from painguide.dose.reference import AlertLevels, Comparison, DoseSample, LocalDrl, ReferenceData, SkinSample
from painguide.store import dose_repository as reports
from painguide.store import dose_statistics as statistics
from painguide.store import skin_repository as skin
from painguide.store.dose_tables import DoseReportRow

__all__ = ["DoseRepository"]


class DoseRepository:
    """Dose reports, their statistics and peak skin dose estimates on one unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # reports
    def existing_sop_uids(self, uids: Collection[str]) -> set[str]:
        """The subset of ``uids`` already stored."""
        return reports.existing_sop_uids(self.session, uids)

    def ids_of(self, uids: Collection[str]) -> dict[str, int]:
        """SOP Instance UID → stored report id, for those of ``uids`` that are stored."""
        return reports.ids_by_sop_uid(self.session, uids)

    def add(self, items: Sequence[tuple[DoseReport, str, str | None]]) -> list[int]:
        """Store reports ``(report, source, procedure type)`` with their events; their new ids in order."""
        return reports.add_reports(self.session, items)

    def same_content(self, items: Sequence[DoseReport]) -> list[int | None]:
        """Per report: a stored report with the same study, time and totals but another UID, or ``None``."""
        return reports.same_content_many(self.session, items)

    def has_source(self, source: str) -> bool:
        """Whether any report was stored from ``source`` (e.g. the demo data)."""
        stmt = select(DoseReportRow.id).where(DoseReportRow.source == source).limit(1)
        return self.session.scalar(stmt) is not None

    def get(self, report_id: int) -> StoredReport:
        """One report with its events (``NotFoundError`` when there is none)."""
        return reports.get_report(self.session, report_id)

    def page(
        self,
        where: ReportFilter = ReportFilter(),
        *,
        limit: int = 500,
        offset: int = 0,
        after: int | None = None,
        before: int | None = None,
    ) -> list[StoredReport]:
        """Reports newest first, one page (by offset, or keyset after/before a report id)."""
        return reports.list_reports(
            self.session, where, limit=limit, offset=offset, after=after, before=before
        )

    def count(self, where: ReportFilter = ReportFilter()) -> int:
        """How many reports match ``where``."""
        return reports.count_reports(self.session, where)

    def iterate(self, where: ReportFilter = ReportFilter()) -> Iterator[StoredReport]:
        """Every report matching ``where`` in id order, a thousand at a time."""
        return reports.iter_reports(self.session, where)

    def procedure_texts(self) -> dict[int, tuple[str | None, list[str]]]:
        """Per report: its procedure type and the texts that name its procedure."""
        return reports.procedure_texts(self.session)

    def set_procedure_types(self, changes: dict[int, str | None]) -> None:
        """Set the procedure type of reports (the tallies follow)."""
        reports.set_procedure_types(self.session, changes)

    # statistics
    def group_stats(self, *, kind: str, group_by: GroupBy) -> list[GroupStat]:
        """Box-plot statistics per procedure type, device or operator."""
        return statistics.group_stats(self.session, kind=kind, group_by=group_by)

    def month_stats(self, *, kind: str) -> list[MonthStat]:
        """Median and quartiles per month."""
        return statistics.month_stats(self.session, kind=kind)

    def local_drls(self) -> list[LocalDrl]:
        """The median per procedure type (projection DAP, CT DLP)."""
        return statistics.procedure_medians(self.session)

    def local_drl(self, procedure_type: str, *, ct: bool) -> LocalDrl | None:
        """The local DRL of one procedure type."""
        return statistics.procedure_median(self.session, procedure_type, ct=ct)

    def above(self, drls: Sequence[LocalDrl], reference: ReferenceData) -> list[Comparison]:
        """Every report above its local DRL or an applicable published level."""
        return statistics.reports_above(self.session, drls, reference)

    def alert_samples(self, levels: AlertLevels) -> list[DoseSample]:
        """Reports whose own DAP or reference-point dose reaches a level."""
        return statistics.alert_samples(self.session, levels)

    def patient_sum_samples(self, levels: AlertLevels) -> list[DoseSample]:
        """Every report of the patients whose all-time sums reach a level (candidates for window sums)."""
        return statistics.samples_of_patients(
            self.session, statistics.patient_sum_candidates(self.session, levels)
        )

    def patient_samples(self, patient_id: str | None) -> list[DoseSample]:
        """Every report of one patient, in date order."""
        return statistics.patient_samples(self.session, patient_id)

    # peak skin dose
    def skin(self, report_id: int) -> SkinDose | None:
        """The stored estimate of a report."""
        return skin.get_skin(self.session, report_id)

    def save_skin(self, report_id: int, estimate: SkinDose) -> None:
        """Store the estimate (or the reason there is none) of a new report."""
        skin.save_skin(self.session, report_id, estimate)

    def save_pending(self, files: Sequence[tuple[int, bytes]], note: str) -> None:
        """Keep the files of reports whose estimate is made after the import."""
        skin.save_pending_many(self.session, files, note)

    def pending(self, report_ids: Sequence[int] | None = None, limit: int | None = None) -> list[int]:
        """Reports waiting for their estimate, oldest first."""
        return skin.pending_reports(self.session, report_ids, limit)

    def pending_count(self) -> int:
        """How many reports wait for their estimate."""
        return skin.pending_count(self.session)

    def pending_file(self, report_id: int) -> bytes | None:
        """The kept file of a pending report."""
        return skin.pending_file(self.session, report_id)

    def replace_skin(self, report_id: int, estimate: SkinDose) -> bool:
        """Store a pending report's estimate; ``False`` when it is no longer pending."""
        return skin.replace_skin(self.session, report_id, estimate)

    def skin_samples(self, threshold: float | None) -> list[SkinSample]:
        """The estimates an alert level can concern."""
        return skin.skin_samples(self.session, threshold)

    def patient_skin_samples(self, patients: Iterable[str]) -> list[SkinSample]:
        """Every estimate of the given patients."""
        return skin.patient_skin_samples(self.session, list(patients))

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"DoseRepository({self.session!r})"
