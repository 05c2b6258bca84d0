"""What the dose dashboard shows, computed from dose samples (pure: no plotting library, no database).

Groups (procedure type by catalogue name, device or operator) with every value and the group's median, the
published reference levels that apply to a group, the high-dose alert level and whether it lies within the
plotted range, and monthly medians with interquartile range for the trend.
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
    "QUANTITY_OF_KIND",
    "DashboardData",
    "Group",
    "GroupBy",
    "MonthStat",
    "dashboard_data",
    "monthly_stats",
    "procedure_label",
]

GroupBy = Literal["procedure", "device", "operator"]
UNMAPPED_LABEL = "unmapped"
#: kind → (quantity, axis label, unit)
QUANTITY_OF_KIND: dict[str, tuple[str, str, str]] = {
    "fluoro": ("dap", "DAP", "Gy·cm²"),
    "radiography": ("dap", "DAP", "Gy·cm²"),
    "ct": ("dlp", "DLP", "mGy·cm"),
}


@dataclass(frozen=True, slots=True)
class Group:
    """The reports of one procedure type, device or operator."""

    key: str
    label: str
    values: tuple[float, ...]
    report_ids: tuple[int, ...]
    median: float
    references: tuple[ReferenceLevel, ...] = ()


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
        """Number of plotted reports."""
        return sum(len(group.values) for group in self.groups)


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


def _key(sample: DoseSample, group_by: GroupBy) -> str:
    value = {"procedure": sample.procedure_type, "device": sample.device, "operator": sample.operator}
    return value[group_by] or ""


def _label(key: str, group_by: GroupBy, names: Mapping[str, str]) -> str:
    if group_by == "procedure":
        return procedure_label(key or None, names)
    if not key:
        return "not stated"
    return key.replace("^", " ").strip() if group_by == "operator" else key


def _groups(
    samples: Sequence[DoseSample],
    quantity: str,
    group_by: GroupBy,
    names: Mapping[str, str],
    levels: Iterable[ReferenceLevel],
) -> tuple[Group, ...]:
    members: dict[str, list[DoseSample]] = defaultdict(list)
    for sample in samples:
        members[_key(sample, group_by)].append(sample)
    applicable = [lv for lv in levels if lv.value is not None and lv.quantity == quantity]
    groups = []
    for key, items in members.items():
        values = tuple(float(s.value(quantity) or 0.0) for s in items)
        references = tuple(lv for lv in applicable if group_by == "procedure" and lv.procedure_type == key)
        label = _label(key, group_by, names)
        ids = tuple(s.report_id for s in items)
        groups.append(Group(key, label, values, ids, statistics.median(values), references))
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
    shown = [v for g in groups for v in g.values if v > 0]
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
    """Group the samples of one kind for the dashboard charts.

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
    quantity, label, unit = QUANTITY_OF_KIND[kind]
    chosen = [s for s in samples if s.kind == kind and s.value(quantity) is not None]
    groups = _groups(chosen, quantity, group_by, names, levels)
    alert = alerts.dap_gy_cm2 if quantity == "dap" else None
    y_range, in_range = _y_range(groups, alert)
    return DashboardData(
        kind, quantity, label, unit, group_by, groups, monthly_stats(chosen, quantity), y_range, alert,
        alerts.source, in_range,
    )  # fmt: skip
