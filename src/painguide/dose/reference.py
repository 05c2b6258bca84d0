"""Reference levels, local DRLs, alerts and per-patient rolling sums (pure: no database, no DICOM).

Published levels come from ``dose/data/reference_levels.yaml`` with their source id and status. Local
diagnostic reference levels are computed from a site's own reports: the median per procedure type; the
national method across sites is the third quartile of the facility medians.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from painguide.datafiles import read_packaged_yaml
from painguide.dose.units import CANONICAL_UNIT, Quantity, UnknownUnitError, to_canonical
from painguide.errors import DataFileError

__all__ = [
    "Alert",
    "AlertLevels",
    "Comparison",
    "DoseSample",
    "LocalDrl",
    "ReferenceData",
    "ReferenceLevel",
    "SkinSample",
    "compare",
    "find_alerts",
    "find_skin_alerts",
    "load_reference_data",
    "local_drls",
    "national_drl",
    "patient_sum_alerts",
    "report_alerts",
    "rolling_patient_sums",
    "with_overrides",
]

_QUANTITIES = {"dap": Quantity.DAP, "dlp": Quantity.DLP, "rp_dose": Quantity.RP_DOSE}
_SAMPLE_FIELD = {"dap": "dap_total_gy_cm2", "dlp": "dlp_total_mgy_cm", "rp_dose": "rp_dose_total_mgy"}


@dataclass(frozen=True, slots=True)
class DoseSample:
    """The dose figures of one stored report that audits and alerts work on (canonical units)."""

    report_id: int
    patient_id: str | None
    study_datetime: datetime | None
    procedure_type: str | None
    kind: str
    device: str | None
    operator: str | None
    dap_total_gy_cm2: float | None = None
    rp_dose_total_mgy: float | None = None
    dlp_total_mgy_cm: float | None = None
    fluoro_time_s: float | None = None

    def value(self, quantity: str) -> float | None:
        """The sample's value of ``dap``, ``dlp`` or ``rp_dose``."""
        result: float | None = getattr(self, _SAMPLE_FIELD[quantity])
        return result


@dataclass(frozen=True, slots=True)
class ReferenceLevel:
    """A published reference level, converted to canonical units (``value`` is ``None`` when open)."""

    id: str
    procedure_type: str | None
    description: str
    kind: str
    quantity: str
    value: float | None
    unit: str
    published: str
    source: str | None
    status: str


@dataclass(frozen=True, slots=True)
class AlertLevels:
    """High-dose alert thresholds (canonical units) and the per-patient rolling window."""

    dap_gy_cm2: float | None
    rp_dose_mgy: float | None
    window: timedelta
    source: str
    status: str
    peak_skin_dose_mgy: float | None = None


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Everything in ``reference_levels.yaml``."""

    levels: tuple[ReferenceLevel, ...]
    alerts: AlertLevels
    sources: Mapping[str, str]

    def for_procedure(self, procedure_type: str | None) -> list[ReferenceLevel]:
        """Published levels with a value that apply to ``procedure_type``."""
        return [lv for lv in self.levels if lv.value is not None and lv.procedure_type == procedure_type]


def _canonical(path: str, key: str, entry: Mapping[str, Any], quantity: Quantity) -> float | None:
    if entry.get("value") is None:
        return None
    try:
        return to_canonical(quantity, float(entry["value"]), str(entry["unit"]))[0]
    except (UnknownUnitError, KeyError, TypeError, ValueError) as exc:
        raise DataFileError(path, key, f"a number and a known {quantity} unit ({exc})") from exc


def _level(path: str, index: int, raw: Mapping[str, Any]) -> ReferenceLevel:
    key = f"drls[{index}]"
    quantity = raw.get("quantity")
    if quantity not in _QUANTITIES:
        raise DataFileError(path, f"{key}.quantity", f"one of {', '.join(_QUANTITIES)}")
    if raw.get("status") not in ("verified", "secondary", "open"):
        raise DataFileError(path, f"{key}.status", "verified, secondary or open")
    value = _canonical(path, key, raw, _QUANTITIES[quantity])
    published = f"{raw['value']} {raw['unit']}" if raw.get("value") is not None else "—"
    return ReferenceLevel(
        id=str(raw["id"]),
        procedure_type=raw.get("procedure_type"),
        description=str(raw.get("description", "")),
        kind=str(raw.get("kind", "")),
        quantity=quantity,
        value=value,
        unit=CANONICAL_UNIT[_QUANTITIES[quantity]],
        published=published,
        source=raw.get("source"),
        status=str(raw["status"]),
    )


def load_reference_data(path: str | Path | None = None) -> ReferenceData:
    """Load and validate the reference levels file (the packaged one by default).

    Raises
    ------
    DataFileError
        Naming the file, the key and what is expected.
    """

    data, label = read_packaged_yaml("painguide.dose", "data/reference_levels.yaml", path)
    if not isinstance(data.get("drls"), list) or not isinstance(data.get("alerts"), dict):
        raise DataFileError(label, "drls / alerts", "a list of reference levels and an alerts mapping")
    levels = tuple(_level(label, i, raw) for i, raw in enumerate(data["drls"]))
    alerts = data["alerts"]
    weeks = alerts.get("patient_sum_window_weeks")
    if not isinstance(weeks, int) or weeks <= 0:
        raise DataFileError(label, "alerts.patient_sum_window_weeks", "a positive whole number of weeks")
    alert_levels = AlertLevels(
        dap_gy_cm2=_canonical(label, "alerts.dap", alerts.get("dap") or {}, Quantity.DAP),
        rp_dose_mgy=_canonical(label, "alerts.rp_dose", alerts.get("rp_dose") or {}, Quantity.RP_DOSE),
        window=timedelta(weeks=weeks),
        source=str(alerts.get("source", "")),
        status=str(alerts.get("status", "")),
        peak_skin_dose_mgy=_canonical(
            label, "alerts.peak_skin_dose", alerts.get("peak_skin_dose") or {}, Quantity.RP_DOSE
        ),
    )
    return ReferenceData(levels, alert_levels, dict(data.get("sources") or {}))


def with_overrides(
    levels: AlertLevels,
    *,
    dap_gy_cm2: float | None = None,
    rp_dose_mgy: float | None = None,
    window: timedelta | None = None,
    peak_skin_dose_mgy: float | None = None,
) -> AlertLevels:
    """Site-configured alert levels: any given value replaces the default and the source says so."""
    if dap_gy_cm2 is None and rp_dose_mgy is None and window is None and peak_skin_dose_mgy is None:
        return levels
    return replace(
        levels,
        dap_gy_cm2=levels.dap_gy_cm2 if dap_gy_cm2 is None else dap_gy_cm2,
        rp_dose_mgy=levels.rp_dose_mgy if rp_dose_mgy is None else rp_dose_mgy,
        peak_skin_dose_mgy=(levels.peak_skin_dose_mgy if peak_skin_dose_mgy is None else peak_skin_dose_mgy),
        window=levels.window if window is None else window,
        source=f"site configuration (defaults: {levels.source})",
        status="site",
    )


@dataclass(frozen=True, slots=True)
class LocalDrl:
    """A site's local DRL: the median of its own reports of one procedure type."""

    procedure_type: str
    quantity: str
    median: float
    count: int


def local_drls(samples: Iterable[DoseSample], *, quantity: str = "dap", min_count: int = 1) -> list[LocalDrl]:
    """Median per procedure type of ``quantity`` (reports without a procedure type or value are skipped).

    Examples
    --------
    >>> def sample(i, v):
    ...     return DoseSample(i, "p", None, "tfesi", "fluoro", None, None, dap_total_gy_cm2=v)
    >>> local_drls([sample(1, 1.0), sample(2, 2), sample(3, 9.0)])
    [LocalDrl(procedure_type='tfesi', quantity='dap', median=2, count=3)]
    """
    groups: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        value = sample.value(quantity)
        if sample.procedure_type and value is not None:
            groups[sample.procedure_type].append(value)
    return [
        LocalDrl(procedure, quantity, statistics.median(values), len(values))
        for procedure, values in sorted(groups.items())
        if len(values) >= min_count
    ]


def national_drl(facility_medians: Sequence[float]) -> float:
    """Third quartile of facility medians (the national DRL method), inclusive interpolation.

    Examples
    --------
    >>> national_drl([0.5, 0.6, 0.7, 0.8, 1.0])
    0.8
    """
    if not facility_medians:
        raise ValueError("national_drl needs at least one facility median")
    if len(facility_medians) == 1:
        return float(facility_medians[0])
    return statistics.quantiles(facility_medians, n=4, method="inclusive")[2]


@dataclass(frozen=True, slots=True)
class Comparison:
    """One report compared with one reference level."""

    report_id: int
    reference: str
    quantity: str
    value: float
    level: float
    ratio: float
    exceeded: bool
    source: str | None
    status: str


def compare(
    sample: DoseSample, data: ReferenceData, local: Mapping[str, LocalDrl] | None = None
) -> list[Comparison]:
    """Compare a report with the published levels of its procedure type and with the site's local DRL."""
    results = []
    for level in data.for_procedure(sample.procedure_type):
        value = sample.value(level.quantity)
        if value is not None and level.value:
            ratio = value / level.value
            results.append(
                Comparison(
                    sample.report_id, level.id, level.quantity, value, level.value, ratio, ratio > 1.0,
                    level.source, level.status,
                )
            )  # fmt: skip
    drl = (local or {}).get(sample.procedure_type or "")
    value = sample.value(drl.quantity) if drl else None
    if drl is not None and value is not None and drl.median > 0:
        ratio = value / drl.median
        results.append(
            Comparison(
                sample.report_id, f"local-median:{drl.procedure_type}", drl.quantity, value,
                drl.median, ratio, ratio > 1.0, "site data", f"local (n={drl.count})",
            )
        )  # fmt: skip
    return results


@dataclass(frozen=True, slots=True)
class Alert:
    """A high-dose alert: one report, or a patient's sum over the rolling window, at or above a level."""

    scope: str
    quantity: str
    value: float
    threshold: float
    patient_id: str | None
    report_ids: tuple[int, ...]
    window_start: datetime | None
    window_end: datetime | None
    source: str


def rolling_patient_sums(
    samples: Iterable[DoseSample], window: timedelta
) -> list[tuple[DoseSample, float, float, tuple[int, ...]]]:
    """For each dated report with a patient id, the patient's DAP and RP-dose sums over ``(t - window, t]``.

    Returns
    -------
    list of (sample, dap_sum_gy_cm2, rp_sum_mgy, report_ids)
        In date order per patient; ``report_ids`` are the reports inside the window.
    """
    by_patient: dict[str, list[DoseSample]] = defaultdict(list)
    for sample in samples:
        if sample.patient_id and sample.study_datetime is not None:
            by_patient[sample.patient_id].append(sample)
    results = []
    for series in by_patient.values():
        series.sort(key=lambda s: (s.study_datetime, s.report_id))
        start = 0
        for end, current in enumerate(series):
            assert current.study_datetime is not None
            while series[start].study_datetime <= current.study_datetime - window:  # type: ignore[operator]
                start += 1
            inside = series[start : end + 1]
            dap = sum(s.dap_total_gy_cm2 or 0.0 for s in inside)
            rp = sum(s.rp_dose_total_mgy or 0.0 for s in inside)
            results.append((current, dap, rp, tuple(s.report_id for s in inside)))
    return results


def report_alerts(samples: Iterable[DoseSample], levels: AlertLevels) -> list[Alert]:
    """Reports whose own DAP or reference-point dose is at or above its alert level, in the given order."""
    alerts: list[Alert] = []
    thresholds = (("dap", levels.dap_gy_cm2), ("rp_dose", levels.rp_dose_mgy))
    for sample in samples:
        for quantity, threshold in thresholds:
            value = sample.value(quantity)
            if threshold is not None and value is not None and value >= threshold:
                alerts.append(
                    Alert("report", quantity, value, threshold, sample.patient_id, (sample.report_id,),
                          sample.study_datetime, sample.study_datetime, levels.source)
                )  # fmt: skip
    return alerts


def patient_sum_alerts(samples: Iterable[DoseSample], levels: AlertLevels) -> list[Alert]:
    """The reports that take a patient's sum over the rolling window to an alert level.

    Raised on the report whose addition makes the sum over the window reach the level (not again for later
    reports in the same window); not when that report alone reaches the level, nor when the window holds a
    single report (the report alert says it already).
    """
    alerts: list[Alert] = []
    for sample, dap, rp, ids in rolling_patient_sums(samples, levels.window):
        if len(ids) < 2:
            continue
        for quantity, total, threshold in (
            ("dap", dap, levels.dap_gy_cm2),
            ("rp_dose", rp, levels.rp_dose_mgy),
        ):
            own = sample.value(quantity) or 0.0
            if threshold is not None and total >= threshold > max(total - own, own):
                start = sample.study_datetime - levels.window if sample.study_datetime else None
                alerts.append(
                    Alert("patient_sum", quantity, total, threshold, sample.patient_id, ids, start,
                          sample.study_datetime, levels.source)
                )  # fmt: skip
    return alerts


@dataclass(frozen=True, slots=True)
class SkinSample:
    """The peak skin dose estimate of one stored report (reports without an estimate have none)."""

    report_id: int
    patient_id: str | None
    study_datetime: datetime | None
    peak_skin_dose_mgy: float


def find_skin_alerts(samples: Sequence[SkinSample], levels: AlertLevels) -> list[Alert]:
    """Reports whose peak skin dose reaches the level, then patients whose sum over the window reaches it.

    The per-patient sum adds the peak skin doses of the window's reports: an upper bound, since the peaks
    of different procedures need not lie on the same skin. Raised like :func:`find_alerts`: on the report
    that takes the sum to the level, not when that report alone reaches it.

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> levels = AlertLevels(None, None, timedelta(weeks=12), "OpenREM-alerts", "verified", 2000.0)
    >>> day = datetime(2025, 1, 1)
    >>> samples = [SkinSample(1, "P", day, 1200.0), SkinSample(2, "P", day + timedelta(weeks=4), 900.0)]
    >>> [(a.scope, a.value, a.report_ids) for a in find_skin_alerts(samples, levels)]
    [('patient_sum', 2100.0, (1, 2))]
    """
    threshold = levels.peak_skin_dose_mgy
    if threshold is None:
        return []
    alerts = [
        Alert("report", "peak_skin_dose", s.peak_skin_dose_mgy, threshold, s.patient_id, (s.report_id,),
              s.study_datetime, s.study_datetime, levels.source)
        for s in samples
        if s.peak_skin_dose_mgy >= threshold
    ]  # fmt: skip
    by_patient: dict[str, list[SkinSample]] = defaultdict(list)
    for sample in samples:
        if sample.patient_id and sample.study_datetime is not None:
            by_patient[sample.patient_id].append(sample)
    for series in by_patient.values():
        series.sort(key=lambda s: (s.study_datetime, s.report_id))
        start = 0
        for end, current in enumerate(series):
            assert current.study_datetime is not None
            while series[start].study_datetime <= current.study_datetime - levels.window:  # type: ignore[operator]
                start += 1
            inside = series[start : end + 1]
            total = sum(s.peak_skin_dose_mgy for s in inside)
            own = current.peak_skin_dose_mgy
            if len(inside) > 1 and total >= threshold > max(total - own, own):
                alerts.append(
                    Alert("patient_sum", "peak_skin_dose", total, threshold, current.patient_id,
                          tuple(s.report_id for s in inside), current.study_datetime - levels.window,
                          current.study_datetime, levels.source)
                )  # fmt: skip
    return alerts


def find_alerts(samples: Sequence[DoseSample], levels: AlertLevels) -> list[Alert]:
    """Report alerts (:func:`report_alerts`), then per-patient sum alerts (:func:`patient_sum_alerts`)."""
    return report_alerts(samples, levels) + patient_sum_alerts(samples, levels)
