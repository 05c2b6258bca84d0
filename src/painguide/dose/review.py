"""Use cases for reviewing stored dose data: dashboard, report list and detail, alerts, local DRLs, exports.

Statistics are computed by the database (:mod:`painguide.store.dose_statistics`), so no use case loads every
stored report: the answer time grows with the number of groups and months, not with the number of reports.
Every read of patient dose data (report list and detail, alerts with patient ids, exports) is written to the
audit trail in the same transaction as the read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from painguide.dose.dashboard import DashboardData, GroupBy, dashboard_from_stats
from painguide.dose.models import ReportFilter, SkinDose, StoredReport
from painguide.dose.reference import (
    Alert,
    AlertLevels,
    Comparison,
    DoseSample,
    LocalDrl,
    ReferenceData,
    SkinSample,
    compare,
    find_skin_alerts,
    load_reference_data,
    patient_sum_alerts,
    report_alerts,
    with_overrides,
)
from painguide.dose.service import estimate_pending_skin_doses
from painguide.store.uow import UnitOfWork

__all__ = [
    "AlertList",
    "DashboardView",
    "DrlTable",
    "ReportPage",
    "ReportView",
    "alert_list",
    "dashboard_view",
    "drl_exceedances",
    "drl_table",
    "export_reports",
    "report_page",
    "report_view",
    "sample_of",
]

UowFactory = Callable[[], UnitOfWork]
DASHBOARD_ALERTS = 50
"""How many of the newest alerts the dashboard lists (all of them on the alerts page)."""


def _levels(
    reference: ReferenceData,
    dap: float | None,
    rp: float | None,
    window: timedelta | None,
    skin: float | None = None,
) -> AlertLevels:
    return with_overrides(
        reference.alerts, dap_gy_cm2=dap, rp_dose_mgy=rp, window=window, peak_skin_dose_mgy=skin
    )


def _newest_first(alert: Alert) -> tuple[datetime, int, str]:
    return (alert.window_end or datetime.min, max(alert.report_ids), alert.scope)


def _all_alerts(uow: UnitOfWork, levels: AlertLevels) -> list[Alert]:
    """Report alerts in date order, then per-patient sum alerts (only candidate patients are loaded), then
    peak skin dose alerts (only estimates at the level and of patients whose estimates can add up to it).
    """

    reports = report_alerts(uow.dose.alert_samples(levels), levels)
    patients = uow.dose.patient_sum_samples(levels)
    skins = find_skin_alerts(uow.dose.skin_samples(levels.peak_skin_dose_mgy), levels)
    return reports + patient_sum_alerts(patients, levels) + skins


@dataclass(frozen=True, slots=True)
class AlertList:
    """One page of alerts (or all of them) with the levels they were found at."""

    alerts: list[Alert]
    total: int
    levels: AlertLevels
    skin_pending: int = 0
    """Reports whose peak skin dose is not estimated yet (no skin dose alert can be raised for them yet)."""


def alert_list(
    uow_factory: UowFactory,
    *,
    actor: str,
    dap_alert_gy_cm2: float | None = None,
    rp_alert_mgy: float | None = None,
    window: timedelta | None = None,
    skin_alert_mgy: float | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> AlertList:
    """High-dose alerts: single reports and per-patient sums over the rolling window (levels overridable).

    Without ``newest_first``: report alerts by date, then per-patient sum alerts, then peak skin dose alerts
    (the CLI's order).
    """
    levels = _levels(load_reference_data(), dap_alert_gy_cm2, rp_alert_mgy, window, skin_alert_mgy)
    with uow_factory() as uow:
        alerts = _all_alerts(uow, levels)
        pending = uow.dose.pending_count()
        if newest_first:
            alerts.sort(key=_newest_first, reverse=True)
        page = alerts[offset : None if limit is None else offset + limit]
        detail: dict[str, object] = {"alerts": len(page), "offset": offset}
        uow.audit.record(actor, "dose.alerts.read", "dose_report", "*", detail)
        uow.commit()
    return AlertList(page, len(alerts), levels, pending)


@dataclass(frozen=True, slots=True)
class DrlTable:
    """The site's local DRLs beside the published reference levels."""

    local_drls: list[LocalDrl]
    reference: ReferenceData


def drl_table(uow_factory: UowFactory) -> DrlTable:
    """Local DRLs (median per procedure type, computed by the database) and the published levels."""

    with uow_factory() as uow:
        drls = uow.dose.local_drls()
    return DrlTable(drls, load_reference_data())


def drl_exceedances(uow_factory: UowFactory, table: DrlTable) -> list[Comparison]:
    """Every report above its local DRL or an applicable published level (as ``dose drl --json`` lists)."""

    with uow_factory() as uow:
        return uow.dose.above(table.local_drls, table.reference)


@dataclass(frozen=True, slots=True)
class DashboardView:
    """Everything the dashboard page shows."""

    data: DashboardData
    local_drls: list[LocalDrl]
    reference: ReferenceData
    alert_levels: AlertLevels
    alerts: list[Alert]
    alert_count: int


def dashboard_view(
    uow_factory: UowFactory, *, kind: str, group_by: GroupBy, names: dict[str, str], actor: str
) -> DashboardView:
    """Box plots per group, monthly trend, local DRLs and the newest alerts of one kind of report."""

    reference = load_reference_data()
    levels = reference.alerts
    with uow_factory() as uow:
        stats = uow.dose.group_stats(kind=kind, group_by=group_by)
        months = uow.dose.month_stats(kind=kind)
        drls = uow.dose.local_drls()
        alerts = sorted(_all_alerts(uow, levels), key=_newest_first, reverse=True)
        shown = alerts[:DASHBOARD_ALERTS]
        detail: dict[str, object] = {"kind": kind, "by": group_by, "alerts": len(shown)}
        uow.audit.record(actor, "dose.dashboard.read", "dose_report", "*", detail)
        uow.commit()
    data = dashboard_from_stats(
        stats, months, kind=kind, group_by=group_by, names=names, levels=reference.levels, alerts=levels
    )
    return DashboardView(data, drls, reference, levels, shown, len(alerts))


@dataclass(frozen=True, slots=True)
class ReportPage:
    """One page of the report list."""

    items: list[StoredReport]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def report_page(
    uow_factory: UowFactory,
    where: ReportFilter,
    *,
    actor: str,
    page: int = 1,
    per_page: int = 50,
    after: int | None = None,
    before: int | None = None,
) -> ReportPage:
    """Reports matching ``where``, newest study first, one page at a time (audited: patient data).

    With ``after`` (``before``), the page holds the reports right after (before) that report id, found by
    index seeks however deep the page (the list's "older"/"newer" links); ``page`` is then only its number.
    """

    page = max(1, page)
    with uow_factory() as uow:
        total = uow.dose.count(where)
        offset = (page - 1) * per_page
        items = uow.dose.page(where, limit=per_page, offset=offset, after=after, before=before)
        detail: dict[str, object] = {"page": page, "shown": len(items), **where.described()}
        uow.audit.record(actor, "dose.reports.read", "dose_report", "*", detail)
        uow.commit()
    return ReportPage(items, total, page, per_page)


@dataclass(frozen=True, slots=True)
class ReportView:
    """One report with its comparisons with reference levels and the alerts it is part of."""

    stored: StoredReport
    comparisons: list[Comparison]
    alerts: list[Alert]
    skin: SkinDose | None
    levels: AlertLevels


def sample_of(stored: StoredReport) -> DoseSample:
    """The dose figures of a stored report (what comparisons and alerts work on)."""
    report, totals = stored.report, stored.report.totals
    device = " ".join(
        x for x in (report.device.manufacturer, report.device.model, report.device.station) if x
    )
    return DoseSample(
        report_id=stored.id,
        patient_id=report.patient.patient_id,
        study_datetime=report.study_datetime,
        procedure_type=stored.procedure_type,
        kind=report.kind.value,
        device=device or None,
        operator=report.operator,
        dap_total_gy_cm2=totals.dap_total_gy_cm2,
        rp_dose_total_mgy=totals.rp_dose_total_mgy,
        dlp_total_mgy_cm=totals.dlp_total_mgy_cm,
        fluoro_time_s=totals.fluoro_time_s,
    )


def report_view(uow_factory: UowFactory, report_id: int, *, actor: str) -> ReportView:
    """One report with events, its comparisons and its alerts (audited: patient data).

    A peak skin dose the import left pending is estimated now (once; about a second) and stored.
    """

    estimate_pending_skin_doses(uow_factory, actor=actor, report_ids=[report_id])
    reference = load_reference_data()
    levels = reference.alerts
    with uow_factory() as uow:
        stored = uow.dose.get(report_id)
        sample = sample_of(stored)
        local: dict[str, LocalDrl] = {}
        if stored.procedure_type:
            drl = uow.dose.local_drl(stored.procedure_type, ct=sample.kind == "ct")
            local = {stored.procedure_type: drl} if drl is not None else {}
        sums = patient_sum_alerts(uow.dose.patient_samples(sample.patient_id), levels)
        skin = uow.dose.skin(report_id)
        skins = find_skin_alerts(_own_skin(uow, sample, skin), levels)
        uow.audit.record(actor, "dose.report.read", "dose_report", str(report_id), {})
        uow.commit()
    alerts = report_alerts([sample], levels) + [a for a in sums + skins if report_id in a.report_ids]
    return ReportView(stored, compare(sample, reference, local), alerts, skin, levels)


def _own_skin(uow: UnitOfWork, sample: DoseSample, skin: SkinDose | None) -> list[SkinSample]:
    """The estimates of the report's patient, or the report's own estimate when it names no patient."""
    if sample.patient_id:
        return uow.dose.patient_skin_samples([sample.patient_id])
    if skin is None or skin.peak_skin_dose_mgy is None:
        return []
    return [SkinSample(sample.report_id, None, sample.study_datetime, skin.peak_skin_dose_mgy)]


def export_reports(
    uow_factory: UowFactory, where: ReportFilter, *, actor: str, fmt: str
) -> tuple[int, Iterator[StoredReport]]:
    """The number of reports an export holds and an iterator over them, read a thousand at a time.

    The export is audited (who, which filters, how many reports, which format) before the first row is read.
    """

    with uow_factory() as uow:
        total = uow.dose.count(where)
        detail: dict[str, object] = {"format": fmt, "reports": total, **where.described()}
        uow.audit.record(actor, "dose.export", "dose_report", "*", detail)
        uow.commit()
    return total, _stream(uow_factory, where)


def _stream(uow_factory: UowFactory, where: ReportFilter) -> Iterator[StoredReport]:

    with uow_factory() as uow:
        yield from uow.dose.iterate(where)
