"""Frozen value objects of a radiation dose report (pure domain: no DICOM, no database).

Every dose quantity is held in one canonical unit, named in the field:
dose-area product in Gy·cm² (``*_gy_cm2``), reference-point air kerma and CTDIvol in mGy (``*_mgy``),
dose-length product in mGy·cm (``*_mgy_cm``), times in seconds (``*_s``), lengths in mm (``*_mm``).
``None`` means the report does not state the value (or stated it in a form that could not be read; then the
report carries a :class:`ParseWarning` saying so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from painguide.i18n.marks import N_

__all__ = [
    "EACH_MISSING",
    "NOT_ESTIMATED",
    "SOME_MISSING",
    "SUMMED",
    "DeviceInfo",
    "DoseReport",
    "DoseTotals",
    "IrradiationEvent",
    "ParseWarning",
    "PatientInfo",
    "PeakSkinNote",
    "ReportFilter",
    "ReportKind",
    "SkinDose",
    "SkinDoseMap",
    "SkinReason",
    "StoredReport",
]


class ReportKind(StrEnum):
    """What kind of X-ray procedure a dose report describes."""

    FLUORO = "fluoro"
    """Projection X-ray with fluoroscopy (C-arm, angiography system); TID 10001."""
    RADIOGRAPHY = "radiography"
    """Projection X-ray with acquisitions only (no fluoroscopy time, no fluoroscopy event); TID 10001."""
    CT = "ct"
    """Computed tomography; TID 10011."""


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """A quirk met while reading a report; the value was normalised, or dropped, and the report kept.

    Attributes
    ----------
    kind : str
        ``unit`` (a vendor unit was normalised), ``malformed`` (a value could not be read and was dropped),
        ``template`` (template identifier missing or unexpected), ``dicom`` (a DICOM encoding problem
        pydicom reported) or ``missing`` (an expected item is absent).
    message : str
        Human-readable description naming the concept (``DCM 113722``) and what was done.
    """

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class PatientInfo:
    """Patient attributes exactly as stored in the report (strings, unparsed)."""

    patient_id: str | None = None
    name: str | None = None
    birth_date: str | None = None
    sex: str | None = None
    age: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The irradiating device as named by the report header or its Device Observer context."""

    manufacturer: str | None = None
    model: str | None = None
    station: str | None = None
    serial: str | None = None
    observer_uid: str | None = None


@dataclass(frozen=True, slots=True)
class IrradiationEvent:
    """One irradiation event (DCM 113706 projection X-ray, DCM 113819 CT acquisition).

    Attributes
    ----------
    index : int
        Position of the event in the report, from 0.
    event_type : str | None
        ``fluoroscopy``, ``stationary``, ``stepping``, ``rotational`` (projection) or ``spiral``,
        ``sequenced``, ``constant_angle``, ``stationary``, ``free`` (CT); ``None`` when unknown.
    filter_cu_mm, filter_al_mm : float | None
        Added beam filtration of copper and aluminium (DCM 113771 X-Ray Filters), summed over the filters of
        that material; ``None`` when the event names no filter of that material.
    """

    index: int
    uid: str | None = None
    started: datetime | None = None
    event_type: str | None = None
    protocol: str | None = None
    plane: str | None = None
    target_region: str | None = None
    dap_gy_cm2: float | None = None
    rp_dose_mgy: float | None = None
    kvp: float | None = None
    tube_current_ma: float | None = None
    pulses: float | None = None
    duration_s: float | None = None
    primary_angle_deg: float | None = None
    secondary_angle_deg: float | None = None
    ctdivol_mgy: float | None = None
    dlp_mgy_cm: float | None = None
    scan_length_mm: float | None = None
    phantom: str | None = None
    filter_cu_mm: float | None = None
    filter_al_mm: float | None = None


@dataclass(frozen=True, slots=True)
class DoseTotals:
    """Accumulated dose of the whole report (summed over planes for biplane systems)."""

    dap_total_gy_cm2: float | None = None
    fluoro_dap_gy_cm2: float | None = None
    acquisition_dap_gy_cm2: float | None = None
    rp_dose_total_mgy: float | None = None
    fluoro_time_s: float | None = None
    acquisition_time_s: float | None = None
    dlp_total_mgy_cm: float | None = None
    event_count: int = 0


@dataclass(frozen=True, slots=True)
class DoseReport:
    """A parsed X-ray or CT radiation dose structured report (TID 10001 / TID 10011).

    Attributes
    ----------
    operator : str | None
        The person who administered the irradiation, where the report names one (header Performing
        Physician's Name, else Operators' Name, else a TID 1020 person participant).
    study_datetime : datetime | None
        Local date-time of the study as stored (naive; DICOM gives no time zone).
    procedure_descriptions : tuple of str
        Further texts naming the procedure, in this order: Requested Procedure Description (0032,1060),
        also inside the Request Attributes Sequence, Scheduled Procedure Step Description (0040,0007),
        Performed Procedure Step Description (0040,0254), Protocol Name (0018,1030).
    """

    sop_instance_uid: str
    sop_class_uid: str
    kind: ReportKind
    template_id: str | None = None
    study_instance_uid: str | None = None
    study_datetime: datetime | None = None
    accession_number: str | None = None
    study_description: str | None = None
    procedure_descriptions: tuple[str, ...] = ()
    operator: str | None = None
    patient: PatientInfo = field(default_factory=PatientInfo)
    device: DeviceInfo = field(default_factory=DeviceInfo)
    totals: DoseTotals = field(default_factory=DoseTotals)
    events: tuple[IrradiationEvent, ...] = ()
    warnings: tuple[ParseWarning, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A report as kept in the database: its row id, where it came from and the procedure type it counts for.

    ``report.events`` is empty unless the events were loaded (detail views).
    """

    id: int
    report: DoseReport
    procedure_type: str | None
    source: str
    imported_at: datetime


@dataclass(frozen=True, slots=True)
class SkinDoseMap:
    """Skin dose on the patient phantom's surface, unrolled to a plane (one entry per phantom cell).

    Attributes
    ----------
    around_deg : tuple of float
        Angle around the patient's long axis: 0 is the back (posterior), ±180 the front.
    along_cm : tuple of float
        Position along the long axis, from the phantom's head end.
    dose_mgy : tuple of float
        Estimated skin dose of the cell.
    """

    around_deg: tuple[float, ...]
    along_cm: tuple[float, ...]
    dose_mgy: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SkinReason:
    """One reason a skin dose cannot be estimated: an English template and its values.

    A page shows it in its reader's language (``Translator.skin_note``); the English text is
    :attr:`english`.

    Examples
    --------
    >>> SkinReason("the device model %(model)r has no settings", {"model": "X"}).english
    "the device model 'X' has no settings"
    """

    text: str
    params: Mapping[str, str | int | float] = field(default_factory=dict)

    @property
    def english(self) -> str:
        """The reason in English, its values filled in."""
        return self.text % dict(self.params) if self.params else self.text

    def record(self) -> dict[str, object]:
        """The stored form: ``{"text": template, "params": values}``."""
        return {"text": self.text, "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class SkinDose:
    """A peak skin dose estimate, or the reason why there is none.

    Attributes
    ----------
    peak_skin_dose_mgy : float | None
        The highest estimated skin dose on the phantom; ``None`` when not estimable.
    note : str
        ``"not estimable, because …"`` without a value; with a value, the method and its main limits.
    method : str
        Model and settings (software version, phantom, corrections).
    dose_map : SkinDoseMap | None
        The dose on the phantom surface, when estimated.
    reasons : tuple of SkinReason
        Why it is not estimable, each reason a template a page translates (the ``note`` is their English
        text); empty with a value, and for a note kept before reasons were stored.
    """

    peak_skin_dose_mgy: float | None
    note: str
    method: str = ""
    dose_map: SkinDoseMap | None = None
    reasons: tuple[SkinReason, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """Which stored reports a list or an export is about; ``None`` is "any".

    ``procedure_type`` is a catalogue procedure id; ``unmapped`` selects the reports without one. ``device``
    matches the station name or the device serial number. ``since`` is inclusive, ``until`` exclusive (study
    date-time as stored).
    """

    patient_id: str | None = None
    study_instance_uid: str | None = None
    procedure_type: str | None = None
    unmapped: bool = False
    operator: str | None = None
    device: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def described(self) -> dict[str, str]:
        """The filters that are set, as text (for the audit trail)."""
        values = {
            "patient_id": self.patient_id, "study_instance_uid": self.study_instance_uid,
            "procedure_type": "unmapped" if self.unmapped else self.procedure_type, "operator": self.operator,
            "device": self.device, "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }  # fmt: skip
        return {key: value for key, value in values.items() if value}


NOT_ESTIMATED = N_("not estimated")
"""The note of a linked report imported without a skin dose estimate."""
EACH_MISSING = N_("report %(id)s: %(note)s")
"""One linked report without a peak skin dose, in :data:`SOME_MISSING`."""
SOME_MISSING = N_("not estimated for every linked report (%(why)s)")
"""Why a procedure with several linked reports has no peak skin dose."""
SUMMED = N_(
    "sum of the peak skin doses of %(count)s reports: an upper bound (their peaks may lie on different skin "
    "areas)"
)
"""The note of a procedure's peak skin dose summed over several reports."""


@dataclass(frozen=True, slots=True)
class PeakSkinNote:
    """The note on a procedure's peak skin dose, for a page to word in its reader's language.

    ``text`` is ``None`` for one linked report (its own note), else :data:`SOME_MISSING` or :data:`SUMMED`;
    ``skins`` are the reports it names (report id, estimate) and ``count`` the reports summed. The API and
    exports carry :attr:`english`.
    """

    text: str | None
    skins: tuple[tuple[int, SkinDose], ...] = ()
    count: int = 0

    @property
    def english(self) -> str:
        """The note in English."""
        return self.worded(_english, lambda skin: skin.note)

    def worded(self, gettext: Callable[..., str], skin_note: Callable[[SkinDose], str]) -> str:
        """The note through ``gettext`` (a template and its values) and ``skin_note`` (one report's note):
        English with :attr:`english`, a page's language with its translator's."""
        if self.text is None:
            return skin_note(self.skins[0][1]) if self.skins else gettext(NOT_ESTIMATED)
        if self.text == SOME_MISSING:
            why = "; ".join(gettext(EACH_MISSING, id=i, note=skin_note(skin)) for i, skin in self.skins)
            return gettext(SOME_MISSING, why=why)
        return gettext(self.text, count=self.count)


def _english(message: str, **values: object) -> str:
    """``message`` filled with ``values`` (the English counterpart of a translator's ``gettext``)."""
    return message % values if values else message
