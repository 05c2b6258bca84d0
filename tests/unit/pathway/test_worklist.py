"""Worklist queries: parsing DICOM matching values and matching scheduled procedures (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from painguide.pathway.worklist import (
    QueryError,
    WorklistEntry,
    WorklistQuery,
    answer_modality,
    is_ae_title,
    matches,
    parse_date_range,
    parse_time_range,
    pathway_modalities,
    utc_bounds,
)

ZURICH = ZoneInfo("Europe/Zurich")


def entry(**changes: object) -> WorklistEntry:
    data: dict[str, object] = {
        "accession_number": "PG00000001", "procedure": "lumbar-tfesi", "procedure_name": "Lumbar TFESI",
        "modality": "fluoroscopy", "scheduled_at": datetime(2026, 3, 16, 23, 30, tzinfo=UTC),
        "station_ae_title": "CARM01", "location": "CARM01", "patient_id": "P-0001",
        "patient_name": "Anna Müller", "birth_year": 1970, "sex": "female", "study_instance_uid": "2.25.1",
    }  # fmt: skip
    data.update(changes)
    return WorklistEntry(**data)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (None, None)),
        ("20260316", (date(2026, 3, 16), date(2026, 3, 16))),
        ("20260316-20260320", (date(2026, 3, 16), date(2026, 3, 20))),
        ("20260316-", (date(2026, 3, 16), None)),
        ("-20260320", (None, date(2026, 3, 20))),
    ],
)
def test_date_ranges(text: str, expected: tuple[date | None, date | None]) -> None:
    assert parse_date_range(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("2026-03-16", "not YYYYMMDD"), ("20260230", "no calendar day"), ("20260320-20260316", "ends before")],
)
def test_malformed_dates_are_named(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_date_range(text)


def test_time_ranges_cover_the_minute_or_hour_given() -> None:
    assert parse_time_range("0930") == (time(9, 30), time(9, 30, 59))
    assert parse_time_range("08-12") == (time(8, 0), time(12, 59, 59))
    assert parse_time_range("080000.000-") == (time(8, 0), None)
    with pytest.raises(QueryError, match="no time of day"):
        parse_time_range("2500")


def test_local_day_is_the_sites_day() -> None:
    late = entry()  # 23:30 UTC on the 16th is 00:30 on the 17th in Zurich
    on_17th = WorklistQuery(date_from=date(2026, 3, 17), date_to=date(2026, 3, 17))
    assert matches(late, on_17th, ZURICH)
    assert not matches(late, on_17th, UTC)
    start, end = utc_bounds(on_17th, ZURICH)
    assert start == datetime(2026, 3, 16, 23, 0, tzinfo=UTC) and end == datetime(
        2026, 3, 17, 23, 0, tzinfo=UTC
    )


def test_modality_codes() -> None:
    assert pathway_modalities("rf") == pathway_modalities("XA") == ("fluoroscopy",)
    assert pathway_modalities("US") == ("ultrasound",) and pathway_modalities("MR") == ()
    assert pathway_modalities(None) == ("fluoroscopy", "ct", "ultrasound")  # landmark is never offered
    assert answer_modality("fluoroscopy", None, fluoro_default="XA") == "XA"
    assert answer_modality("fluoroscopy", "rf", fluoro_default="XA") == "RF"
    assert answer_modality("ultrasound", "CT") == "US"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (WorklistQuery(), True),
        (WorklistQuery(modality="XA"), True),
        (WorklistQuery(modality="CT"), False),
        (WorklistQuery(station_ae_title="CARM01"), True),
        (WorklistQuery(station_ae_title="CARM02"), False),
        (WorklistQuery(station_ae_title="CARM*"), True),
        (WorklistQuery(patient_id="P-0001"), True),
        (WorklistQuery(patient_id="P-0002"), False),
        (WorklistQuery(patient_id="P-00*"), True),
        (WorklistQuery(accession_number="PG00000001"), True),
        (WorklistQuery(accession_number="PG0000000?"), True),
        (WorklistQuery(accession_number="PG00000002"), False),
        (WorklistQuery(patient_name="anna*"), True),
        (WorklistQuery(patient_name="*müller"), True),
        (WorklistQuery(patient_name="Meier*"), False),
        (WorklistQuery(time_from=time(23, 0), time_to=time(23, 59, 59)), True),
        (WorklistQuery(time_from=time(8, 0), time_to=time(12, 0)), False),
    ],
)
def test_matching_keys(query: WorklistQuery, expected: bool) -> None:
    assert matches(entry(), query, UTC) is expected


def test_no_planned_station_matches_only_a_universal_station_key() -> None:
    unplanned = entry(station_ae_title=None)
    assert matches(unplanned, WorklistQuery(station_ae_title="*"), UTC)
    assert not matches(unplanned, WorklistQuery(station_ae_title="CARM01"), UTC)


def test_ae_titles() -> None:
    assert is_ae_title("CARM01") and is_ae_title("OR 2")
    assert not is_ae_title("") and not is_ae_title("A" * 17) and not is_ae_title("back\\slash")


def test_query_describes_only_given_keys() -> None:
    query = WorklistQuery(modality="CT", date_from=date(2026, 3, 16))
    assert query.describe() == {"modality": "CT", "date_from": "2026-03-16"}
