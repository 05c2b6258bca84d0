"""What the dose dashboard shows, computed from dose samples (pure: no plotting library, no database).

Groups (procedure type by catalogue name, device or operator) with their count, quartiles and whisker ends,
the values shown as points (every value of a small group; of a large one the values beyond its whiskers), the
published reference levels that apply to a group, the high-dose alert level and whether it lies within the
plotted range, and monthly medians with interquartile range for the trend.

The figures come either from samples (:func:`dashboard_data`, small data and tests) or from statistics the
database computed (:func:`dashboard_from_stats`); both give the same numbers: quartiles by linear
interpolation between order statistics (the "inclusive" method, PostgreSQL's ``percentile_cont``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from painguide.dose.procedures import short_name
from painguide.dose.reference import AlertLevels, DoseSample, ReferenceLevel

__all__ = [
    "OUTLIERS_PER_GROUP",
    "POINTS_PER_GROUP",
    "QUANTITY_OF_KIND",
    "DashboardData",
    "Group",
    "GroupBy",
    "GroupStat",
    "MonthStat",
    "Spread",
    "dashboard_data",
    "dashboard_from_stats",
    "group_key",
    "monthly_stats",
    "procedure_label",
    "quantile",
    "spread",
]

GroupBy = Literal["procedure", "device", "operator"]
UNMAPPED_LABEL = "unmapped"
POINTS_PER_GROUP = 400
"""A group with at most this many reports shows every report as a point; a larger one shows its outliers
(up to :data:`OUTLIERS_PER_GROUP`, highest first) over a box computed from all its reports."""
OUTLIERS_PER_GROUP = 100
#: kind → (quantity, axis label, unit)
QUANTITY_OF_KIND: dict[str, tuple[str, str, str]] = {
    "fluoro": ("dap", "DAP", "Gy·cm²"),
    "radiography": ("dap", "DAP", "Gy·cm²"),
    "ct": ("dlp", "DLP", "mGy·cm"),
}


def quantile(ordered: Sequence[float], probability: float) -> float:
    """Linear interpolation between order statistics (``statistics.quantiles(method="inclusive")``).

    Examples
    --------
    >>> quantile([1.0, 2.0, 4.0, 8.0], 0.5)
    3.0
    >>> quantile([1.0, 2.0, 4.0, 8.0], 0.25)
    1.75
    """
    position = (len(ordered) - 1) * probability
    low = int(position)
    if low + 1 >= len(ordered):
        return float(ordered[low])
    return float(ordered[low] + (ordered[low + 1] - ordered[low]) * (position - low))


@dataclass(frozen=True, slots=True)
class Spread:
    """Count, quartiles and the whisker ends (Tukey: the furthest values within 1.5 IQR of the box)."""

    count: int
    q1: float
    median: float
    q3: float
    low: float
    high: float

    @property
    def fences(self) -> tuple[float, float]:
        """The limits beyond which a value is an outlier (1.5 IQR below Q1 and above Q3)."""
        iqr = self.q3 - self.q1
        return self.q1 - 1.5 * iqr, self.q3 + 1.5 * iqr


def spread(values: Iterable[float]) -> Spread:
    """The :class:`Spread` of some values (at least one).

    Examples
    --------
    >>> spread([1.0, 2.0, 3.0, 4.0, 100.0])
    Spread(count=5, q1=2.0, median=3.0, q3=4.0, low=1.0, high=4.0)
    """
    ordered = sorted(values)
    q1, median, q3 = (quantile(ordered, p) for p in (0.25, 0.5, 0.75))
    lower, upper = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    low = next(v for v in ordered if v >= lower)
    high = next(v for v in reversed(ordered) if v <= upper)
    return Spread(len(ordered), q1, median, q3, low, high)


@dataclass(frozen=True, slots=True)
class GroupStat:
    """What the database gives for one group: its key, spread and the points to show (value, report id)."""

    key: str
    spread: Spread
    points: tuple[tuple[float, int], ...]


@dataclass(frozen=True, slots=True)
class Group:
    """The reports of one procedure type, device or operator.

    ``values`` and ``report_ids`` are the points shown: every report when :attr:`complete`, else the reports
    beyond the whiskers (up to :data:`OUTLIERS_PER_GROUP`, highest first).
    """

    key: str
    label: str
    values: tuple[float, ...]
    report_ids: tuple[int, ...]
    spread: Spread
    references: tuple[ReferenceLevel, ...] = ()

    @property
    def median(self) -> float:
        return self.spread.median

    @property
    def count(self) -> int:
        return self.spread.count

    @property
    def complete(self) -> bool:
        """Whether every report of the group is among the points."""
        return len(self.values) == self.spread.count


@dataclass(frozen=True, slots=True)
class MonthStat:
    """Median and quartiles of one calendar month's reports."""

    month: date
    count: int
    median: float
    q1: float
    q3: float


@dataclass(frozen=True, slots=True)
class DashboardData:
    """Everything the dashboard charts draw for one kind of report."""

    kind: str
    quantity: str
    label: str
    unit: str
    group_by: GroupBy
    groups: tuple[Group, ...]
    months: tuple[MonthStat, ...]
    y_range: tuple[float, float] | None
    alert_level: float | None
    alert_source: str
    alert_in_range: bool

    @property
    def count(self) -> int:
        """Number of reports in the plotted groups."""
        return sum(group.count for group in self.groups)


def procedure_label(procedure_type: str | None, names: Mapping[str, str]) -> str:
    """The catalogue name of a procedure type without its explanation; ``unmapped`` for none.

    Examples
    --------
    >>> procedure_label("caudal-esi", {"caudal-esi": "Caudal epidural steroid injection"})
    'Caudal epidural steroid injection'
    >>> procedure_label(None, {})
    'unmapped'
    """
    if not procedure_type:
        return UNMAPPED_LABEL
    return short_name(names.get(procedure_type, procedure_type))


def group_key(group_by: GroupBy, values: Sequence[str | None]) -> str:
    """The key of a group from its column values (device: manufacturer, model and station joined).

    Examples
    --------
    >>> group_key("device", ["Siemens", None, "CARM01"])
    'Siemens CARM01'
    """
    return " ".join(v for v in values if v) if group_by == "device" else (values[0] or "")


def _key(sample: DoseSample, group_by: GroupBy) -> str:
    value = {"procedure": sample.procedure_type, "device": sample.device, "operator": sample.operator}
    return value[group_by] or ""


def _label(key: str, group_by: GroupBy, names: Mapping[str, str]) -> str:
    if group_by == "procedure":
        return procedure_label(key or None, names)
    if not key:
        return "not stated"
    return key.replace("^", " ").strip() if group_by == "operator" else key


def _stats_of_samples(samples: Sequence[DoseSample], quantity: str, group_by: GroupBy) -> list[GroupStat]:
    members: dict[str, list[DoseSample]] = defaultdict(list)
    for sample in samples:
        members[_key(sample, group_by)].append(sample)
    stats = []
    for key, items in members.items():
        points = tuple((float(s.value(quantity) or 0.0), s.report_id) for s in items)
        stats.append(GroupStat(key, spread(v for v, _ in points), points))
    return stats


def _groups(
    stats: Iterable[GroupStat],
    quantity: str,
    group_by: GroupBy,
    names: Mapping[str, str],
    levels: Iterable[ReferenceLevel],
) -> tuple[Group, ...]:
    applicable = [lv for lv in levels if lv.value is not None and lv.quantity == quantity]
    groups = []
    for stat in stats:
        references = tuple(
            lv for lv in applicable if group_by == "procedure" and lv.procedure_type == stat.key
        )
        values = tuple(v for v, _ in stat.points)
        ids = tuple(i for _, i in stat.points)
        groups.append(
            Group(stat.key, _label(stat.key, group_by, names), values, ids, stat.spread, references)
        )
    return tuple(sorted(groups, key=lambda g: (g.key == "", g.label.lower())))


def monthly_stats(samples: Iterable[DoseSample], quantity: str) -> tuple[MonthStat, ...]:
    """Median and quartiles (inclusive method) of each calendar month with reports, in date order."""
    months: dict[date, list[float]] = defaultdict(list)
    for sample in samples:
        value = sample.value(quantity)
        if sample.study_datetime is not None and value is not None:
            months[sample.study_datetime.date().replace(day=1)].append(value)
    stats = []
    for month, values in sorted(months.items()):
        q1, median, q3 = (
            statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else [values[0]] * 3
        )
        stats.append(MonthStat(month, len(values), median, q1, q3))
    return tuple(stats)


def _y_range(groups: Sequence[Group], alert: float | None) -> tuple[tuple[float, float] | None, bool]:
    shown = [v for g in groups for v in (*g.values, g.spread.low, g.spread.high) if v > 0]
    shown += [lv.value for g in groups for lv in g.references if lv.value]
    if not shown:
        return None, False
    low, high = min(shown) / 1.6, max(shown) * 1.6
    if alert is not None and alert <= high * 2:  # close enough to draw as a line without squashing the data
        return (low, max(high, alert * 1.3)), True
    return (low, high), False


def dashboard_data(
    samples: Sequence[DoseSample],
    *,
    kind: str,
    group_by: GroupBy,
    names: Mapping[str, str],
    levels: Iterable[ReferenceLevel],
    alerts: AlertLevels,
) -> DashboardData:
    """Group the samples of one kind for the dashboard charts (every sample becomes a point).

    Parameters
    ----------
    samples : sequence of DoseSample
        Every stored report's figures (other kinds and missing values are skipped).
    kind : str
        ``fluoro``, ``radiography`` or ``ct``.
    group_by : {"procedure", "device", "operator"}
        What the box plot groups by.
    names : mapping of str to str
        Catalogue procedure id → name.
    levels : iterable of ReferenceLevel
        Published levels; one is drawn only for the procedure group it applies to.
    alerts : AlertLevels
        The high-dose alert (DAP only).

    Returns
    -------
    DashboardData
    """
    quantity = QUANTITY_OF_KIND[kind][0]
    chosen = [s for s in samples if s.kind == kind and s.value(quantity) is not None]
    stats = _stats_of_samples(chosen, quantity, group_by)
    return dashboard_from_stats(
        stats,
        monthly_stats(chosen, quantity),
        kind=kind,
        group_by=group_by,
        names=names,
        levels=levels,
        alerts=alerts,
    )


def dashboard_from_stats(
    stats: Iterable[GroupStat],
    months: Iterable[MonthStat],
    *,
    kind: str,
    group_by: GroupBy,
    names: Mapping[str, str],
    levels: Iterable[ReferenceLevel],
    alerts: AlertLevels,
) -> DashboardData:
    """The dashboard of one kind from per-group and monthly statistics (as the database gives them).

    Parameters are as for :func:`dashboard_data`, with ``stats`` one :class:`GroupStat` per group and
    ``months`` the monthly statistics in date order.
    """
    quantity, label, unit = QUANTITY_OF_KIND[kind]
    groups = _groups(stats, quantity, group_by, names, levels)
    alert = alerts.dap_gy_cm2 if quantity == "dap" else None
    y_range, in_range = _y_range(groups, alert)
    return DashboardData(
        kind=kind,
        quantity=quantity,
        label=label,
        unit=unit,
        group_by=group_by,
        groups=groups,
        months=tuple(months),
        y_range=y_range,
        alert_level=alert,
        alert_source=alerts.source,
        alert_in_range=in_range,
    )
