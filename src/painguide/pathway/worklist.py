"""The DICOM Modality Worklist as the pathway sees it: entries, queries and matching (pure).

A scheduled procedure becomes one worklist entry (one requested procedure with one scheduled procedure
step). A modality's C-FIND query is parsed into a :class:`WorklistQuery` and matched here; the DICOM
encoding of both lives in :mod:`painguide.pathway.worklist_scp`.

Conventions (docs/pathway.md, "Worklist and linking"):

- Modalities: fluoroscopy is offered as ``RF`` or ``XA`` (a query for either matches; the answer carries
  the code asked for, else the site's default, ``PAINGUIDE_WORKLIST_FLUORO_MODALITY``), CT as ``CT``,
  ultrasound as ``US``. Landmark-guided procedures use no imaging device and are not offered.
- Dates and times are the site's local ones (DICOM carries no zone): stored UTC times are converted with
  the site's time zone, and a queried local date range is turned into a UTC range for the store.
- Only the birth year is known: Patient's Birth Date is sent empty (never an invented day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

__all__ = [
    "DICOM_MODALITIES",
    "PREGNANCY_CODES",
    "SEX_CODES",
    "QueryError",
    "WorklistEntry",
    "WorklistQuery",
    "answer_modality",
    "has_wildcard",
    "is_ae_title",
    "matches",
    "parse_date_range",
    "parse_time_range",
    "pathway_modalities",
    "utc_bounds",
]

#: Pathway modality → the DICOM modality codes it answers to (the first is the default answer).
DICOM_MODALITIES: dict[str, tuple[str, ...]] = {
    "fluoroscopy": ("RF", "XA"),
    "ct": ("CT",),
    "ultrasound": ("US",),
}
#: Patient sex as recorded → DICOM Patient's Sex (0010,0040); unknown is sent empty.
SEX_CODES: dict[str, str] = {"female": "F", "male": "M", "diverse": "O", "unknown": ""}
#: Pregnancy status as recorded → DICOM Pregnancy Status (0010,21C0): 1 not pregnant, 3 definitely
#: pregnant, 4 unknown (a person who cannot be pregnant is sent as not pregnant).
PREGNANCY_CODES: dict[str, int] = {"not_pregnant": 1, "not_applicable": 1, "pregnant": 3, "unknown": 4}

_AE_TITLE = re.compile(r"^[\x21-\x5b\x5d-\x7e][\x20-\x5b\x5d-\x7e]{0,15}$")
_DATE = re.compile(r"^\d{8}$")
_TIME = re.compile(r"^(\d{2})(\d{2})?(\d{2})?(?:\.\d{1,6})?$")


class QueryError(ValueError):
    """A matching key the worklist cannot read (a malformed date, time or range)."""


def is_ae_title(text: str | None) -> bool:
    """Whether ``text`` can be a DICOM AE title (1-16 printable characters, no backslash).

    Examples
    --------
    >>> is_ae_title("CARM01"), is_ae_title("OR 2 (left)"), is_ae_title("A" * 17)
    (True, True, False)
    """
    return bool(text) and bool(_AE_TITLE.match(str(text).strip()))


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    """One scheduled procedure as offered to a modality.

    Attributes
    ----------
    accession_number : str
        The procedure's accession number; also its Requested Procedure ID and Scheduled Procedure Step ID.
    procedure : str
        Catalogue procedure id (Requested Procedure Code Sequence, scheme ``99PAINGUIDE``).
    procedure_name : str
        Catalogue name: Requested Procedure Description and Scheduled Procedure Step Description.
    modality : str
        Pathway modality (``fluoroscopy``, ``ct``, ``ultrasound``).
    scheduled_at : datetime
        Scheduled start, timezone-aware.
    station_ae_title : str or None
        The planned station: the scheduled location when it is an AE title.
    location : str or None
        Where, as scheduled (Scheduled Procedure Step Location).
    patient_id : str
        The patient's pseudonym (Patient ID).
    patient_name : str or None
        The recorded name, else ``None`` (the pseudonym is then sent as the name).
    """

    accession_number: str
    procedure: str
    procedure_name: str
    modality: str
    scheduled_at: datetime
    station_ae_title: str | None
    location: str | None
    patient_id: str
    patient_name: str | None
    birth_year: int
    sex: str
    study_instance_uid: str | None
    height_cm: float | None = None
    weight_kg: float | None = None
    pregnancy: str = "unknown"


@dataclass(frozen=True, slots=True)
class WorklistQuery:
    """The matching keys the worklist supports; ``None`` matches everything.

    Dates and times are the site's local ones. Other keys of a query are not matched (documented).
    """

    modality: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    time_from: time | None = None
    time_to: time | None = None
    station_ae_title: str | None = None
    patient_id: str | None = None
    accession_number: str | None = None
    patient_name: str | None = None

    def describe(self) -> dict[str, str]:
        """The keys given, for the audit trail."""
        return {k: str(v) for k in self.__dataclass_fields__ if (v := getattr(self, k)) is not None}


def _date(text: str) -> date:
    if not _DATE.match(text):
        raise QueryError(f"Scheduled Procedure Step Start Date: {text!r} is not YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise QueryError(f"Scheduled Procedure Step Start Date: {text!r} is no calendar day") from None


def parse_date_range(text: str | None) -> tuple[date | None, date | None]:
    """A DICOM DA matching value: one day, ``from-to``, ``from-`` or ``-to`` (empty: any day).

    Examples
    --------
    >>> parse_date_range("20260316")
    (datetime.date(2026, 3, 16), datetime.date(2026, 3, 16))
    >>> parse_date_range("20260316-")
    (datetime.date(2026, 3, 16), None)
    >>> parse_date_range("2026031")
    Traceback (most recent call last):
    ...
    painguide.pathway.worklist.QueryError: Scheduled Procedure Step Start Date: '2026031' is not YYYYMMDD
    """
    value = (text or "").strip()
    if not value:
        return None, None
    if "-" not in value:
        day = _date(value)
        return day, day
    start, _, end = value.partition("-")
    first = _date(start.strip()) if start.strip() else None
    last = _date(end.strip()) if end.strip() else None
    if first is not None and last is not None and last < first:
        raise QueryError(f"Scheduled Procedure Step Start Date: the range {value!r} ends before it starts")
    return first, last


def _time(text: str, *, end: bool) -> time:
    match = _TIME.match(text)
    if not match:
        raise QueryError(f"Scheduled Procedure Step Start Time: {text!r} is not HHMMSS")
    hour, minute, second = (int(g) if g is not None else None for g in match.groups())
    assert hour is not None
    fill = 59 if end else 0
    try:
        return time(hour, fill if minute is None else minute, fill if second is None else second)
    except ValueError:
        raise QueryError(f"Scheduled Procedure Step Start Time: {text!r} is no time of day") from None


def parse_time_range(text: str | None) -> tuple[time | None, time | None]:
    """A DICOM TM matching value: one time, ``from-to``, ``from-`` or ``-to`` (empty: any time).

    A single time matches that minute (``0930`` is 09:30:00-09:30:59).

    Examples
    --------
    >>> parse_time_range("0800-1200")
    (datetime.time(8, 0), datetime.time(12, 0, 59))
    """
    value = (text or "").strip()
    if not value:
        return None, None
    if "-" not in value:
        return _time(value, end=False), _time(value, end=True)
    start, _, end = value.partition("-")
    return (
        _time(start.strip(), end=False) if start.strip() else None,
        _time(end.strip(), end=True) if end.strip() else None,
    )


def pathway_modalities(dicom_modality: str | None) -> tuple[str, ...]:
    """The pathway modalities a DICOM modality code asks for (all offered ones for ``None``).

    Examples
    --------
    >>> pathway_modalities("XA"), pathway_modalities("MR")
    (('fluoroscopy',), ())
    """
    if dicom_modality is None:
        return tuple(DICOM_MODALITIES)
    code = dicom_modality.strip().upper()
    return tuple(m for m, codes in DICOM_MODALITIES.items() if code in codes)


def answer_modality(modality: str, asked: str | None, *, fluoro_default: str = "RF") -> str:
    """The DICOM modality code sent for a pathway modality: the one asked for, else the default.

    Examples
    --------
    >>> answer_modality("fluoroscopy", "XA"), answer_modality("fluoroscopy", None)
    ('XA', 'RF')
    >>> answer_modality("ct", None)
    'CT'
    """
    codes = DICOM_MODALITIES[modality]
    if asked is not None and asked.strip().upper() in codes:
        return asked.strip().upper()
    if modality == "fluoroscopy" and fluoro_default in codes:
        return fluoro_default
    return codes[0]


def utc_bounds(query: WorklistQuery, zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    """The UTC interval ``[start, end)`` covering the queried local days (for an indexed store query)."""
    start = end = None
    if query.date_from is not None:
        start = datetime.combine(query.date_from, time(0), zone).astimezone(UTC)
    if query.date_to is not None:
        end = datetime.combine(query.date_to + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def has_wildcard(value: str | None) -> bool:
    """Whether a matching value uses ``*`` or ``?`` (wildcard matching instead of single value)."""
    return value is not None and ("*" in value or "?" in value)


def _value_matches(pattern: str | None, value: str | None) -> bool:
    if pattern is None or pattern.strip() in ("", "*"):
        return True
    if has_wildcard(pattern):
        return bool(_wildcard(pattern.strip()).fullmatch(value or ""))
    return (value or "") == pattern.strip()


def _name_matches(pattern: str, entry: WorklistEntry) -> bool:
    """Patient's Name with ``*`` and ``?`` (case-insensitive), against the name or the pseudonym."""
    regex = _wildcard(pattern.strip())
    names = [entry.patient_name or "", entry.patient_id]
    # a DICOM name is sent with ^ between components; also try the recorded words joined that way
    names += [n.replace(" ", "^") for n in names if n]
    return any(regex.fullmatch(name) for name in names if name)


def matches(entry: WorklistEntry, query: WorklistQuery, zone: tzinfo) -> bool:
    """Whether ``entry`` answers ``query``: single-value matching on modality; single-value or wildcard
    (``*``, ``?``) matching on station, patient id, accession number and name; range matching on the
    local date and time.

    Examples
    --------
    >>> at = datetime(2026, 3, 16, 8, 30, tzinfo=UTC)
    >>> e = WorklistEntry("PG00000001", "lumbar-tfesi", "Lumbar TFESI", "fluoroscopy", at,
    ...                   None, None, "P-1", None, 1970, "female", None)
    >>> matches(e, WorklistQuery(modality="XA", date_from=date(2026, 3, 16), date_to=date(2026, 3, 16)), UTC)
    True
    >>> matches(e, WorklistQuery(modality="CT"), UTC)
    False
    """
    local = entry.scheduled_at.astimezone(zone)
    checks = (
        query.modality is None or entry.modality in pathway_modalities(query.modality),
        query.date_from is None or local.date() >= query.date_from,
        query.date_to is None or local.date() <= query.date_to,
        query.time_from is None or local.time() >= query.time_from,
        query.time_to is None or local.time() <= query.time_to,
        _value_matches(query.station_ae_title, entry.station_ae_title),
        _value_matches(query.patient_id, entry.patient_id),
        _value_matches(query.accession_number, entry.accession_number),
        query.patient_name is None or _name_matches(query.patient_name, entry),
    )
    return all(checks)
