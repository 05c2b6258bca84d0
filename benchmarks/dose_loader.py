"""Fill a dose database with generated report and event rows fast (bulk insert, no RDSR parsing).

For the scale benchmark only: 200,000 reports with 25 events each in a minute or two. The rows look like a
busy pain practice's: mostly fluoroscopy (lumbar TFESI, facet blocks, caudal ESI, SIJ, ...), a tenth
CT-guided PRT, a few radiographs and unmapped descriptions; doses drawn log-normally around the published
medians the demo data use; patients treated in series; a few vertebroplasty patients whose 12-week sums
reach the alert level. Values are synthetic: never read clinical meaning into them.

Use: ``load(url, reports=200_000, events=25)`` on a migrated database (SQLite or PostgreSQL).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

REPORT_COLUMNS = (
    "id",
    "sop_instance_uid",
    "sop_class_uid",
    "kind",
    "template_id",
    "study_instance_uid",
    "study_datetime",
    "accession_number",
    "study_description",
    "procedure_type",
    "operator",
    "patient_id",
    "patient_name",
    "patient_birth_date",
    "patient_sex",
    "manufacturer",
    "model",
    "station_name",
    "device_serial",
    "dap_total_gy_cm2",
    "fluoro_dap_gy_cm2",
    "acquisition_dap_gy_cm2",
    "rp_dose_total_mgy",
    "fluoro_time_s",
    "acquisition_time_s",
    "dlp_total_mgy_cm",
    "study_month",
    "audit_dose",
    "event_count",
    "warnings",
    "source",
    "imported_at",
)
EVENT_COLUMNS = (
    "report_id",
    "event_index",
    "event_uid",
    "started",
    "event_type",
    "protocol",
    "plane",
    "dap_gy_cm2",
    "rp_dose_mgy",
    "kvp",
    "tube_current_ma",
    "pulses",
    "duration_s",
    "primary_angle_deg",
    "secondary_angle_deg",
    "ctdivol_mgy",
    "dlp_mgy_cm",
    "scan_length_mm",
    "phantom",
)
# procedure id → (share, median DAP Gy·cm², description); CT-guided PRT carries a DLP instead
_FLUORO = {
    "lumbar-tfesi": (0.30, 0.678, "Lumbar TFESI L4/5 right"),
    "caudal-esi": (0.12, 0.546, "Caudal ESI"),
    "lumbar-facet-mbb": (0.20, 0.59, "Lumbar medial branch block L3-L5"),
    "cervical-facet-mbb": (0.10, 0.4, "Cervical MBB C5/6"),
    "sij-ia": (0.12, 0.8, "SIJ injection left"),
    "lumbar-facet-rfa": (0.08, 1.18, "Lumbar medial branch RFA"),
    "": (0.08, 1.0, "Spine injection"),
}
_DEVICES = [
    (m, mo, f"CARM{i:02d}", f"SN{i:04d}")
    for i, (m, mo) in enumerate(
        [
            ("Siemens", "Cios Alpha"),
            ("Philips", "Zenition 70"),
            ("GE Healthcare", "OEC 3D"),
            ("Siemens", "Arcadis"),
            ("Ziehm", "Vision RFD"),
            ("Philips", "Azurion 7"),
        ],
        start=1,
    )
]
_CT = ("Siemens", "SOMATOM go.Up", "CT01", "SNCT01")
_SR = "1.2.840.10008.5.1.4.1.1.88.67"


def _when(rng: random.Random, start: datetime, days: int) -> datetime:
    day = start + timedelta(days=rng.randrange(days))
    return day.replace(hour=rng.randrange(7, 18), minute=rng.randrange(60), second=rng.randrange(60))


def _report(rng: random.Random, rid: int, patient: int, when: datetime, events: int) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.10:
        kind, procedure, description, device = "ct", "lumbar-prt", "CT-guided lumbar PRT", _CT
    elif roll < 0.12:
        kind, procedure, description, device = "radiography", "", "LWS ap/seitlich", rng.choice(_DEVICES)
    else:
        kind, device = "fluoro", _DEVICES[patient % len(_DEVICES)]
        procedure = rng.choices(list(_FLUORO), [v[0] for v in _FLUORO.values()])[0]
        description = _FLUORO[procedure][2]
    median = _FLUORO.get(procedure, (0, 0.5, ""))[1]
    dap = round(median * math.exp(rng.gauss(0, 0.8)), 4) if kind != "ct" else round(rng.uniform(0.5, 3), 3)
    if kind == "fluoro" and patient % 5000 == 7:  # vertebroplasty-like series: sums reach the alert level
        dap = round(rng.uniform(70, 90), 2)
    dlp = round(300 * math.exp(rng.gauss(0, 0.5)), 1) if kind == "ct" else None
    fluoro_time = round(30 * math.exp(rng.gauss(0, 0.7)), 1) if kind == "fluoro" else None
    return {
        "id": rid,
        "sop_instance_uid": f"2.25.900{rid}",
        "sop_class_uid": _SR,
        "kind": kind,
        "template_id": "10011" if kind == "ct" else "10001",
        "study_instance_uid": f"2.25.800{rid}",
        "study_datetime": when,
        "accession_number": f"ACC{rid:08d}",
        "study_description": description,
        "procedure_type": procedure or None,
        "operator": f"Operator{patient % 37:02d}^Dr",
        "patient_id": f"PAT{patient:07d}",
        "patient_name": f"Patient^{patient}",
        "patient_birth_date": "19600101",
        "patient_sex": "F" if patient % 2 else "M",
        "manufacturer": device[0],
        "model": device[1],
        "station_name": device[2],
        "device_serial": device[3],
        "dap_total_gy_cm2": dap,
        "fluoro_dap_gy_cm2": round(dap * 0.7, 4) if kind == "fluoro" else None,
        "acquisition_dap_gy_cm2": round(dap * 0.3, 4) if kind == "fluoro" else None,
        "rp_dose_total_mgy": round(dap * 6.5, 3),
        "fluoro_time_s": fluoro_time,
        "acquisition_time_s": 4.0 if kind == "fluoro" else None,
        "dlp_total_mgy_cm": dlp,
        "study_month": when.year * 100 + when.month,
        "audit_dose": dlp if kind == "ct" else dap,
        "event_count": events,
        "warnings": "[]",
        "source": "benchmark",
        "imported_at": datetime.now(UTC),
    }


def _events(report: dict[str, Any], count: int) -> Iterator[tuple[Any, ...]]:
    rid, when, ct = report["id"], report["study_datetime"], report["kind"] == "ct"
    dap_each = (report["dap_total_gy_cm2"] or 0.0) / count
    dlp_each = (report["dlp_total_mgy_cm"] or 0.0) / count
    for i in range(count):
        yield (
            rid,
            i,
            f"2.25.7{rid}.{i}",
            when + timedelta(seconds=20 * i),
            "Helical" if ct else "Fluoroscopy",
            "Spine",
            "Single",
            None if ct else dap_each,
            None if ct else dap_each * 6.5,
            75.0 + i % 10,
            8.5,
            15.0,
            1.2,
            -1.5 + i % 4,
            0.5,
            12.0 if ct else None,
            dlp_each if ct else None,
            120.0 if ct else None,
            "BODY" if ct else None,
        )


def generate(
    reports: int, events: int, seed: int = 11
) -> Iterator[tuple[dict[str, Any], list[tuple[Any, ...]]]]:
    """Reports (column dict) with their event rows; patients are treated in series over five years."""
    rng = random.Random(seed)
    start = datetime(2021, 1, 4)
    rid, patient = 0, 0
    while rid < reports:
        patient += 1
        first = _when(rng, start, 5 * 365)
        for visit in range(min(rng.choice((1, 2, 3, 3, 4, 6)), reports - rid)):
            rid += 1
            report = _report(rng, rid, patient, first + timedelta(days=28 * visit), events)
            yield report, list(_events(report, events))


def load(url: str, *, reports: int, events: int, chunk: int = 5_000) -> float:
    """Insert ``reports`` generated reports with ``events`` events each; returns the seconds taken."""
    import time

    from painguide.store.db import make_engine

    engine = make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        batch: list[tuple[dict[str, Any], list[tuple[Any, ...]]]] = []
        for item in generate(reports, events):
            batch.append(item)
            if len(batch) >= chunk:
                _insert(cursor, batch, postgres)
                batch = []
        if batch:
            _insert(cursor, batch, postgres)
        raw.commit()
    finally:
        raw.close()
    from painguide.store.dose_tally import rebuild_tallies

    with engine.begin() as connection:  # the maintained counts a bulk insert bypassed
        rebuild_tallies(connection)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if postgres:  # index-only scans need the visibility map; the planner needs statistics
            raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            cursor.execute("VACUUM ANALYZE dose_report")
            cursor.execute("VACUUM ANALYZE dose_event")
        else:
            cursor.execute("ANALYZE")
    finally:
        raw.close()
    return time.perf_counter() - started


def _insert(cursor: Any, batch: list[tuple[dict[str, Any], list[tuple[Any, ...]]]], postgres: bool) -> None:
    report_rows = [tuple(r[c] for c in REPORT_COLUMNS) for r, _ in batch]
    event_rows = [e for _, events in batch for e in events]
    if postgres:
        with cursor.copy(f"COPY dose_report ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as copy:
            for row in report_rows:
                copy.write_row(row)
        with cursor.copy(f"COPY dose_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for row in event_rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(REPORT_COLUMNS))
    cursor.executemany(
        f"INSERT INTO dose_report ({', '.join(REPORT_COLUMNS)}) VALUES ({marks})", map(_sqlite, report_rows)
    )
    marks = ", ".join("?" * len(EVENT_COLUMNS))
    cursor.executemany(
        f"INSERT INTO dose_event ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})", map(_sqlite, event_rows)
    )


def _sqlite(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Date-times as SQLAlchemy stores them in SQLite (UTC-aware ones without their zone)."""
    return tuple(
        v.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v for v in row
    )
