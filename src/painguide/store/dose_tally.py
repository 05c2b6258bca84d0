"""Maintained tallies of dose reports: reports per group (for quartiles by offset) and dose sums per patient.

Every report written through :func:`painguide.store.dose_repository.add_report` is counted here in the same
transaction; a remap of procedure types rebuilds the procedure tally; :func:`rebuild_tallies` recounts
everything (migration ``0008_dose``, bulk loads). Groups count only reports with an audit dose (the values the
quartiles are taken of).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from painguide.store.dose_tables import DosePatientTallyRow, DoseReportRow, DoseTallyRow

__all__ = ["DIMENSIONS", "count_reports_in_tallies", "rebuild_tallies", "tally", "tally_key"]

DIMENSIONS: dict[str, tuple[str, ...]] = {
    "procedure": ("procedure_type",),
    "operator": ("operator",),
    "device": ("manufacturer", "model", "station_name"),
    "month": ("study_month",),
}
T, P, R = DoseTallyRow, DosePatientTallyRow, DoseReportRow


def tally_key(values: Iterable[Any]) -> str:
    """The stored key of a group: the JSON list of its column values.

    Examples
    --------
    >>> tally_key(["Siemens", None, "CARM01"])
    '["Siemens", null, "CARM01"]'
    """
    return json.dumps(list(values))


def _upsert(bind: Session | Connection, table: Any, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    if not rows:
        return
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    stmt: Any = (postgresql if dialect.name == "postgresql" else sqlite).insert(table)
    sums = {
        c.name: getattr(table, c.name) + stmt.excluded[c.name]
        for c in table.__table__.c
        if c.name not in keys
    }
    bind.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=sums), rows)


def count_reports_in_tallies(session: Session, reports: Sequence[Mapping[str, Any]]) -> None:
    """Add newly stored reports (their column values) to the tallies, in the caller's transaction."""
    groups: Counter[tuple[str, str, str]] = Counter()
    patients: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for report in reports:
        if report.get("audit_dose") is not None:
            for dimension, columns in DIMENSIONS.items():
                groups[(dimension, report["kind"], tally_key(report.get(c) for c in columns))] += 1
        if report.get("patient_id"):
            sums = patients[report["patient_id"]]
            sums[0] += abs(report.get("dap_total_gy_cm2") or 0.0)
            sums[1] += abs(report.get("rp_dose_total_mgy") or 0.0)
    # sorted, so that concurrent imports lock the same rows in the same order (no deadlock)
    rows = [
        {"dimension": d, "kind": k, "key": key, "reports": n} for (d, k, key), n in sorted(groups.items())
    ]
    _upsert(session, T, rows, ("dimension", "kind", "key"))
    sums_rows = [
        {"patient_id": pid, "dap_sum_gy_cm2": dap, "rp_sum_mgy": rp}
        for pid, (dap, rp) in sorted(patients.items())
    ]
    _upsert(session, P, sums_rows, ("patient_id",))


def rebuild_tallies(bind: Session | Connection, *, dimensions: Iterable[str] = DIMENSIONS) -> None:
    """Recount the given group tallies (all by default, with the patient sums) from the stored reports."""
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
    if set(chosen) == set(DIMENSIONS):
        bind.execute(delete(P))
        stmt = select(
            R.patient_id, func.sum(func.abs(R.dap_total_gy_cm2)), func.sum(func.abs(R.rp_dose_total_mgy))
        )
        stmt = stmt.where(R.patient_id.is_not(None)).group_by(R.patient_id)
        rows = [
            {"patient_id": pid, "dap_sum_gy_cm2": float(dap or 0.0), "rp_sum_mgy": float(rp or 0.0)}
            for pid, dap, rp in bind.execute(stmt)
        ]
        for start in range(0, len(rows), 10_000):
            bind.execute(insert(P), rows[start : start + 10_000])


def tally(session: Session, dimension: str, kinds: Iterable[str]) -> list[tuple[tuple[Any, ...], int]]:
    """The groups of a dimension with their report counts, summed over ``kinds``."""
    stmt = select(T.key, func.sum(T.reports)).where(T.dimension == dimension, T.kind.in_(list(kinds)))
    found = session.execute(stmt.group_by(T.key).having(func.sum(T.reports) > 0))
    return [(tuple(json.loads(key)), int(count)) for key, count in found]
