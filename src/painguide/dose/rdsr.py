"""Read X-ray and CT radiation dose structured reports (TID 10001, TID 10011) into dose models.

The parser is an adapter: it reads with pydicom, returns frozen dataclasses and never touches a database.
Concepts are matched on (coding scheme, code value), never on code meaning. Vendor units are normalised to
the canonical units of :mod:`painguide.dose.units`; every quirk becomes a :class:`ParseWarning` on the
report, and unreadable values are dropped with a warning (or raise, with ``strict=True``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from painguide.dose.models import (
    DeviceInfo,
    DoseReport,
    DoseTotals,
    IrradiationEvent,
    ParseWarning,
    PatientInfo,
    ReportKind,
)
from painguide.dose.srtree import (
    CODE_MEANING,
    CODE_VALUE,
    CONCEPT_CODE,
    CONCEPT_NAME,
    CONTENT,
    DATETIME,
    MEASURED_VALUE,
    NUMERIC_VALUE,
    PERSON_NAME,
    SCHEME,
    TEXT_VALUE,
    UID,
    UNITS,
    Item,
    TreeError,
    TruncatedError,
    items_from_dataset,
    read_sequence,
)
from painguide.dose.units import Quantity, UnknownUnitError, parse_number, to_canonical
from painguide.errors import DicomError, ImportRejectedError

if TYPE_CHECKING:  # pydicom loads only when a file is read (start-up time)
    from pydicom.dataset import Dataset

__all__ = [
    "DOSE_SR_SOP_CLASSES",
    "ENHANCED_SR",
    "XRAY_DOSE_SR",
    "parse_dataset",
    "read_dose_report",
]

XRAY_DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"
ENHANCED_SR = "1.2.840.10008.5.1.4.1.1.88.22"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34"
DOSE_SR_SOP_CLASSES = (XRAY_DOSE_SR, ENHANCED_SR, COMPREHENSIVE_SR, COMPREHENSIVE_3D_SR)
_REFUSED_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.88.68": "a Radiopharmaceutical Radiation Dose SR, not an X-ray dose report",
    "1.2.840.10008.5.1.4.1.1.88.73": "a Patient Radiation Dose SR, not an X-ray dose report",
}

Code = tuple[str, str]
DCM = "DCM"
REPORT_ROOT: Code = (DCM, "113701")  # X-Ray Radiation Dose Report
ACCUMULATED_XRAY: Code = (DCM, "113702")  # Accumulated X-Ray Dose Data (TID 10002)
XRAY_EVENT: Code = (DCM, "113706")  # Irradiation Event X-Ray Data (TID 10003)
CT_ACCUMULATED: Code = (DCM, "113811")  # CT Accumulated Dose Data (TID 10012)
CT_EVENT: Code = (DCM, "113819")  # CT Acquisition (TID 10013)
CT_PARAMETERS: Code = (DCM, "113822")  # CT Acquisition Parameters
CT_SOURCE: Code = (DCM, "113831")  # CT X-Ray Source Parameters
CT_DOSE: Code = (DCM, "113829")  # CT Dose

# Projection X-ray accumulated totals (TID 10002): code -> (DoseTotals field, quantity)
_PROJECTION_TOTALS: dict[Code, tuple[str, Quantity]] = {
    (DCM, "113722"): ("dap_total_gy_cm2", Quantity.DAP),  # Dose Area Product Total
    (DCM, "113726"): ("fluoro_dap_gy_cm2", Quantity.DAP),  # Fluoro Dose Area Product Total
    (DCM, "113727"): ("acquisition_dap_gy_cm2", Quantity.DAP),  # Acquisition Dose Area Product Total
    (DCM, "113725"): ("rp_dose_total_mgy", Quantity.RP_DOSE),  # Dose (RP) Total
    (DCM, "113730"): ("fluoro_time_s", Quantity.TIME),  # Total Fluoro Time
    (DCM, "113855"): ("acquisition_time_s", Quantity.TIME),  # Total Acquisition Time
}
# Numeric items of an irradiation event, wherever they sit in the event's subtree: code -> (field, quantity)
_EVENT_NUMBERS: dict[Code, tuple[str, Quantity]] = {
    (DCM, "122130"): ("dap_gy_cm2", Quantity.DAP),  # Dose Area Product
    (DCM, "113738"): ("rp_dose_mgy", Quantity.RP_DOSE),  # Dose (RP)
    (DCM, "113733"): ("kvp", Quantity.VOLTAGE),  # KVP
    (DCM, "113734"): ("tube_current_ma", Quantity.CURRENT),  # X-Ray Tube Current
    (DCM, "113768"): ("pulses", Quantity.COUNT),  # Number of Pulses
    (DCM, "113742"): ("duration_s", Quantity.TIME),  # Irradiation Duration
    (DCM, "113824"): ("duration_s", Quantity.TIME),  # Exposure Time (CT)
    (DCM, "112011"): ("primary_angle_deg", Quantity.ANGLE),  # Positioner Primary Angle
    (DCM, "112012"): ("secondary_angle_deg", Quantity.ANGLE),  # Positioner Secondary Angle
    (DCM, "113830"): ("ctdivol_mgy", Quantity.CTDI),  # Mean CTDIvol
    (DCM, "113838"): ("dlp_mgy_cm", Quantity.DLP),  # DLP
    (DCM, "113825"): ("scan_length_mm", Quantity.LENGTH),  # Scanning Length
}
# Irradiation Event Type (DCM 113721) and CT Acquisition Type (DCM 113820) values
_EVENT_TYPES: dict[Code, str] = {
    ("SRT", "P5-06000"): "fluoroscopy",
    ("SCT", "44491008"): "fluoroscopy",
    (DCM, "113611"): "stationary",
    (DCM, "113612"): "stepping",
    (DCM, "113613"): "rotational",
    ("SRT", "P5-08001"): "spiral",
    ("SCT", "116152004"): "spiral",
    (DCM, "113804"): "sequenced",
    (DCM, "113805"): "constant_angle",
    (DCM, "113806"): "stationary",
    (DCM, "113807"): "free",
}
# (total field, event field, label) compared by _Reader.check_events_add_up
_EVENT_SUMS = (
    ("dap_total_gy_cm2", "dap_gy_cm2", "DAP (Gy·cm²)"),
    ("rp_dose_total_mgy", "rp_dose_mgy", "reference-point dose (mGy)"),
)
_PLANES: dict[Code, str] = {(DCM, "113620"): "A", (DCM, "113621"): "B", (DCM, "113622"): "single"}
_PHANTOMS: dict[Code, str] = {(DCM, "113690"): "head", (DCM, "113691"): "body"}
# X-Ray Filter Material (DCM 113757) values as written by the sample systems: material -> event field
_FILTER_MATERIALS: dict[Code, str] = {
    ("SRT", "C-127F9"): "filter_cu_mm",  # Copper or Copper compound
    ("SRT", "C-120F9"): "filter_al_mm",  # Aluminum or Aluminum compound
}
_XRAY_FILTERS = (DCM, "113771")
_FILTER_MATERIAL = (DCM, "113757")
_FILTER_MIN = (DCM, "113758")  # X-Ray Filter Thickness Minimum
_FILTER_MAX = (DCM, "113773")  # X-Ray Filter Thickness Maximum
_EVENT_TYPE = (DCM, "113721")
_CT_ACQUISITION_TYPE = (DCM, "113820")
_ACQUISITION_PLANE = (DCM, "113764")
_DATETIME_STARTED = (DCM, "111526")
_PROTOCOL = (DCM, "125203")
_EVENT_UID = (DCM, "113769")
_TARGET_REGION = (DCM, "123014")
_PHANTOM_TYPE = (DCM, "113835")
_CT_EVENT_COUNT = (DCM, "113812")
_CT_DLP_TOTAL = (DCM, "113813")
_PERSON_NAME = (DCM, "113870")
_PERSON_ROLE = (DCM, "113875")
_IRRADIATION_ADMINISTERING = (DCM, "113851")
_OBSERVER_FIELDS = {
    (DCM, "121012"): "observer_uid",  # Device Observer UID
    (DCM, "121013"): "station",  # Device Observer Name
    (DCM, "121014"): "manufacturer",  # Device Observer Manufacturer
    (DCM, "121015"): "model",  # Device Observer Model Name
    (DCM, "121016"): "serial",  # Device Observer Serial Number
}

_UID = re.compile(r"(?=.{1,64}\Z)[0-9]+(\.[0-9]+)*")
_CONTENT_SEQUENCE = 0x0040A730
_UNDEFINED_LENGTH = 0xFFFFFFFF
_DEFLATED = "1.2.840.10008.1.2.1.99"


def read_dose_report(source: str | Path | bytes | BinaryIO, *, strict: bool = False) -> DoseReport:
    """Read a dose report from a file path, bytes or a binary stream.

    Parameters
    ----------
    source : str, Path, bytes or binary file
        The DICOM file (Part 10, or a bare dataset).
    strict : bool
        Raise :class:`~painguide.errors.ImportRejectedError` on a malformed value or unknown unit instead of
        dropping it with a warning.

    Returns
    -------
    DoseReport

    Raises
    ------
    DicomError
        If the file cannot be read as DICOM.
    ImportRejectedError
        If the object is not an X-ray or CT radiation dose report (the message says why).
    """
    data = _bytes_of(source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        header, content = _read(data)
        report = _parse(header, content, strict=strict)
    return _with_dicom_warnings(report, caught)


def _bytes_of(source: str | Path | bytes | BinaryIO) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    return source.read()


def _at_content(tag: int, _vr: str | None, _length: int) -> bool:
    return int(tag) == _CONTENT_SEQUENCE


def _read(data: bytes) -> tuple[Dataset, list[Item]]:
    """The header as a pydicom dataset (everything but the content tree) and the content tree.

    pydicom reads the elements before the Content Sequence and stops there; the content tree is read from
    the bytes by :mod:`painguide.dose.srtree`; the elements after it are read by pydicom again, only to
    check that none is cut short.
    """
    from pydicom.filereader import read_dataset, read_partial

    stream = BytesIO(data)
    try:
        header = read_partial(stream, stop_when=_at_content, force=True)
    except Exception as exc:  # pydicom raises many types for broken files; all mean "unreadable"
        raise DicomError(f"cannot read as DICOM: {type(exc).__name__}: {exc}") from exc
    if 0x00080016 not in header:
        raise DicomError("not a DICOM storage object: SOP Class UID (0008,0016) is missing")
    _check_complete(header)
    meta = getattr(header, "file_meta", None)
    if meta is not None and str(meta.get("TransferSyntaxUID", "")) == _DEFLATED:
        return _read_whole(data)
    implicit, little = header.original_encoding
    position = stream.tell()
    if implicit is None or little is None or position + 8 > len(data):
        return header, []
    try:
        content, end, declared, present = read_sequence(data, position, implicit=implicit, little=little)
    except TruncatedError as exc:
        raise DicomError(f"file is truncated or damaged: {exc}; re-send or re-export the report") from exc
    except (TreeError, IndexError, ValueError) as exc:
        raise ImportRejectedError(
            f"dose report structure cannot be read (content tree: {exc}); "
            "check the file with dciodvfy or re-export it from the modality"
        ) from exc
    if declared is not None and present < declared:
        raise DicomError(
            f"file is truncated: element (0040,A730) declares {declared} bytes but {present} are present; "
            "re-send or re-export the report"
        )
    stream.seek(end)
    try:
        rest = read_dataset(stream, implicit, little)
    except Exception as exc:  # the elements after the content tree cannot be read: the file is broken
        raise DicomError(f"cannot read as DICOM: {type(exc).__name__}: {exc}") from exc
    _check_complete(rest)
    return header, content


def _read_whole(data: bytes) -> tuple[Dataset, list[Item]]:
    """A deflated file: pydicom inflates and decodes the whole tree (slower, rare)."""
    import pydicom

    try:
        dataset = pydicom.dcmread(BytesIO(data), force=True)
        content = items_from_dataset(dataset.get("ContentSequence") or [])
    except Exception as exc:  # pydicom raises many types for broken files; all mean "unreadable"
        raise DicomError(f"cannot read as DICOM: {type(exc).__name__}: {exc}") from exc
    return dataset, content


def parse_dataset(dataset: Dataset, *, strict: bool = False) -> DoseReport:
    """Parse an already decoded pydicom ``Dataset`` (for example one received over the network).

    Parameters
    ----------
    dataset : pydicom.Dataset
        The dose report.
    strict : bool
        See :func:`read_dose_report`.

    Returns
    -------
    DoseReport
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            content = items_from_dataset(dataset.get("ContentSequence") or [])
        except Exception as exc:  # a structurally broken dataset: refuse, never crash
            raise ImportRejectedError(
                f"dose report structure cannot be read ({type(exc).__name__}: {exc}); "
                "check the file with dciodvfy or re-export it from the modality"
            ) from exc
        report = _parse(dataset, content, strict=strict)
    return _with_dicom_warnings(report, caught)


def _check_complete(dataset: Dataset) -> None:
    """Refuse a truncated file: a top-level element whose stored length exceeds the bytes present.

    pydicom defers decoding defined-length sequences, so a file cut inside the Content Sequence would
    otherwise read as a shorter, valid-looking report.
    """
    try:
        elements = list(dataset.elements())
    except Exception as exc:  # pydicom decodes some elements while listing them; broken ones raise
        raise DicomError(f"cannot read as DICOM: {type(exc).__name__}: {exc}") from exc
    for element in elements:
        length: int | None = getattr(element, "length", None)  # a RawDataElement's declared length
        if not getattr(element, "is_raw", False) or element.value is None or length is None:
            continue
        if length != _UNDEFINED_LENGTH and len(element.value) != length:
            raise DicomError(
                f"file is truncated: element {element.tag} declares {length} bytes but "
                f"{len(element.value)} are present; re-send or re-export the report"
            )


def _with_dicom_warnings(report: DoseReport, caught: Iterable[warnings.WarningMessage]) -> DoseReport:
    seen = dict.fromkeys(str(w.message).split(" Please see")[0] for w in caught)
    if not seen:
        return report
    extra = tuple(ParseWarning("dicom", message) for message in seen)
    return replace(report, warnings=report.warnings + extra)


def _parse(dataset: Dataset, content: list[Item], *, strict: bool) -> DoseReport:
    try:
        _check_sop_class(dataset)
        return _Reader(strict, dataset).report(dataset, content)
    except (DicomError, ImportRejectedError):
        raise
    except Exception as exc:  # a structurally broken dataset (truncated, wrong VRs): refuse, never crash
        raise ImportRejectedError(
            f"dose report structure cannot be read ({type(exc).__name__}: {exc}); "
            "check the file with dciodvfy or re-export it from the modality"
        ) from exc


def _procedure_descriptions(ds: Dataset) -> tuple[str, ...]:
    """Header texts besides Study Description that name the procedure (in order, without repeats)."""
    found: list[str | None] = [_text(ds.get("RequestedProcedureDescription"))]
    for item in ds.get("RequestAttributesSequence") or []:
        found.append(_text(item.get("RequestedProcedureDescription")))
        found.append(_text(item.get("ScheduledProcedureStepDescription")))
    found.append(_text(ds.get("PerformedProcedureStepDescription")))
    found.append(_text(ds.get("ProtocolName")))
    return tuple(dict.fromkeys(text for text in found if text))


def _check_sop_class(dataset: Dataset) -> None:
    sop_class = str(dataset.get("SOPClassUID", "") or "")
    if not sop_class:
        raise ImportRejectedError("SOP Class UID (0008,0016) is missing: this is not a DICOM storage object")
    if sop_class in _REFUSED_SOP_CLASSES:
        raise ImportRejectedError(f"SOP class {sop_class} is {_REFUSED_SOP_CLASSES[sop_class]}")
    if sop_class not in DOSE_SR_SOP_CLASSES:
        raise ImportRejectedError(
            f"SOP class {sop_class} is not a structured report that can carry a radiation dose report "
            f"(expected X-Ray Radiation Dose SR {XRAY_DOSE_SR} or Enhanced/Comprehensive SR)"
        )
    uid = str(dataset.get("SOPInstanceUID", "") or "")
    if not uid:
        raise ImportRejectedError("SOP Instance UID (0008,0018) is missing: the report cannot be identified")
    if not _UID.fullmatch(uid):
        raise ImportRejectedError(
            f"SOP Instance UID (0008,0018) {uid[:80]!r} is not a valid DICOM UID (digits and dots, at most "
            "64 characters): the file is damaged, and stored under this identity it could count a report "
            "twice; re-send or re-export the report"
        )


def _header_code(dataset: Dataset, tag: int) -> Code | None:
    """(scheme, value) of the first item of the code sequence ``tag`` of a pydicom dataset (the header)."""
    if tag not in dataset:
        return None
    value = dataset[tag].value
    if not value:
        return None
    code = value[0]
    return (_ascii(_raw(code, SCHEME)) or "", _ascii(_raw(code, CODE_VALUE)) or "")


def _raw(dataset: Dataset, tag: int) -> object:
    """A pydicom element's value without conversion (raw bytes where pydicom has not decoded it)."""
    element = dataset.get_item(tag)
    return None if element is None else element.value


def _code(item: Item, tag: int) -> Code | None:
    """(scheme, value) of the first item of the code sequence ``tag`` of a content item, or ``None``."""
    sequence = item.get(tag)
    if not sequence:
        return None
    code = sequence[0]
    return (_ascii(code.get(SCHEME)) or "", _ascii(code.get(CODE_VALUE)) or "")


def _ascii(value: object) -> str | None:
    """A short ASCII leaf value (CS, SH, DS, UI, DT) as a stripped string; ``None`` when absent or empty."""
    if isinstance(value, bytes):
        text = value.decode("ascii", "replace").strip(" \x00")
    elif value is None:
        return None
    else:
        text = str(value).strip()
    return text or None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _parse_dicom_datetime(date: str | None, time: str | None = None) -> datetime | None:
    """Parse DA + TM, or a DT, to a naive datetime; ``None`` for empty input, ValueError when malformed."""
    if not date:
        return None
    text = date.strip() + (time or "").strip()
    text = text.split("+")[0].split("-")[0] if len(text) > 8 else text
    digits, _, fraction = text.partition(".")
    if not digits.isdigit() or len(digits) not in (8, 10, 12, 14):
        raise ValueError(f"{text!r} is not a DICOM date-time")
    padded = digits.ljust(14, "0")
    parsed = datetime.strptime(padded, "%Y%m%d%H%M%S")
    micro = int(fraction[:6].ljust(6, "0")) if fraction.isdigit() else 0
    return parsed.replace(microsecond=micro)


class _Reader:
    """One pass over a dose report's content tree, collecting values and warnings."""

    def __init__(self, strict: bool, header: Dataset) -> None:
        self.strict = strict
        self._header = header
        self._encodings: list[str] | None = None
        self._warnings: dict[tuple[str, str], int] = {}

    def decoded(self, item: Item, tag: int, vr: str) -> object:
        """A text leaf (Text Value, UID, Person Name, Code Meaning) converted as pydicom converts it.

        pydicom's conversion applies the character set and emits the same validation warnings as reading
        the attribute from a pydicom dataset would.
        """
        value = item.get(tag)
        if not isinstance(value, bytes):
            return value
        from pydicom.dataelem import RawDataElement
        from pydicom.tag import Tag
        from pydicom.values import convert_value

        if self._encodings is None:
            self._encodings = _encodings(self._header)
        raw = RawDataElement(Tag(tag), vr, len(value), value, 0, True, True)
        return convert_value(vr, raw, self._encodings)

    def note(self, kind: str, message: str) -> None:
        """Record a quirk once, counting repeats (a unit quirk usually repeats in every event)."""
        key = (kind, message)
        self._warnings[key] = self._warnings.get(key, 0) + 1

    def warn(self, kind: str, message: str) -> None:
        """Record a value problem; in strict mode, refuse the report instead."""
        if self.strict and kind in ("malformed", "unknown_unit"):
            raise ImportRejectedError(f"{message} (strict DICOM mode is on)")
        self.note("unit" if kind == "unknown_unit" else kind, message)

    @property
    def warnings(self) -> tuple[ParseWarning, ...]:
        return tuple(
            ParseWarning(kind, message if count == 1 else f"{message} ({count} items)")
            for (kind, message), count in self._warnings.items()
        )

    # --- leaf values -------------------------------------------------------------------------------
    def number(self, item: Item, quantity: Quantity, code: Code) -> float | None:
        """The canonical value of a NUM content item (``None`` with a warning when unreadable)."""
        label = f"{code[0]} {code[1]}"
        measured = item.get(MEASURED_VALUE)
        if not measured:
            return None  # NUM without a value (Numeric Value Qualifier only)
        mv = measured[0]
        raw = _ascii(mv.get(NUMERIC_VALUE))
        if raw is None:
            if mv.get(NUMERIC_VALUE):  # bytes present but only NULs or spaces: a damaged value
                self.warn("malformed", f"{label}: numeric value is empty (zero bytes); value dropped")
            return None
        value = parse_number(raw)
        if value is None:
            self.warn("malformed", f"{label}: numeric value {raw!r} is not a number; value dropped")
            return None
        unit_code = _code(mv, UNITS)
        unit = unit_code[1] if unit_code else ""
        try:
            canonical, quirk = to_canonical(quantity, value, unit)
        except UnknownUnitError as exc:
            self.warn("unknown_unit", f"{label}: {exc.message}; value dropped")
            return None
        if quirk:
            self.note("unit", f"{label}: {quirk}")
        return canonical

    def datetime_of(self, item: Item, label: str) -> datetime | None:
        raw = _ascii(item.get(DATETIME))
        try:
            return _parse_dicom_datetime(raw)
        except ValueError:
            self.warn("malformed", f"{label}: date-time {raw!r} is not a DICOM DT; value dropped")
            return None

    # --- report --------------------------------------------------------------------------------------
    def report(self, ds: Dataset, content: list[Item]) -> DoseReport:
        root = _header_code(ds, CONCEPT_NAME)
        template = self.template_id(ds)
        codes = {_code(item, CONCEPT_NAME) for item in content}
        if root != REPORT_ROOT:
            if not codes & {ACCUMULATED_XRAY, CT_ACCUMULATED, XRAY_EVENT, CT_EVENT}:
                shown = f"{root[0]} {root[1]}" if root else "missing"
                raise ImportRejectedError(
                    f"SR document title (concept name) is {shown}, not DCM 113701 X-Ray Radiation Dose "
                    "Report, and it holds no dose containers (DCM 113702 / 113811): not a dose report"
                )
            self.note("template", "document title is not DCM 113701; read anyway")
        is_ct = bool(codes & {CT_ACCUMULATED, CT_EVENT})
        if not is_ct and not codes & {ACCUMULATED_XRAY, XRAY_EVENT}:
            raise ImportRejectedError(
                "dose report holds neither Accumulated X-Ray Dose Data (DCM 113702) nor CT Accumulated Dose "
                "Data (DCM 113811): no dose to read"
            )
        self.check_template(template, is_ct)
        events = self.events(content, ct=is_ct)
        totals = self.ct_totals(content, events) if is_ct else self.projection_totals(content, events)
        kind = ReportKind.CT if is_ct else _projection_kind(totals, events)
        return DoseReport(
            sop_instance_uid=str(ds.SOPInstanceUID),
            sop_class_uid=str(ds.SOPClassUID),
            kind=kind,
            template_id=template,
            study_instance_uid=_text(ds.get("StudyInstanceUID")),
            study_datetime=self.study_datetime(ds, events),
            accession_number=_text(ds.get("AccessionNumber")),
            study_description=_text(ds.get("StudyDescription")),
            procedure_descriptions=_procedure_descriptions(ds),
            operator=self.operator(ds, content),
            patient=PatientInfo(
                patient_id=_text(ds.get("PatientID")),
                name=_text(ds.get("PatientName")),
                birth_date=_text(ds.get("PatientBirthDate")),
                sex=_text(ds.get("PatientSex")),
                age=_text(ds.get("PatientAge")),
            ),
            device=self.device(ds, content),
            totals=totals,
            events=events,
            warnings=self.warnings,
        )

    def template_id(self, ds: Dataset) -> str | None:
        sequence = ds.get("ContentTemplateSequence")
        if not sequence:
            return None
        return _ascii(_raw(sequence[0], 0x0040DB00))  # Template Identifier

    def check_template(self, template: str | None, is_ct: bool) -> None:
        expected = "10011" if is_ct else "10001"
        if template is None:
            self.note("template", f"no template identifier; read as TID {expected} from its content")
        elif template != expected:
            self.note("template", f"template identifier {template!r} but content is TID {expected}")

    def study_datetime(self, ds: Dataset, events: tuple[IrradiationEvent, ...]) -> datetime | None:
        for date_kw, time_kw in (("StudyDate", "StudyTime"), ("ContentDate", "ContentTime")):
            date = _text(ds.get(date_kw))
            try:
                parsed = _parse_dicom_datetime(date, _text(ds.get(time_kw)))
            except ValueError:
                self.warn("malformed", f"{date_kw}/{time_kw}: {date!r} is not a DICOM date; ignored")
                continue
            if parsed is not None:
                return parsed
        started = [event.started for event in events if event.started is not None]
        return min(started) if started else None

    def operator(self, ds: Dataset, content: list[Item]) -> str | None:
        for keyword in ("PerformingPhysicianName", "OperatorsName"):
            value = ds.get(keyword)
            name = _text(value[0] if isinstance(value, list | tuple) and value else value)
            if name:
                return name
        for item in _walk(content):
            if _code(item, CONCEPT_NAME) != _PERSON_NAME:
                continue
            roles = {_code(sub, CONCEPT_CODE) for sub in item.get(CONTENT) or []}
            if _IRRADIATION_ADMINISTERING in roles:
                return _text(self.decoded(item, PERSON_NAME, "PN"))
        return None

    def device(self, ds: Dataset, content: list[Item]) -> DeviceInfo:
        observer: dict[str, str | None] = {}
        for item in content:
            field_name = _OBSERVER_FIELDS.get(_code(item, CONCEPT_NAME) or ("", ""))
            if field_name:
                value = self.decoded(item, UID, "UI") or self.decoded(item, TEXT_VALUE, "UT")
                observer[field_name] = _text(value)
        return DeviceInfo(
            manufacturer=_text(ds.get("Manufacturer")) or observer.get("manufacturer"),
            model=_text(ds.get("ManufacturerModelName")) or observer.get("model"),
            station=_text(ds.get("StationName")) or observer.get("station"),
            serial=_text(ds.get("DeviceSerialNumber")) or observer.get("serial"),
            observer_uid=observer.get("observer_uid"),
        )

    # --- totals --------------------------------------------------------------------------------------
    def projection_totals(self, content: list[Item], events: tuple[IrradiationEvent, ...]) -> DoseTotals:
        """Sum DCM 113702 containers (one per plane on biplane systems)."""
        sums: dict[str, float] = {}
        for container in content:
            if _code(container, CONCEPT_NAME) != ACCUMULATED_XRAY:
                continue
            for item in container.get(CONTENT) or []:
                code = _code(item, CONCEPT_NAME)
                target = _PROJECTION_TOTALS.get(code) if code else None
                if target is None or code is None:
                    continue
                value = self.number(item, target[1], code)
                if value is not None:
                    sums[target[0]] = sums.get(target[0], 0.0) + value
        self.check_events_add_up(sums, events)
        return DoseTotals(event_count=len(events), **{k: _tidy(v) for k, v in sums.items()})

    def check_events_add_up(self, sums: dict[str, float], events: tuple[IrradiationEvent, ...]) -> None:
        """Warn when the events that state a dose add up to less than half the stated total.

        Vendors differ by up to about a sixth between the DAP total and the sum of event DAPs; events lost
        to a damaged or cut content tree leave far less.
        """
        for total_field, event_field, label in _EVENT_SUMS:
            total = sums.get(total_field)
            stated = [value for e in events if (value := getattr(e, event_field)) is not None]
            if not total or total <= 0 or not stated:
                continue
            part = sum(stated)
            if part < 0.5 * total:
                self.note(
                    "missing",
                    f"the events' {label} adds up to {part:.4g}, {part / total:.0%} of the stated total "
                    f"{total:.4g}: irradiation events may be missing or damaged",
                )

    def ct_totals(self, content: list[Item], events: tuple[IrradiationEvent, ...]) -> DoseTotals:
        """Read DCM 113811 CT Accumulated Dose Data."""
        dlp: float | None = None
        count: float | None = None
        for container in content:
            if _code(container, CONCEPT_NAME) != CT_ACCUMULATED:
                continue
            for item in container.get(CONTENT) or []:
                code = _code(item, CONCEPT_NAME)
                if code == _CT_DLP_TOTAL:
                    dlp = self.number(item, Quantity.DLP, code)
                elif code == _CT_EVENT_COUNT:
                    count = self.number(item, Quantity.COUNT, code)
        if count is not None and int(count) != len(events):
            self.note("missing", f"DCM 113812 states {int(count)} events but {len(events)} are in the report")
        event_count = int(count) if count is not None else len(events)
        return DoseTotals(dlp_total_mgy_cm=dlp, event_count=event_count)

    # --- events --------------------------------------------------------------------------------------
    def events(self, content: list[Item], *, ct: bool) -> tuple[IrradiationEvent, ...]:
        wanted = CT_EVENT if ct else XRAY_EVENT
        containers = [c for c in content if _code(c, CONCEPT_NAME) == wanted]
        return tuple(self.event(index, container) for index, container in enumerate(containers))

    def event(self, index: int, container: Item) -> IrradiationEvent:
        """Read one DCM 113706 or DCM 113819 container and its nested parameter containers."""
        values: dict[str, Any] = {}
        for item in _walk(container.get(CONTENT) or []):
            code = _code(item, CONCEPT_NAME)
            if code is None:
                continue
            numeric = _EVENT_NUMBERS.get(code)
            if numeric is not None:
                if numeric[0] not in values:
                    values[numeric[0]] = self.number(item, numeric[1], code)
                continue
            self.event_item(code, item, values)
        return IrradiationEvent(index=index, **values)

    def event_item(self, code: Code, item: Item, values: dict[str, object]) -> None:
        if code in (_EVENT_TYPE, _CT_ACQUISITION_TYPE):
            value = _code(item, CONCEPT_CODE)
            values["event_type"] = _EVENT_TYPES.get(value) if value else None
        elif code == _ACQUISITION_PLANE:
            value = _code(item, CONCEPT_CODE)
            values["plane"] = _PLANES.get(value) if value else None
        elif code == _PHANTOM_TYPE:
            value = _code(item, CONCEPT_CODE)
            values["phantom"] = _PHANTOMS.get(value) if value else None
        elif code == _DATETIME_STARTED:
            values["started"] = self.datetime_of(item, "DCM 111526")
        elif code == _PROTOCOL:
            values["protocol"] = _text(self.decoded(item, TEXT_VALUE, "UT")) or self.meaning(item)
        elif code == _EVENT_UID:
            values["uid"] = _text(self.decoded(item, UID, "UI"))
        elif code == _TARGET_REGION:
            values["target_region"] = self.meaning(item)
        elif code == _XRAY_FILTERS:
            self.filtration(item, values)

    def filtration(self, container: Item, values: dict[str, Any]) -> None:
        """Add one X-Ray Filters container (DCM 113771) to the event's copper or aluminium thickness.

        The thickness is the mean of the minimum and maximum (equal for the flat filters of C-arms); a
        filter of another material is not counted.
        """
        material: str | None = None
        thickness: list[float] = []
        for item in container.get(CONTENT) or []:
            code = _code(item, CONCEPT_NAME)
            if code == _FILTER_MATERIAL:
                value = _code(item, CONCEPT_CODE)
                material = _FILTER_MATERIALS.get(value) if value else None
            elif code in (_FILTER_MIN, _FILTER_MAX):
                number = self.number(item, Quantity.LENGTH, code)
                if number is not None:
                    thickness.append(number)
        if material is not None and thickness:
            values[material] = _tidy((values.get(material) or 0.0) + sum(thickness) / len(thickness))

    def meaning(self, item: Item) -> str | None:
        """Code meaning of a CODE item, for display only (matching uses code values)."""
        sequence = item.get(CONCEPT_CODE)
        return _text(self.decoded(sequence[0], CODE_MEANING, "LO")) if sequence else None


def _encodings(header: Dataset) -> list[str]:
    """The Python encodings of the report's Specific Character Set (pydicom's default when absent)."""
    from pydicom.charset import convert_encodings, default_encoding

    value = header.get("SpecificCharacterSet")
    return list(convert_encodings(value)) if value else [default_encoding]


def _walk(items: Iterable[Item]) -> Iterable[Item]:
    """Depth-first iteration over content items and their nested content."""
    for item in items:
        yield item
        children = item.get(CONTENT)
        if children:
            yield from _walk(children)


def _tidy(value: float) -> float:
    return float(f"{value:.12g}")


def _projection_kind(totals: DoseTotals, events: tuple[IrradiationEvent, ...]) -> ReportKind:
    """Fluoroscopy when there is any fluoro time, fluoro DAP or fluoroscopy event; radiography otherwise."""
    if any(event.event_type == "fluoroscopy" for event in events):
        return ReportKind.FLUORO
    if (totals.fluoro_time_s or 0.0) > 0 or (totals.fluoro_dap_gy_cm2 or 0.0) > 0:
        return ReportKind.FLUORO
    return ReportKind.RADIOGRAPHY
