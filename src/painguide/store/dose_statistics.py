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

from sqlalchemy import Select, select, text, union
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
from painguide.store.dose_tally import bin_edge, tally_key, tally_positions

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
_QUARTILES = ((1, 4), (1, 2), (3, 4))
_MEDIAN = (1, 2)
_BATCH = 200  # parts per UNION ALL (SQLite allows 500 compound terms)
_PROJECTION = ["fluoro", "radiography"]
_SAMPLE_COLUMN = {"dap": "dap_total_gy_cm2", "dlp": "dlp_total_mgy_cm", "rp_dose": "rp_dose_total_mgy"}
_GROUP_COLUMNS: dict[GroupBy, tuple[str, ...]] = {
    "procedure": ("procedure_type",),
    "device": ("manufacturer", "model", "station_name"),
    "operator": ("operator",),
}
_OPERATORS = frozenset({"=", "!=", ">=", ">", "<=", "<"})
Condition = tuple[str, str, Any]
"""``(column of dose_report, operator, value)``; ``("x", "=", None)`` is ``x IS NULL``, ``("x", "!=", None)``
``x IS NOT NULL`` (so that both databases use the index for a group whose key is null)."""


class _Statement:
    """Hand-written SQL over ``dose_report`` with named parameters, for statements of many similar parts.

    Building hundreds of small SQLAlchemy selects (and their cache keys) per dashboard cost more than the
    database work; these parts are strings of fixed shape with every value a bound parameter.
    """

    def __init__(self) -> None:
        self.params: dict[str, object] = {}

    def bind(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def where(self, conditions: Sequence[Condition]) -> str:
        parts = ["audit_dose IS NOT NULL"]
        for column, operator, value in conditions:
            if column not in _COLUMNS or operator not in _OPERATORS:
                raise ValueError(f"not a dose statistics condition: {column} {operator}")
            if value is None:
                parts.append(f"{column} IS {'NOT ' if operator == '!=' else ''}NULL")
            else:
                parts.append(f"{column} {operator} {self.bind(value)}")
        return " AND ".join(parts)


_COLUMNS = frozenset(
    {
        "kind",
        "procedure_type",
        "operator",
        "manufacturer",
        "model",
        "station_name",
        "study_month",
        "audit_dose",
    }
)


def _batched(
    session: Session, parts: Sequence[tuple[str, Sequence[Condition], str]], columns: str
) -> list[list[Any]]:
    """The rows of each part, read in a few statements (``UNION ALL`` of subqueries).

    A part is ``(select head, conditions, tail)``: ``SELECT {head} FROM dose_report WHERE {conditions}
    {tail}``, the tail holding its own ``ORDER BY ... LIMIT ... OFFSET`` (values inline as integers). Rows
    come back with the part's number dropped; the order inside a part is not kept (callers sort).
    """
    found: list[list[object]] = [[] for _ in parts]
    for start in range(0, len(parts), _BATCH):
        statement = _Statement()
        selects = []
        for number, (head, conditions, tail) in enumerate(parts[start : start + _BATCH], start):
            inner = f"SELECT {head} FROM dose_report WHERE {statement.where(conditions)} {tail}"
            selects.append(f"SELECT {number} AS part, {columns} FROM ({inner}) AS t{number}")
        for row in session.execute(text(" UNION ALL ".join(selects)), statement.params):
            found[int(row[0])].append(tuple(row[1:]))
    return found


def _edge(number: int | None) -> list[Condition]:
    """The condition that enters a group's index at the lower edge of dose bin ``number``."""
    if number is None or number < 0:
        return []
    edge = bin_edge(number)
    return [("audit_dose", ">=", edge)] if edge > 0 else [("audit_dose", ">", 0.0)]


def _quantiles(
    session: Session,
    columns: Sequence[str],
    conditions: Sequence[Condition],
    fractions: Sequence[tuple[int, int]],
    positions: Callable[[], dict[tuple[object, ...], tuple[int, list[tuple[int, int, int]]]]],
) -> list[tuple[tuple[Any, ...], int, list[float]]]:
    """Per group (distinct value of ``columns``): the key, the count of doses and the doses' quantiles.

    Quantiles (``fractions`` a/b) interpolate linearly between order statistics (the "inclusive" method, as
    PostgreSQL's ``percentile_cont``) and are exact: ``positions`` gives, per group, the maintained dose bins
    that hold the wanted order statistics; each value is read from the group's index entered at its bin's
    lower edge, all of them in a few statements (the same on both databases).
    """
    groups = []
    walks: list[tuple[str, list[Condition], str]] = []
    wheres = []
    for key, (count, bins) in positions().items():
        where = [*conditions, *((c, "=", v) for c, v in zip(columns, key, strict=True))]
        wanted = []
        for a, b in fractions:
            index = (count - 1) * a // b
            held = [(n, below) for n, below, inside in bins if below <= index < below + inside]
            if held and held[0][0] < 0:  # bin -1 (doses at or below zero) begins the group
                held = [(-1, 0)]
            number, below = held[0] if held else (None, 0)  # none: bins out of step (walk from the start)
            wanted.append(((count - 1) * a / b, index, len(walks)))
            tail = f"ORDER BY audit_dose LIMIT 2 OFFSET {int(index - below)}"
            walks.append(("audit_dose", [*where, *_edge(number)], tail))
            wheres.append(where)
        groups.append((key, count, wanted))
    found = _batched(session, walks, "audit_dose")
    results = []
    for key, count, wanted in groups:
        values = []
        for position, index, number in wanted:
            pair = sorted(float(v) for (v,) in found[number] if v is not None)
            if (
                not pair
            ):  # the bins out of step with the reports (never expected): walk from the group's start
                retry = ("audit_dose", wheres[number], f"ORDER BY audit_dose LIMIT 2 OFFSET {int(index)}")
                pair = sorted(
                    float(v) for (v,) in _batched(session, [retry], "audit_dose")[0] if v is not None
                )
            upper = pair[1] if len(pair) > 1 else pair[0]
            values.append(pair[0] + (upper - pair[0]) * (position - index))
        results.append((key, count, values))
    return results


def _spreads(
    session: Session, groups: Sequence[tuple[list[Condition], int, float, float]]
) -> list[tuple[float, float, tuple[tuple[float, int], ...]]]:
    """Per group (conditions, count, q1, q3): whisker ends and the points drawn, in a few statements.

    A group of at most ``POINTS_PER_GROUP`` reports shows every report; a larger one its outliers, the highest
    first: those above the upper whisker, then (if room is left) those below the lower, each an index seek.
    """
    ends: list[tuple[str, Sequence[Condition], str]] = []
    outliers: list[tuple[str, Sequence[Condition], str]] = []
    small: list[tuple[str, Sequence[Condition], str]] = []
    highest = f"ORDER BY audit_dose DESC, id DESC LIMIT {int(OUTLIERS_PER_GROUP)}"
    for group, count, q1, q3 in groups:
        lower, upper = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        if count <= POINTS_PER_GROUP:
            small.append(("audit_dose, id, study_datetime", group, ""))
            continue
        ends.append(("min(audit_dose) AS v", [*group, ("audit_dose", ">=", lower)], ""))
        ends.append(("max(audit_dose) AS v", [*group, ("audit_dose", "<=", upper)], ""))
        outliers.append(("audit_dose, id", [*group, ("audit_dose", ">", upper)], highest))
        outliers.append(("audit_dose, id", [*group, ("audit_dose", "<", lower)], highest))
    found_ends = _batched(session, ends, "v")
    found_outliers = _batched(session, outliers, "audit_dose, id")
    found_small = _batched(session, small, "audit_dose, id, study_datetime")
    results = []
    large = every = 0
    for _group, count, q1, q3 in groups:
        lower, upper = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        if count <= POINTS_PER_GROUP:  # every report: the whiskers follow from the points
            ordered = sorted(found_small[every], key=lambda r: (str(r[2] or ""), r[1]))
            shown = tuple((float(v), int(i)) for v, i, _when in ordered if v is not None)
            every += 1
            inside = [v for v, _ in shown if lower <= v <= upper] or [q1, q3]
            results.append((min(inside), max(inside), shown))
            continue
        low = found_ends[2 * large][0][0] if found_ends[2 * large] else None
        high = found_ends[2 * large + 1][0][0] if found_ends[2 * large + 1] else None

        def highest_first(rows: list[Any]) -> list[tuple[float, int]]:
            return sorted(((float(v), int(i)) for v, i in rows if v is not None), reverse=True)

        above = highest_first(found_outliers[2 * large])
        below = highest_first(found_outliers[2 * large + 1])
        shown = tuple((above + below)[:OUTLIERS_PER_GROUP])
        large += 1
        results.append(
            (float(low if low is not None else q1), float(high if high is not None else q3), shown)
        )
    return results


def group_stats(session: Session, *, kind: str, group_by: GroupBy) -> list[GroupStat]:
    """Count, quartiles, whisker ends and points of each procedure type, device or operator of one kind."""
    columns = _GROUP_COLUMNS[group_by]
    positions = partial(tally_positions, session, group_by, [kind], _QUARTILES)
    quartiles = _quantiles(session, columns, [("kind", "=", kind)], _QUARTILES, positions)
    groups = [
        ([("kind", "=", kind), *((c, "=", v) for c, v in zip(columns, key, strict=True))], count, q1, q3)
        for key, count, (q1, _median, q3) in quartiles
    ]
    stats = []
    for (key, count, (q1, median, q3)), (low, high, points) in zip(
        quartiles, _spreads(session, groups), strict=True
    ):
        stats.append(GroupStat(group_key(group_by, key), Spread(count, q1, median, q3, low, high), points))
    return stats


def month_stats(session: Session, *, kind: str) -> list[MonthStat]:
    """Count, median and quartiles of each calendar month with reports of one kind, in date order."""
    positions = partial(tally_positions, session, "month", [kind], _QUARTILES)
    conditions: list[Condition] = [("kind", "=", kind), ("study_month", "!=", None)]
    rows = [
        r
        for r in _quantiles(session, ["study_month"], conditions, _QUARTILES, positions)
        if r[0][0] is not None
    ]
    months = []
    for (month,), count, (q1, median, q3) in sorted(rows, key=lambda r: int(r[0][0])):
        months.append(MonthStat(date(int(month) // 100, int(month) % 100, 1), count, median, q1, q3))
    return months


def _procedure_positions(
    session: Session, kinds: list[str], only: str | None
) -> dict[tuple[object, ...], tuple[int, list[tuple[int, int, int]]]]:
    only_key = tally_key([only]) if only is not None else None
    found = tally_positions(session, "procedure", kinds, [_MEDIAN], only=only_key)
    return {key: value for key, value in found.items() if key[0] is not None}


def procedure_medians(session: Session) -> list[LocalDrl]:
    """Local DRLs: per procedure type, the median DAP of projection reports and the median DLP of CT."""
    drls = []
    for quantity, condition, kinds in (
        ("dap", ("kind", "!=", "ct"), _PROJECTION),
        ("dlp", ("kind", "=", "ct"), ["ct"]),
    ):
        positions = partial(_procedure_positions, session, kinds, None)
        rows = _quantiles(session, ["procedure_type"], [condition], [_MEDIAN], positions)
        drls += [LocalDrl(str(key[0]), quantity, values[0], count) for key, count, values in rows]
    return sorted(drls, key=lambda d: (d.quantity != "dap", d.procedure_type))


def procedure_median(session: Session, procedure_type: str, *, ct: bool) -> LocalDrl | None:
    """The local DRL of one procedure type (projection DAP, or CT DLP)."""
    condition: Condition = ("kind", "=", "ct") if ct else ("kind", "!=", "ct")
    positions = partial(_procedure_positions, session, ["ct"] if ct else _PROJECTION, procedure_type)
    rows = _quantiles(session, ["procedure_type"], [condition], [_MEDIAN], positions)
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
