"""Synthetic radiation dose structured reports for tests, benchmarks and demo data.

Reports are built with pydicom: TID 10001 fluoroscopy reports (pulsed fluoroscopy events plus a few stationary
acquisitions) and TID 10011 CT reports, with seeded randomness so that a seed always gives the same file.
Vendor quirks met in real files can be switched on with :class:`Quirks`.

Dose values are synthetic. Fluoroscopy DAP and fluoroscopy time are drawn log-normally around the published
medians of :data:`FLUORO_PROFILES` (source ids in the table); the reference-point dose is derived from the DAP
through a random collimated field area, and CT values are scaled to the BfS CT lumbar spine reference level.
They look realistic; they are not clinical data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import Tag
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from painguide.dose.rdsr import ENHANCED_SR, XRAY_DOSE_SR

__all__ = [
    "CT_PROFILE",
    "DAMAGE_KINDS",
    "FLUORO_PROFILES",
    "CtProfile",
    "FluoroProfile",
    "Quirks",
    "ct_report",
    "damage",
    "damaged_variants",
    "fluoro_report",
    "write_corpus",
    "write_report",
]


@dataclass(frozen=True, slots=True)
class FluoroProfile:
    """Typical dose of a fluoroscopy-guided procedure (median DAP and fluoroscopy time, with the source)."""

    description: str
    median_dap_gy_cm2: float
    median_fluoro_time_s: float
    source: str


FLUORO_PROFILES: dict[str, FluoroProfile] = {
    "lumbar-tfesi": FluoroProfile("Lumbar TFESI", 0.678, 29.0, "Kim, PubMed 24441060"),
    "caudal-esi": FluoroProfile("Caudal ESI", 0.546, 13.0, "Kim, PubMed 24441060"),
    "lumbar-facet-mbb": FluoroProfile(
        "Lumbar medial branch block", 0.59, 6.0, "J Korean Med Sci 2016;31:S55"
    ),
    "cervical-facet-mbb": FluoroProfile(
        "Cervical MBB", 1.18, 34.0, "Pain Practice 2012 (mixed spine procedures)"
    ),
    "sij-ia": FluoroProfile("SIJ injection", 1.18, 34.0, "Pain Practice 2012 (mixed spine procedures)"),
}
"""Keyed by catalogue procedure id; each description maps back to its key."""


@dataclass(frozen=True, slots=True)
class CtProfile:
    """The reference level synthetic CT reports are scaled to (DLP median at 60 % of it)."""

    description: str
    drl_dlp_mgy_cm: float
    source: str


CT_PROFILE = CtProfile(
    "CT-guided lumbar PRT", 180.0, "BfS DRL 2022 CT lumbar spine (BAnz AT 11.01.2023 B11), secondary"
)
"""Scaled to the diagnostic CT lumbar spine level: no reference level for CT-guided injections was found."""


@dataclass(frozen=True, slots=True)
class Quirks:
    """Vendor quirks to reproduce in a synthetic report.

    Attributes
    ----------
    dap_unit, rp_unit, dlp_unit : str
        Unit code values written for DAP, reference-point dose and DLP (``Gym2``, ``dGy.cm2``, ``mGy``,
        ``mGycm`` are seen in real files; the standard spellings are ``Gy.m2``, ``Gy`` and ``mGy.cm``).
    malformed_current : bool
        Write the tube current of the first event as ``"10.50/ 15.00"`` (not a decimal string).
    template_id : bool
        Write the Content Template Sequence (TID 10001 / 10011); some mini C-arms omit it.
    enhanced_sr : bool
        Use the Enhanced SR SOP class (as some CT scanners do) instead of X-Ray Radiation Dose SR.
    implicit_vr : bool
        Write Implicit VR Little Endian (as the Philips and Siemens samples are written) instead of
        Explicit VR Little Endian.
    undefined_lengths : bool
        Write every sequence and sequence item with undefined length and delimiters (as one Siemens sample
        does) instead of defined lengths.
    """

    dap_unit: str = "Gy.m2"
    rp_unit: str = "Gy"
    dlp_unit: str = "mGy.cm"
    malformed_current: bool = False
    template_id: bool = True
    enhanced_sr: bool = False
    implicit_vr: bool = False
    undefined_lengths: bool = False


_DAP_FACTOR = {"Gy.m2": 1e-4, "Gym2": 1e-4, "dGy.cm2": 10.0, "Gy.cm2": 1.0, "cGy.cm2": 100.0}
_RP_FACTOR = {"Gy": 1e-3, "mGy": 1.0}
_DLP_FACTOR = {"mGy.cm": 1.0, "mGycm": 1.0}


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _item(value_type: str, concept: tuple[str, str, str], relationship: str = "CONTAINS") -> Dataset:
    item = Dataset()
    item.RelationshipType = relationship
    item.ValueType = value_type
    item.ConceptNameCodeSequence = [_code(*concept)]
    return item


def _container(concept: tuple[str, str, str], children: list[Dataset]) -> Dataset:
    item = _item("CONTAINER", concept)
    item.ContinuityOfContent = "SEPARATE"
    item.ContentSequence = children
    return item


def _num(concept: tuple[str, str, str], value: float | str, unit: str, meaning: str = "") -> Dataset:
    item = _item("NUM", concept)
    measured = Dataset()
    measured.MeasurementUnitsCodeSequence = [_code(unit, "UCUM", meaning or unit)]
    text = value if isinstance(value, str) else f"{value:.10g}"
    if isinstance(value, str):  # a malformed decimal string: store it raw, as a buggy modality would
        raw = text.encode("ascii")
        measured[0x0040A30A] = RawDataElement(Tag(0x0040A30A), "DS", len(raw), raw, 0, False, True)
    else:
        measured.NumericValue = text
    item.MeasuredValueSequence = [measured]
    return item


def _coded(concept: tuple[str, str, str], value: tuple[str, str, str], rel: str = "CONTAINS") -> Dataset:
    item = _item("CODE", concept, rel)
    item.ConceptCodeSequence = [_code(*value)]
    return item


def _text(concept: tuple[str, str, str], value: str, rel: str = "CONTAINS") -> Dataset:
    item = _item("TEXT", concept, rel)
    item.TextValue = value
    return item


def _uidref(concept: tuple[str, str, str], value: str, rel: str = "CONTAINS") -> Dataset:
    item = _item("UIDREF", concept, rel)
    item.UID = value
    return item


def _dt(concept: tuple[str, str, str], value: datetime) -> Dataset:
    item = _item("DATETIME", concept)
    item.DateTime = value.strftime("%Y%m%d%H%M%S.%f")[:-3]
    return item


def _uid(rng: random.Random) -> str:
    return str(generate_uid(entropy_srcs=[str(rng.getrandbits(64))]))


_FLUORO = ("P5-06000", "SRT", "Fluoroscopy")
_STATIONARY = ("113611", "DCM", "Stationary Acquisition")
_DEVICES = [
    ("Siemens", "Cios Alpha", "CARM01", "10101"),
    ("Philips", "Zenition 70", "CARM02", "20202"),
    ("GE Healthcare", "OEC 3D", "CARM03", "30303"),
]


@dataclass(frozen=True, slots=True)
class _Header:
    patient_id: str
    study_datetime: datetime
    description: str
    device: tuple[str, str, str, str]
    operator: str | None


def _base_dataset(rng: random.Random, header: _Header, sop_class: str, quirks: Quirks) -> Dataset:
    ds = Dataset()
    instance_uid = _uid(rng)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(instance_uid)
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if quirks.implicit_vr else ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.SOPInstanceUID = instance_uid
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class
    ds.Modality = "SR"
    ds.StudyInstanceUID = _uid(rng)
    ds.SeriesInstanceUID = _uid(rng)
    ds.StudyDate = ds.ContentDate = header.study_datetime.strftime("%Y%m%d")
    ds.StudyTime = ds.ContentTime = header.study_datetime.strftime("%H%M%S")
    ds.AccessionNumber = f"ACC{rng.randrange(10**7):07d}"
    ds.StudyDescription = header.description
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientID = header.patient_id
    ds.PatientName = f"SYNTHETIC^{header.patient_id}"
    ds.PatientBirthDate = f"{rng.randrange(1940, 2000)}0101"
    ds.PatientSex = rng.choice(["F", "M"])
    ds.Manufacturer, ds.ManufacturerModelName, ds.StationName, ds.DeviceSerialNumber = header.device
    if header.operator:
        ds.PerformingPhysicianName = header.operator
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    ds.ConceptNameCodeSequence = [_code("113701", "DCM", "X-Ray Radiation Dose Report")]
    return ds


def _template(ds: Dataset, tid: str, quirks: Quirks) -> None:
    if quirks.template_id:
        template = Dataset()
        template.MappingResource = "DCMR"
        template.TemplateIdentifier = tid
        ds.ContentTemplateSequence = [template]


def _observer(header: _Header, rng: random.Random) -> list[Dataset]:
    manufacturer, model, station, serial = header.device
    rel = "HAS OBS CONTEXT"
    return [
        _coded(("121005", "DCM", "Observer Type"), ("121007", "DCM", "Device"), rel),
        _uidref(("121012", "DCM", "Device Observer UID"), _uid(rng), rel),
        _text(("121013", "DCM", "Device Observer Name"), station, rel),
        _text(("121014", "DCM", "Device Observer Manufacturer"), manufacturer, rel),
        _text(("121015", "DCM", "Device Observer Model Name"), model, rel),
        _text(("121016", "DCM", "Device Observer Serial Number"), serial, rel),
    ]


@dataclass(slots=True)
class _FluoroEvent:
    fluoro: bool
    started: datetime
    dap_gy_cm2: float
    rp_mgy: float
    duration_s: float
    kvp: float
    ma: float
    pulses: int


def _fluoro_events(
    rng: random.Random, profile: FluoroProfile, count: int, start: datetime, acquisitions: int | None
) -> list[_FluoroEvent]:
    acquisitions = min(count // 6, 3) if acquisitions is None else min(acquisitions, count)
    total_dap = profile.median_dap_gy_cm2 * rng.lognormvariate(0.0, 0.5)
    total_time = max(1.0, profile.median_fluoro_time_s * rng.lognormvariate(0.0, 0.5))
    weights = [rng.random() + 0.2 for _ in range(count)]
    scale = sum(weights)
    events, clock = [], start
    for index, weight in enumerate(weights):
        fluoro = index < count - acquisitions
        duration = round(total_time * weight / scale, 2) if fluoro else 0.5
        dap = total_dap * weight / scale
        field_cm2 = rng.uniform(150.0, 300.0)
        pulse_rate = rng.choice([7.5, 15.0]) if fluoro else 2.0
        events.append(
            _FluoroEvent(
                fluoro=fluoro,
                started=clock,
                dap_gy_cm2=dap,
                rp_mgy=dap / field_cm2 * 1000.0,
                duration_s=duration,
                kvp=float(rng.randrange(65, 100)),
                ma=round(rng.uniform(2.0, 12.0), 1),
                pulses=max(1, round(duration * pulse_rate)),
            )
        )
        clock += timedelta(seconds=20 + rng.randrange(60))
    return events


def _fluoro_event_item(rng: random.Random, event: _FluoroEvent, quirks: Quirks, malformed: bool) -> Dataset:
    plane = _coded(
        ("113764", "DCM", "Acquisition Plane"), ("113622", "DCM", "Single Plane"), "HAS CONCEPT MOD"
    )
    current: float | str = "10.50/ 15.00" if malformed else event.ma
    filters = _container(
        ("113771", "DCM", "X-Ray Filters"),
        [
            _coded(("113772", "DCM", "X-Ray Filter Type"), ("113650", "DCM", "Strip filter")),
            _coded(
                ("113757", "DCM", "X-Ray Filter Material"), ("C-127F9", "SRT", "Copper or Copper compound")
            ),
            _num(("113758", "DCM", "X-Ray Filter Thickness Minimum"), 0.2, "mm"),
            _num(("113773", "DCM", "X-Ray Filter Thickness Maximum"), 0.2, "mm"),
        ],
    )
    children = [
        plane,
        _dt(("111526", "DCM", "DateTime Started"), event.started),
        _coded(("113721", "DCM", "Irradiation Event Type"), _FLUORO if event.fluoro else _STATIONARY),
        _text(("125203", "DCM", "Acquisition Protocol"), "Fluoro pulsed" if event.fluoro else "Single shot"),
        _uidref(("113769", "DCM", "Irradiation Event UID"), _uid(rng)),
        _num(
            ("122130", "DCM", "Dose Area Product"),
            event.dap_gy_cm2 * _DAP_FACTOR[quirks.dap_unit],
            quirks.dap_unit,
        ),
        _num(("113738", "DCM", "Dose (RP)"), event.rp_mgy * _RP_FACTOR[quirks.rp_unit], quirks.rp_unit),
        _num(("112011", "DCM", "Positioner Primary Angle"), round(rng.uniform(-30, 30), 1), "deg"),
        _num(("112012", "DCM", "Positioner Secondary Angle"), round(rng.uniform(-10, 10), 1), "deg"),
        filters,
        _num(("113768", "DCM", "Number of Pulses"), event.pulses, "1", "no units"),
        _num(("113733", "DCM", "KVP"), event.kvp, "kV"),
        _num(("113734", "DCM", "X-Ray Tube Current"), current, "mA"),
        _num(("113742", "DCM", "Irradiation Duration"), event.duration_s, "s"),
        _num(("113750", "DCM", "Distance Source to Detector"), 1000.0, "mm"),
        _num(("113751", "DCM", "Table Longitudinal Position"), round(rng.uniform(-500, 500), 1), "mm"),
        _coded(("123014", "DCM", "Target Region"), ("T-11503", "SRT", "Lumbar spine")),
    ]
    return _container(("113706", "DCM", "Irradiation Event X-Ray Data"), children)


_XPER = "99PHI-IXR-XPER"
_AZURION = ("Philips", "Azurion 7 M20", "AZURION01", "722035-101")


def _xper(code: str, meaning: str, value: float, unit: str) -> Dataset:
    """A Philips private NUM item (coding scheme 99PHI-IXR-XPER), as Allura and Azurion systems write them."""
    return _num((code, _XPER, meaning), value, unit)


def _filter(material: tuple[str, str, str], thickness_mm: float) -> Dataset:
    return _container(
        ("113771", "DCM", "X-Ray Filters"),
        [
            _coded(("113772", "DCM", "X-Ray Filter Type"), ("113650", "DCM", "Strip filter")),
            _coded(("113757", "DCM", "X-Ray Filter Material"), material),
            _num(("113758", "DCM", "X-Ray Filter Thickness Minimum"), thickness_mm, "mm"),
            _num(("113773", "DCM", "X-Ray Filter Thickness Maximum"), thickness_mm, "mm"),
        ],
    )


def _detailed_geometry(rng: random.Random, field_cm2: float) -> list[Dataset]:
    side_mm = round(field_cm2**0.5 * 10.0, 1)
    return [
        _num(("113790", "DCM", "Collimated Field Area"), round(field_cm2 / 1e4, 6), "m2"),
        _num(("113788", "DCM", "Collimated Field Height"), side_mm, "mm"),
        _num(("113789", "DCM", "Collimated Field Width"), side_mm, "mm"),
        _num(("113766", "DCM", "Focal Spot Size"), 0.7, "mm"),
        _num(("113750", "DCM", "Distance Source to Detector"), float(rng.randrange(1000, 1200)), "mm"),
        _num(("113748", "DCM", "Distance Source to Isocenter"), 810.0, "mm"),
        _num(("113737", "DCM", "Distance Source to Reference Point"), 660.0, "mm"),
        _num(("113751", "DCM", "Table Longitudinal Position"), round(rng.uniform(-500, 500), 1), "mm"),
        _num(("113752", "DCM", "Table Lateral Position"), round(rng.uniform(-50, 50), 1), "mm"),
        _num(("113753", "DCM", "Table Height Position"), round(rng.uniform(-200, 0), 1), "mm"),
        _num(("113754", "DCM", "Table Head Tilt Angle"), 0.0, "deg"),
        _num(("113755", "DCM", "Table Horizontal Rotation Angle"), 0.0, "deg"),
        _num(("113756", "DCM", "Table Cradle Tilt Angle"), 0.0, "deg"),
        _coded(("113745", "DCM", "Patient Table Relationship"), ("F-10470", "SRT", "headfirst")),
        _orientation(),
    ]


def _orientation() -> Dataset:
    item = _coded(("113743", "DCM", "Patient Orientation"), ("F-10450", "SRT", "recumbent"))
    item.ContentSequence = [
        _coded(
            ("113744", "DCM", "Patient Orientation Modifier"),
            ("F-10340", "SRT", "supine"),
            "HAS CONCEPT MOD",
        )
    ]
    return item


def _detailed_private(rng: random.Random, event: _FluoroEvent) -> list[Dataset]:
    frames = float(event.pulses)
    shutters = [
        _xper(code, meaning, float(rng.randrange(40, 120)), "mm")
        for code, meaning in (("006", "Bottom Shutter"), ("007", "Left Shutter"), ("008", "Right Shutter"))
    ]
    return [
        _xper("003", "Number of Frames", frames, "1"),
        _xper("004", "SubImages per Frame", 1.0, "1"),
        _container(
            ("005", _XPER, "Wedges and Shutters"),
            [
                *shutters,
                _xper("009", "Top Shutter", 78.0, "mm"),
                _xper("010", "Distance Wedge 1", 130.0, "mm"),
                _xper("011", "Distance Wedge 2", 52.0, "mm"),
                _xper("012", "Angle Wedge 1", -169.0, "deg"),
                _xper("013", "Angle Wedge 2", -29.0, "deg"),
            ],
        ),
        _container(
            ("014", _XPER, "Beam Position"),
            [
                _xper("015", "Longitudinal Beam Position", round(rng.uniform(1500, 1900), 1), "mm"),
                _xper("016", "Lateral Beam Position", 0.0, "mm"),
                _xper("017", "Beam Angle", 0.0, "deg"),
            ],
        ),
        _xper("018", "Final Distance Source to Detector", 1199.0, "mm"),
        _xper("019", "Final Table Cradle Angle", 0.0, "deg"),
        _xper("020", "Final Table Height Position", 924.0, "mm"),
        _xper("021", "Table Height Position", 924.0, "mm"),
        _xper("022", "Final Table Tilt Angle", 0.0, "deg"),
        _xper("031", "Final Table Lateral Position", 0.0, "mm"),
        _container(
            ("023", _XPER, "Detector Field Size"),
            [_xper("024", "X side", 176.0, "mm"), _xper("025", "Y side", 176.0, "mm")],
        ),
        _xper("026", "Object Thickness", round(rng.uniform(150, 300), 1), "mm"),
        _text(("027", _XPER, "Performing Physicians Name"), "Doe^Jane"),
        _text(("028", _XPER, "Applicationgroup Name"), "Spine ClarityIQ"),
        _text(("029", _XPER, "Application Name"), "Spine ClarityIQ 7.5 fps"),
        _text(("030", _XPER, "Fluoro Flavour"), "Lo 7,5"),
    ]


def _detailed_event_item(rng: random.Random, event: _FluoroEvent, quirks: Quirks) -> Dataset:
    """An irradiation event with the full geometry and Philips private items (about 830 elements)."""
    field_cm2 = event.dap_gy_cm2 / event.rp_mgy * 1000.0
    children = [
        _coded(("113764", "DCM", "Acquisition Plane"), ("113622", "DCM", "Single Plane"), "HAS CONCEPT MOD"),
        _dt(("111526", "DCM", "DateTime Started"), event.started),
        _coded(("113721", "DCM", "Irradiation Event Type"), _FLUORO if event.fluoro else _STATIONARY),
        _text(("125203", "DCM", "Acquisition Protocol"), "Fluoro pulsed" if event.fluoro else "Single shot"),
        _text(("113780", "DCM", "Reference Point Definition"), "15cm below BeamIsocenter"),
        _uidref(("113769", "DCM", "Irradiation Event UID"), _uid(rng)),
        _num(
            ("122130", "DCM", "Dose Area Product"),
            event.dap_gy_cm2 * _DAP_FACTOR[quirks.dap_unit],
            quirks.dap_unit,
        ),
        _num(("113738", "DCM", "Dose (RP)"), event.rp_mgy * _RP_FACTOR[quirks.rp_unit], quirks.rp_unit),
        _num(("112011", "DCM", "Positioner Primary Angle"), round(rng.uniform(-30, 30), 1), "deg"),
        _num(("112012", "DCM", "Positioner Secondary Angle"), round(rng.uniform(-10, 10), 1), "deg"),
        _filter(("C-127F9", "SRT", "Copper or Copper compound"), 0.4),
        _filter(("C-120F9", "SRT", "Aluminum or Aluminum compound"), 1.0),
        _coded(("113732", "DCM", "Fluoro Mode"), ("113631", "DCM", "Pulsed")),
        _num(("113791", "DCM", "Pulse Rate"), 7.5, "{pulse}/s"),
        _num(("113768", "DCM", "Number of Pulses"), event.pulses, "1", "no units"),
        _num(("113733", "DCM", "KVP"), event.kvp, "kV"),
        _num(("113734", "DCM", "X-Ray Tube Current"), event.ma, "mA"),
        _num(("113793", "DCM", "Pulse Width"), 2.9, "ms"),
        _num(("113735", "DCM", "Exposure Time"), round(event.duration_s * 1000.0 * 0.02, 1), "ms"),
        _num(("113736", "DCM", "Exposure"), round(event.ma * event.duration_s * 20.0, 1), "uAs"),
        _num(("113742", "DCM", "Irradiation Duration"), event.duration_s, "s"),
        *_detailed_geometry(rng, field_cm2),
        _coded(("123014", "DCM", "Target Region"), ("T-11503", "SRT", "Lumbar spine")),
        *_detailed_private(rng, event),
    ]
    return _container(("113706", "DCM", "Irradiation Event X-Ray Data"), children)


def fluoro_report(
    *,
    seed: int = 0,
    events: int = 12,
    procedure: str = "lumbar-tfesi",
    patient_id: str | None = None,
    study_datetime: datetime | None = None,
    operator: str | None = "Doe^Jane",
    acquisitions: int | None = None,
    quirks: Quirks = Quirks(),
    detailed: bool = False,
) -> Dataset:
    """Build a projection X-ray dose report (TID 10001) as a pydicom Dataset.

    Parameters
    ----------
    seed : int
        Seed of all randomness (UIDs, doses, timing).
    events : int
        Number of irradiation events (DCM 113706), at least 1.
    procedure : str
        Key of :data:`FLUORO_PROFILES` (a catalogue procedure id); sets the Study Description and the dose
        level.
    patient_id : str, optional
        Defaults to a seeded ``SYN-nnnnn``.
    study_datetime : datetime, optional
        Defaults to a seeded date-time in 2024.
    operator : str, optional
        Performing Physician's Name, or ``None`` to leave it out.
    acquisitions : int, optional
        How many of the events are stationary acquisitions (the rest are fluoroscopy); defaults to one in
        six, at most three. ``acquisitions=events`` gives a radiography report without fluoroscopy.
    quirks : Quirks
        Vendor quirks to reproduce.
    detailed : bool
        Write every event as a Philips Azurion does: two filters, collimated field, distances, table
        position, pulse data and the vendor's private items (about 830 DICOM elements and 14 KB per event;
        an 89-event report is about 1.27 MB, the size of a real Azurion report).

    Returns
    -------
    pydicom.Dataset
        With ``file_meta``, ready for :func:`write_report`.
    """
    rng = random.Random(seed)
    profile = FLUORO_PROFILES[procedure]
    start = study_datetime or datetime(2024, 1, 1, 8) + timedelta(minutes=rng.randrange(366 * 24 * 60))
    device = rng.choice(_DEVICES)
    header = _Header(
        patient_id or f"SYN-{rng.randrange(10**5):05d}",
        start,
        profile.description,
        _AZURION if detailed else device,
        operator,
    )
    ds = _base_dataset(rng, header, ENHANCED_SR if quirks.enhanced_sr else XRAY_DOSE_SR, quirks)
    _template(ds, "10001", quirks)
    event_list = _fluoro_events(rng, profile, max(1, events), start, acquisitions)
    items = [
        _detailed_event_item(rng, e, quirks)
        if detailed
        else _fluoro_event_item(rng, e, quirks, quirks.malformed_current and i == 0)
        for i, e in enumerate(event_list)
    ]
    ds.ContentSequence = [
        _coded(
            ("121058", "DCM", "Procedure reported"), ("113704", "DCM", "Projection X-Ray"), "HAS CONCEPT MOD"
        ),
        *_observer(header, rng),
        _accumulated(event_list, quirks),
        *items,
    ]
    _encode_lengths([ds], quirks)
    return ds


def _accumulated(events: list[_FluoroEvent], quirks: Quirks) -> Dataset:
    def total(selected: list[_FluoroEvent], attribute: str) -> float:
        return sum(float(getattr(event, attribute)) for event in selected)

    fluoro = [e for e in events if e.fluoro]
    acquisition = [e for e in events if not e.fluoro]
    dap, rp = _DAP_FACTOR[quirks.dap_unit], _RP_FACTOR[quirks.rp_unit]
    children = [
        _coded(("113764", "DCM", "Acquisition Plane"), ("113622", "DCM", "Single Plane"), "HAS CONCEPT MOD"),
        _num(
            ("113722", "DCM", "Dose Area Product Total"), total(events, "dap_gy_cm2") * dap, quirks.dap_unit
        ),
        _num(("113725", "DCM", "Dose (RP) Total"), total(events, "rp_mgy") * rp, quirks.rp_unit),
        _num(
            ("113726", "DCM", "Fluoro Dose Area Product Total"),
            total(fluoro, "dap_gy_cm2") * dap,
            quirks.dap_unit,
        ),
        _num(("113728", "DCM", "Fluoro Dose (RP) Total"), total(fluoro, "rp_mgy") * rp, quirks.rp_unit),
        _num(("113730", "DCM", "Total Fluoro Time"), total(fluoro, "duration_s"), "s"),
        _num(
            ("113727", "DCM", "Acquisition Dose Area Product Total"),
            total(acquisition, "dap_gy_cm2") * dap,
            quirks.dap_unit,
        ),
        _num(
            ("113729", "DCM", "Acquisition Dose (RP) Total"),
            total(acquisition, "rp_mgy") * rp,
            quirks.rp_unit,
        ),
        _num(("113855", "DCM", "Total Acquisition Time"), total(acquisition, "duration_s"), "s"),
        _coded(
            ("113780", "DCM", "Reference Point Definition"),
            ("113860", "DCM", "15cm from Isocenter toward Source"),
        ),
    ]
    return _container(("113702", "DCM", "Accumulated X-Ray Dose Data"), children)


def ct_report(
    *,
    seed: int = 0,
    events: int = 2,
    patient_id: str | None = None,
    study_datetime: datetime | None = None,
    quirks: Quirks = Quirks(),
) -> Dataset:
    """Build a CT dose report (TID 10011) as a pydicom Dataset.

    Parameters
    ----------
    seed, patient_id, study_datetime, quirks
        As for :func:`fluoro_report`.
    events : int
        Number of CT acquisitions (DCM 113819), at least 1.

    Returns
    -------
    pydicom.Dataset
    """
    rng = random.Random(seed)
    start = study_datetime or datetime(2024, 1, 1, 8) + timedelta(minutes=rng.randrange(366 * 24 * 60))
    device = ("GE MEDICAL SYSTEMS", "Revolution CT", "CT01", "40404")
    header = _Header(
        patient_id or f"SYN-{rng.randrange(10**5):05d}", start, CT_PROFILE.description, device, None
    )
    ds = _base_dataset(rng, header, ENHANCED_SR if quirks.enhanced_sr else XRAY_DOSE_SR, quirks)
    _template(ds, "10011", quirks)
    drl = CT_PROFILE.drl_dlp_mgy_cm
    acquisitions: list[Dataset] = []
    total_dlp = 0.0
    for index in range(max(1, events)):
        dlp = drl * 0.6 * rng.lognormvariate(0.0, 0.3) / max(1, events)
        length_mm = round(rng.uniform(100.0, 200.0), 1)
        total_dlp += dlp
        acquisitions.append(_ct_event(rng, index, dlp, length_mm, quirks))
    accumulated = _container(
        ("113811", "DCM", "CT Accumulated Dose Data"),
        [
            _num(
                ("113812", "DCM", "Total Number of Irradiation Events"),
                len(acquisitions),
                "{events}",
                "events",
            ),
            _num(("113813", "DCM", "CT Dose Length Product Total"), total_dlp, quirks.dlp_unit),
        ],
    )
    ds.ContentSequence = [
        _coded(
            ("121058", "DCM", "Procedure reported"),
            ("P5-08000", "SRT", "Computed Tomography X-Ray"),
            "HAS CONCEPT MOD",
        ),
        *_observer(header, rng),
        accumulated,
        *acquisitions,
    ]
    _encode_lengths([ds], quirks)
    return ds


def _ct_event(rng: random.Random, index: int, dlp: float, length_mm: float, quirks: Quirks) -> Dataset:
    ctdivol = dlp / (length_mm / 10.0)
    source = _container(
        ("113831", "DCM", "CT X-Ray Source Parameters"),
        [
            _text(("113832", "DCM", "Identification of the X-Ray Source"), "A"),
            _num(("113733", "DCM", "KVP"), 120.0, "kV"),
            _num(("113734", "DCM", "X-Ray Tube Current"), float(rng.randrange(150, 350)), "mA"),
        ],
    )
    parameters = _container(
        ("113822", "DCM", "CT Acquisition Parameters"),
        [
            _num(("113824", "DCM", "Exposure Time"), round(rng.uniform(3.0, 8.0), 2), "s"),
            _num(("113825", "DCM", "Scanning Length"), length_mm, "mm"),
            _num(("113828", "DCM", "Pitch Factor"), 0.984, "{ratio}", "ratio"),
            source,
        ],
    )
    dose = _container(
        ("113829", "DCM", "CT Dose"),
        [
            _num(("113830", "DCM", "Mean CTDIvol"), ctdivol, "mGy"),
            _coded(("113835", "DCM", "CTDIw Phantom Type"), ("113691", "DCM", "IEC Body Dosimetry Phantom")),
            _num(("113838", "DCM", "DLP"), dlp * _DLP_FACTOR[quirks.dlp_unit], quirks.dlp_unit),
        ],
    )
    children = [
        _text(("125203", "DCM", "Acquisition Protocol"), "Lumbar spine bone" if index else "Scout"),
        _coded(("123014", "DCM", "Target Region"), ("T-11503", "SRT", "Lumbar spine")),
        _coded(("113820", "DCM", "CT Acquisition Type"), ("P5-08001", "SRT", "Spiral Acquisition")),
        _uidref(("113769", "DCM", "Irradiation Event UID"), _uid(rng)),
        parameters,
        dose,
    ]
    return _container(("113819", "DCM", "CT Acquisition"), children)


def _encode_lengths(items: list[Dataset], quirks: Quirks) -> None:
    """Mark every sequence and item below ``items`` as undefined length when the quirk asks for it."""
    if not quirks.undefined_lengths:
        return
    for item in items:
        for element in item:
            if element.VR == "SQ":
                element.is_undefined_length = True
                for sub in element.value:
                    sub.is_undefined_length_sequence_item = True
                _encode_lengths(list(element.value), quirks)


DAMAGE_KINDS = ("bit_flips", "truncation", "zeroed_runs", "mostly_zeroed")
"""The kinds of damage :func:`damage` does to an encoded report."""


def damage(data: bytes, kind: str, rng: random.Random) -> bytes:
    """One damaged copy of ``data`` (the 128-byte preamble and the DICM marker are left alone)."""
    body = bytearray(data)
    start = 132 if data[128:132] == b"DICM" else 0
    if kind == "bit_flips":
        for _ in range(rng.randint(1, 16)):
            position = rng.randrange(start, len(body))
            body[position] ^= 1 << rng.randrange(8)
    elif kind == "truncation":
        return bytes(body[: rng.randrange(start, len(body))])
    elif kind == "zeroed_runs":
        for _ in range(rng.randint(1, 4)):
            length = rng.randint(1, max(1, len(body) // 2))
            position = rng.randrange(start, len(body))
            body[position : position + length] = bytes(len(body[position : position + length]))
    elif kind == "mostly_zeroed":
        keep = rng.randint(start, min(len(body), start + 2048))  # header kept, 90-99 % of the rest zeroed
        fraction = rng.uniform(0.90, 0.99)
        for position in range(keep, len(body)):
            if rng.random() < fraction:
                body[position] = 0
    else:
        raise ValueError(f"unknown mutation {kind!r}")
    return bytes(body)


def damaged_variants(count: int, seed: int, bases: dict[str, bytes]) -> Iterator[tuple[str, bytes]]:
    """``count`` named damaged reports, cycling through the bases and the mutations."""
    rng = random.Random(seed)
    names = sorted(bases)
    for index in range(count):
        base = names[index % len(names)]
        kind = DAMAGE_KINDS[(index // len(names)) % len(DAMAGE_KINDS)]
        yield f"{index:04d}-{base}-{kind}.dcm", damage(bases[base], kind, rng)


def write_report(dataset: Dataset, path: str | Path) -> Path:
    """Write a generated report as a DICOM Part 10 file and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(target, enforce_file_format=True)
    return target


def write_corpus(
    folder: str | Path, count: int, *, seed: int = 0, events: int = 12, ct_every: int = 0
) -> list[Path]:
    """Write ``count`` reports ``rdsr-NNNNN.dcm`` into ``folder`` (every ``ct_every``-th one a CT report).

    Patients repeat (about four reports each) so that per-patient sums have something to add up.
    """
    paths: list[Path] = []
    keys = sorted(FLUORO_PROFILES)
    for index in range(count):
        patient = f"SYN-{index // 4:05d}"
        if ct_every and index % ct_every == ct_every - 1:
            dataset: Dataset = ct_report(seed=seed + index, patient_id=patient)
        else:
            procedure = keys[index % len(keys)]
            dataset = fluoro_report(seed=seed + index, events=events, procedure=procedure, patient_id=patient)
        paths.append(write_report(dataset, Path(folder) / f"rdsr-{index:05d}.dcm"))
    return paths
