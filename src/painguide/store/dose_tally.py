"""Maintained tallies of dose reports: reports per group and dose bin (quartiles) and dose sums per patient.

Every report written through :func:`painguide.store.dose_repository.add_report` is counted here in the same
transaction; a remap of procedure types rebuilds the procedure tally; :func:`rebuild_tallies` recounts
everything (migrations ``0008_dose`` and ``0014_dose``, bulk loads). Groups count only reports with an audit
dose (the values the quartiles are taken of).

The bins (:func:`dose_bin`) cut the positive doses at the doubles whose last 49 mantissa bits are zero: 8
bins per doubling of the dose, each 6-12 % wide, with edges that are exact doubles, so that
``audit_dose >= bin_edge(b)`` in SQL selects exactly the doses of the bins from ``b`` on (no rounding at the
edges). The bins only locate an order statistic: its value is read from the index, so quartiles are exact
whatever the bin width; narrower bins would mean more bin rows to add up, wider ones longer index walks.
"""

from __future__ import annotations

import json
import math
import struct
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from painguide.store.dose_tables import DosePatientTallyRow, DoseReportRow, DoseTallyBinRow, DoseTallyRow
from painguide.store.dose_tables import DoseSkinRow as S

__all__ = [
    "DIMENSIONS",
    "bin_edge",
    "count_reports_in_tallies",
    "count_skin_in_tallies",
    "dose_bin",
    "rebuild_tallies",
    "tally",
    "tally_key",
    "tally_positions",
]

DIMENSIONS: dict[str, tuple[str, ...]] = {
    "procedure": ("procedure_type",),
    "operator": ("operator",),
    "device": ("manufacturer", "model", "station_name"),
    "month": ("study_month",),
}
T, B, P, R = DoseTallyRow, DoseTallyBinRow, DosePatientTallyRow, DoseReportRow
_SHIFT = 49  # 52 mantissa bits less the 3 kept: 2**3 = 8 bins per doubling


def dose_bin(value: float) -> int:
    """The bin of a dose: ``-1`` for doses at or below zero (and NaN), else the top bits of the double.

    Examples
    --------
    >>> dose_bin(1.0) < dose_bin(1.2) < dose_bin(2.0)
    True
    >>> dose_bin(0.0), dose_bin(-3.0)
    (-1, -1)
    >>> bin_edge(dose_bin(0.7)) <= 0.7 < bin_edge(dose_bin(0.7) + 1)
    True
    """
    if not value > 0:
        return -1
    return int(struct.unpack("<q", struct.pack("<d", value))[0]) >> _SHIFT


def bin_edge(number: int) -> float:
    """The smallest dose of bin ``number`` (an exact double); ``-inf`` for bin -1."""
    if number < 0:
        return -math.inf
    return float(struct.unpack("<d", struct.pack("<q", number << _SHIFT))[0])


def tally_key(values: Iterable[object]) -> str:
    """The stored key of a group: the JSON list of its column values.

    Examples
    --------
    >>> tally_key(["Siemens", None, "CARM01"])
    '["Siemens", null, "CARM01"]'
    """
    return json.dumps(list(values))


def _upsert(
    bind: Session | Connection, table: Any, rows: list[dict[str, object]], keys: Sequence[str]
) -> None:
    if not rows:
        return
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    if dialect.name == "postgresql":
        # loaded here: the package imports every PostgreSQL driver's dialect (about 20 ms), which a command on
        # SQLite never needs; on PostgreSQL the engine has loaded it already
        from sqlalchemy.dialects import postgresql

        stmt: Any = postgresql.insert(table)
    else:
        stmt = sqlite.insert(table)
    sums = {
        c.name: getattr(table, c.name) + stmt.excluded[c.name]
        for c in table.__table__.c
        if c.name not in keys
    }
    bind.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=sums), rows)


def count_reports_in_tallies(session: Session, reports: Sequence[Mapping[str, Any]]) -> None:
    """Add newly stored reports (their column values) to the tallies, in the caller's transaction."""
    groups: Counter[tuple[str, str, str]] = Counter()
    bins: Counter[tuple[str, str, str, int]] = Counter()
    patients: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for report in reports:
        dose = report.get("audit_dose")
        if dose is not None:
            for dimension, columns in DIMENSIONS.items():
                key = tally_key(report.get(c) for c in columns)
                groups[(dimension, report["kind"], key)] += 1
                bins[(dimension, report["kind"], key, dose_bin(dose))] += 1
        if report.get("patient_id"):
            sums = patients[report["patient_id"]]
            sums[0] += abs(report.get("dap_total_gy_cm2") or 0.0)
            sums[1] += abs(report.get("rp_dose_total_mgy") or 0.0)
    # sorted, so that concurrent imports lock the same rows in the same order (no deadlock)
    rows = [
        {"dimension": d, "kind": k, "key": key, "reports": n} for (d, k, key), n in sorted(groups.items())
    ]
    _upsert(session, T, rows, ("dimension", "kind", "key"))
    bin_rows = [
        {"dimension": d, "kind": k, "key": key, "bin": b, "reports": n}
        for (d, k, key, b), n in sorted(bins.items())
    ]
    _upsert(session, B, bin_rows, ("dimension", "kind", "key", "bin"))
    sums_rows = [
        {"patient_id": pid, "dap_sum_gy_cm2": dap, "rp_sum_mgy": rp, "skin_sum_mgy": 0.0}
        for pid, (dap, rp) in sorted(patients.items())
    ]
    _upsert(session, P, sums_rows, ("patient_id",))


def count_skin_in_tallies(session: Session, estimates: Sequence[tuple[str | None, float | None]]) -> None:
    """Add peak skin dose estimates ``(patient id, mGy)`` to the patients' sums (caller's transaction)."""
    sums: dict[str, float] = defaultdict(float)
    for patient, peak in estimates:
        if patient and peak is not None:
            sums[patient] += abs(peak)
    rows = [
        {"patient_id": p, "dap_sum_gy_cm2": 0.0, "rp_sum_mgy": 0.0, "skin_sum_mgy": v}
        for p, v in sorted(sums.items())
    ]
    _upsert(session, P, rows, ("patient_id",))


def rebuild_tallies(
    bind: Session | Connection, *, dimensions: Iterable[str] = DIMENSIONS, bins: bool = True
) -> None:
    """Recount the given group tallies (all by default, with the patient sums) from the stored reports.

    ``bins=False`` leaves the dose bins and the skin dose sums alone (migration ``0008_dose`` runs before
    their tables and column exist).
    """
    chosen = list(dimensions)
    for dimension in chosen:
        columns = [getattr(R, c) for c in DIMENSIONS[dimension]]
        bind.execute(delete(T).where(T.dimension == dimension))
        stmt = (
            select(R.kind, *columns, func.count()).where(R.audit_dose.is_not(None)).group_by(R.kind, *columns)
        )
        rows = [
            {"dimension": dimension, "kind": row[0], "key": tally_key(row[1:-1]), "reports": int(row[-1])}
            for row in bind.execute(stmt)
        ]
        if rows:
            bind.execute(insert(T), rows)
        if bins:
            _rebuild_bins(bind, dimension)
    if set(chosen) == set(DIMENSIONS):
        bind.execute(delete(P))
        stmt = select(
            R.patient_id, func.sum(func.abs(R.dap_total_gy_cm2)), func.sum(func.abs(R.rp_dose_total_mgy))
        )
        stmt = stmt.where(R.patient_id.is_not(None)).group_by(R.patient_id)
        skin: dict[str, float] = {}
        if bins:
            skins = select(R.patient_id, func.sum(func.abs(S.peak_skin_dose_mgy))).join(
                S, S.report_id == R.id
            )
            skins = skins.where(R.patient_id.is_not(None), S.peak_skin_dose_mgy.is_not(None))
            skin = {str(p): float(v or 0.0) for p, v in bind.execute(skins.group_by(R.patient_id))}
        rows = []
        for pid, dap, rp in bind.execute(stmt):
            row = {"patient_id": pid, "dap_sum_gy_cm2": float(dap or 0.0), "rp_sum_mgy": float(rp or 0.0)}
            if bins:
                row["skin_sum_mgy"] = skin.get(str(pid), 0.0)
            rows.append(row)
        for start in range(0, len(rows), 10_000):
            bind.execute(insert(P), rows[start : start + 10_000])


def _rebuild_bins(bind: Session | Connection, dimension: str) -> None:
    """Recount one dimension's dose bins, streaming the reports' doses (the bins are computed in Python)."""
    columns = [getattr(R, c) for c in DIMENSIONS[dimension]]
    bind.execute(delete(B).where(B.dimension == dimension))
    stmt = select(R.kind, *columns, R.audit_dose).where(R.audit_dose.is_not(None))
    counted: Counter[tuple[str, str, int]] = Counter()
    found = bind.execute(stmt.execution_options(yield_per=10_000))
    for row in found:
        counted[(row[0], tally_key(row[1:-1]), dose_bin(float(row[-1])))] += 1
    rows = [
        {"dimension": dimension, "kind": k, "key": key, "bin": b, "reports": n}
        for (k, key, b), n in sorted(counted.items())
    ]
    for start in range(0, len(rows), 10_000):
        bind.execute(insert(B), rows[start : start + 10_000])


def tally_positions(
    session: Session,
    dimension: str,
    kinds: Iterable[str],
    fractions: Sequence[tuple[int, int]],
    *,
    only: str | None = None,
) -> dict[tuple[object, ...], tuple[int, list[tuple[int, int, int]]]]:
    """Per group: its count of doses and the bins that hold the order statistics ``(count - 1) * a // b``.

    Each bin comes as ``(bin, doses below it, doses in it)``. The database adds up the bins (window sums), so
    a few rows per group are read whatever the number of bins and reports. ``only`` restricts the groups to
    one key (a JSON list, :func:`tally_key`).
    """
    chosen = B.dimension == dimension, B.kind.in_(list(kinds)), *([B.key == only] if only is not None else [])
    per_bin = select(B.key, B.bin, func.sum(B.reports).label("n")).where(*chosen).group_by(B.key, B.bin)
    g = per_bin.subquery()
    running = select(
        g.c.key,
        g.c.bin,
        g.c.n,
        func.sum(g.c.n).over(partition_by=g.c.key, order_by=g.c.bin).label("upto"),
        func.sum(g.c.n).over(partition_by=g.c.key).label("total"),
    ).subquery()
    wanted = [((running.c.total - 1) * a) // b for a, b in fractions]
    holds = or_(*((running.c.upto - running.c.n <= i) & (i < running.c.upto) for i in wanted))
    stmt = select(running.c.key, running.c.bin, running.c.upto - running.c.n, running.c.n, running.c.total)
    found: dict[tuple[object, ...], tuple[int, list[tuple[int, int, int]]]] = {}
    for text, number, below, count, total in session.execute(stmt.where(running.c.total > 0, holds)):
        key = tuple(json.loads(text))
        found.setdefault(key, (int(total), []))[1].append((int(number), int(below), int(count)))
    return found


def tally(session: Session, dimension: str, kinds: Iterable[str]) -> list[tuple[tuple[object, ...], int]]:
    """The groups of a dimension with their report counts, summed over ``kinds``."""
    stmt = select(T.key, func.sum(T.reports)).where(T.dimension == dimension, T.kind.in_(list(kinds)))
    found = session.execute(stmt.group_by(T.key).having(func.sum(T.reports) > 0))
    return [(tuple(json.loads(key)), int(count)) for key, count in found]
