"""Dose statistics computed in the database: quartiles per group and month, local DRL medians, alert samples.

Nothing here loads or walks every report. Quartiles use linear interpolation between order statistics (the
"inclusive" method, as PostgreSQL's ``percentile_cont``) and are exact: the maintained dose bins of each group
(``dose_tally_bin``, migration ``0014_dose``) tell which bin holds each wanted order statistic and how many
doses lie below it; the value is read from the index that holds the group's doses in order, entered at the
bin's lower edge (``WHERE audit_dose >= edge ORDER BY audit_dose LIMIT 2 OFFSET k``, k less than the bin's
count). Whisker ends and outlier points are index seeks. The same statements run on SQLite and PostgreSQL;
the cost of a dashboard grows with the number of groups and months, not with the number of reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, union
from sqlalchemy.orm import Session

from painguide.dose.dashboard import (
    OUTLIERS_PER_GROUP,
    POINTS_PER_GROUP,
    GroupBy,
    GroupStat,
    MonthStat,
    Spread,
    group_key,
)
from painguide.dose.reference import AlertLevels, Comparison, DoseSample, LocalDrl, ReferenceData
from painguide.store.dose_tables import DosePatientTallyRow, DoseReportRow
from painguide.store.dose_tally import bin_edge, tally_bins

__all__ = [
    "alert_samples",
    "group_stats",
    "month_stats",
    "patient_samples",
    "patient_sum_candidates",
    "procedure_median",
    "procedure_medians",
    "reports_above",
    "samples_of_patients",
]

R, P = DoseReportRow, DosePatientTallyRow
_QUARTILES = (0.25, 0.5, 0.75)
_PROJECTION = ["fluoro", "radiography"]
_SAMPLE_COLUMN = {"dap": "dap_total_gy_cm2", "dlp": "dlp_total_mgy_cm", "rp_dose": "rp_dose_total_mgy"}
_GROUP_COLUMNS: dict[GroupBy, tuple[Any, ...]] = {
    "procedure": (R.procedure_type,),
    "device": (R.manufacturer, R.model, R.station_name),
    "operator": (R.operator,),
}


def _equal(column: Any, value: Any) -> ColumnElement[bool]:
    """``column = value``, or ``IS NULL`` (written so that both databases use the index)."""
    return column.is_(None) if value is None else column == value  # type: ignore[no-any-return]


def _walk(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    counted: Sequence[tuple[int, int]],
    index: int,
) -> list[float]:
    """The ``index``-th (0-based) and the next audit dose of a group in order, read from the group's index.

    ``counted`` (the group's maintained bins) names the bin holding the ``index``-th dose and how many doses
    lie below it, so the index is entered at the bin's lower edge and walked at most one bin's doses.
    """
    before, located = 0, None
    for number, reports in counted:
        if before + reports > index:
            located = number
            break
        before += reports
    whole = select(R.audit_dose).where(*where).order_by(R.audit_dose).limit(2)
    if located is None:  # bins out of step with the reports (never expected): walk from the group's start
        return [float(v) for v in session.scalars(whole.offset(index)) if v is not None]
    ordered = select(R.audit_dose).where(*where)
    if located >= 0:
        edge = bin_edge(located)
        ordered = ordered.where(R.audit_dose >= edge) if edge > 0 else ordered.where(R.audit_dose > 0)
    else:  # bin -1 (doses at or below zero) begins the group
        before = 0
    walk = ordered.order_by(R.audit_dose).limit(2).offset(index - before)
    found = [float(v) for v in session.scalars(walk) if v is not None]
    if not found:
        found = [float(v) for v in session.scalars(whole.offset(index)) if v is not None]
    return found


def _quantiles(
    session: Session,
    columns: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    probabilities: Sequence[float],
    bins: Callable[[], dict[tuple[Any, ...], list[tuple[int, int]]]],
) -> list[tuple[tuple[Any, ...], int, list[float]]]:
    """Per group (distinct value of ``columns``): the key, the count of doses and the doses' quantiles.

    Quantiles interpolate linearly between order statistics (the "inclusive" method, as PostgreSQL's
    ``percentile_cont``), exact: ``bins`` gives each group's maintained dose bins, which locate every order
    statistic to within one bin; its value is then read from the index (the same statements on both
    databases).
    """
    results = []
    for key, counted in bins().items():
        count = sum(n for _, n in counted)
        if count == 0:
            continue
        where = [
            R.audit_dose.is_not(None),
            *conditions,
            *(_equal(c, v) for c, v in zip(columns, key, strict=True)),
        ]
        values = []
        for probability in probabilities:
            position = (count - 1) * probability
            low = int(position)
            pair = _walk(session, where, counted, low)
            upper = pair[1] if len(pair) > 1 else pair[0]
            values.append(pair[0] + (upper - pair[0]) * (position - low))
        results.append((key, count, values))
    return results


def _whiskers_and_points(
    session: Session, group: Sequence[ColumnElement[bool]], count: int, q1: float, q3: float
) -> tuple[float, float, tuple[tuple[float, int], ...]]:
    lower, upper = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    points = select(R.audit_dose, R.id).where(*group, R.audit_dose.is_not(None))
    if count <= POINTS_PER_GROUP:  # every report: the whiskers follow from the points
        every = session.execute(points.order_by(R.study_datetime, R.id))
        shown = tuple((float(v), int(i)) for v, i in every if v is not None)
        inside = [v for v, _ in shown if lower <= v <= upper] or [q1, q3]
        return min(inside), max(inside), shown
    ends = select(
        select(func.min(R.audit_dose)).where(*group, R.audit_dose >= lower).scalar_subquery(),
        select(func.max(R.audit_dose)).where(*group, R.audit_dose <= upper).scalar_subquery(),
    )
    low, high = session.execute(ends).one()
    # the highest outliers first: those above the upper whisker, then (if room is left) those below the lower;
    # two index seeks (one condition with OR would walk the whole group when there are few high outliers)
    high_points = points.where(R.audit_dose > upper).order_by(R.audit_dose.desc(), R.id.desc())
    rows: list[Any] = list(session.execute(high_points.limit(OUTLIERS_PER_GROUP)))
    if len(rows) < OUTLIERS_PER_GROUP:
        low_points = points.where(R.audit_dose < lower).order_by(R.audit_dose.desc(), R.id.desc())
        rows += session.execute(low_points.limit(OUTLIERS_PER_GROUP - len(rows)))
    shown = tuple((float(v), int(i)) for v, i in rows if v is not None)
    return float(low if low is not None else q1), float(high if high is not None else q3), shown


def group_stats(session: Session, *, kind: str, group_by: GroupBy) -> list[GroupStat]:
    """Count, quartiles, whisker ends and points of each procedure type, device or operator of one kind."""
    columns = _GROUP_COLUMNS[group_by]
    stats = []
    bins = partial(tally_bins, session, group_by, [kind])
    for key, count, (q1, median, q3) in _quantiles(session, columns, [R.kind == kind], _QUARTILES, bins):
        group = [R.kind == kind, *(_equal(c, v) for c, v in zip(columns, key, strict=True))]
        low, high, points = _whiskers_and_points(session, group, count, q1, q3)
        stats.append(GroupStat(group_key(group_by, key), Spread(count, q1, median, q3, low, high), points))
    return stats


def month_stats(session: Session, *, kind: str) -> list[MonthStat]:
    """Count, median and quartiles of each calendar month with reports of one kind, in date order."""
    bins = partial(tally_bins, session, "month", [kind])
    conditions = [R.kind == kind, R.study_month.is_not(None)]
    rows = [
        r for r in _quantiles(session, [R.study_month], conditions, _QUARTILES, bins) if r[0][0] is not None
    ]
    months = []
    for (month,), count, (q1, median, q3) in sorted(rows, key=lambda r: int(r[0][0])):
        months.append(MonthStat(date(int(month) // 100, int(month) % 100, 1), count, median, q1, q3))
    return months


def _procedure_bins(
    session: Session, kinds: list[str], only: str | None
) -> dict[tuple[Any, ...], list[tuple[int, int]]]:
    return {
        key: counted
        for key, counted in tally_bins(session, "procedure", kinds).items()
        if key[0] is not None and only in (None, key[0])
    }


def procedure_medians(session: Session) -> list[LocalDrl]:
    """Local DRLs: per procedure type, the median DAP of projection reports and the median DLP of CT."""
    drls = []
    for quantity, condition, kinds in (("dap", R.kind != "ct", _PROJECTION), ("dlp", R.kind == "ct", ["ct"])):
        counts = partial(_procedure_bins, session, kinds, None)
        rows = _quantiles(
            session, [R.procedure_type], [R.procedure_type.is_not(None), condition], [0.5], counts
        )
        drls += [LocalDrl(str(key[0]), quantity, values[0], count) for key, count, values in rows]
    return sorted(drls, key=lambda d: (d.quantity != "dap", d.procedure_type))


def procedure_median(session: Session, procedure_type: str, *, ct: bool) -> LocalDrl | None:
    """The local DRL of one procedure type (projection DAP, or CT DLP)."""
    condition = R.kind == "ct" if ct else R.kind != "ct"
    counts = partial(_procedure_bins, session, ["ct"] if ct else _PROJECTION, procedure_type)
    rows = _quantiles(
        session, [R.procedure_type], [R.procedure_type == procedure_type, condition], [0.5], counts
    )
    return LocalDrl(procedure_type, "dlp" if ct else "dap", rows[0][2][0], rows[0][1]) if rows else None


def _sample_columns() -> Select[Any]:
    header = ("id", "patient_id", "study_datetime", "procedure_type", "kind", "manufacturer", "model")
    figures = ("station_name", "operator", "dap_total_gy_cm2", "rp_dose_total_mgy", "dlp_total_mgy_cm")
    return select(*(getattr(R, name) for name in (*header, *figures, "fluoro_time_s")))


def _samples(session: Session, stmt: Select[Any]) -> list[DoseSample]:
    samples = []
    for row in session.execute(stmt):
        device = " ".join(x for x in (row.manufacturer, row.model, row.station_name) if x) or None
        samples.append(
            DoseSample(
                report_id=row.id,
                patient_id=row.patient_id,
                study_datetime=row.study_datetime,
                procedure_type=row.procedure_type,
                kind=row.kind,
                device=device,
                operator=row.operator,
                dap_total_gy_cm2=row.dap_total_gy_cm2,
                rp_dose_total_mgy=row.rp_dose_total_mgy,
                dlp_total_mgy_cm=row.dlp_total_mgy_cm,
                fluoro_time_s=row.fluoro_time_s,
            )
        )
    return samples


def alert_samples(session: Session, levels: AlertLevels) -> list[DoseSample]:
    """Reports whose own DAP or reference-point dose reaches an alert level, in date order."""
    parts = []
    if levels.dap_gy_cm2 is not None:
        parts.append(select(R.id).where(R.dap_total_gy_cm2 >= levels.dap_gy_cm2))
    if levels.rp_dose_mgy is not None:
        parts.append(select(R.id).where(R.rp_dose_total_mgy >= levels.rp_dose_mgy))
    if not parts:
        return []
    ids = [int(i) for i in session.scalars(union(*parts))]
    return _by_ids(session, ids)


def _by_ids(session: Session, ids: Sequence[int]) -> list[DoseSample]:
    samples = []
    for start in range(0, len(ids), 500):  # stay below SQLite's bound-parameter limit
        samples += _samples(session, _sample_columns().where(R.id.in_(ids[start : start + 500])))
    return sorted(samples, key=lambda s: (s.study_datetime or datetime.min, s.report_id))


def patient_sum_candidates(session: Session, levels: AlertLevels) -> list[str]:
    """Patients whose doses could add up to an alert level in some window (their all-time sum reaches it).

    A sum over a window is at most the sum of the absolute values of all the patient's reports (kept in
    ``dose_patient_tally``), so the patients left out cannot raise a per-patient alert.
    """
    parts = []
    if levels.dap_gy_cm2 is not None:
        parts.append(select(P.patient_id).where(P.dap_sum_gy_cm2 >= levels.dap_gy_cm2))
    if levels.rp_dose_mgy is not None:
        parts.append(select(P.patient_id).where(P.rp_sum_mgy >= levels.rp_dose_mgy))
    return sorted(str(p) for p in session.scalars(union(*parts))) if parts else []


def samples_of_patients(session: Session, patients: Iterable[str]) -> list[DoseSample]:
    """Every report of the given patients, in date order."""
    wanted = list(patients)
    samples = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        samples += _samples(session, _sample_columns().where(R.patient_id.in_(chunk)))
    return sorted(samples, key=lambda s: (s.study_datetime or datetime.min, s.report_id))


def reports_above(session: Session, drls: Sequence[LocalDrl], reference: ReferenceData) -> list[Comparison]:
    """Every report above its procedure type's local DRL or a published level that applies to it."""
    comparisons = []
    for drl in drls:
        condition = R.kind == "ct" if drl.quantity == "dlp" else R.kind != "ct"
        stmt = select(R.id, R.audit_dose).where(
            R.procedure_type == drl.procedure_type, condition, R.audit_dose > drl.median
        )
        for report_id, found in session.execute(stmt.order_by(R.id)):
            value = float(found or 0.0)
            ratio = value / drl.median if drl.median > 0 else float("inf")
            comparisons.append(
                Comparison(
                    report_id,
                    f"local-median:{drl.procedure_type}",
                    drl.quantity,
                    value,
                    drl.median,
                    ratio,
                    True,
                    "site data",
                    f"local (n={drl.count})",
                )
            )
    for level in reference.levels:
        if level.procedure_type is None or not level.value:
            continue
        column = getattr(R, _SAMPLE_COLUMN[level.quantity])
        stmt = select(R.id, column).where(R.procedure_type == level.procedure_type, column > level.value)
        for report_id, found in session.execute(stmt.order_by(R.id)):
            value = float(found or 0.0)
            comparisons.append(
                Comparison(
                    report_id,
                    level.id,
                    level.quantity,
                    value,
                    level.value,
                    value / level.value,
                    True,
                    level.source,
                    level.status,
                )
            )
    return comparisons


def patient_samples(session: Session, patient_id: str | None) -> list[DoseSample]:
    """Every report of one patient (none for a report without patient id), in date order."""
    return samples_of_patients(session, [patient_id]) if patient_id else []
