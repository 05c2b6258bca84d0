"""The fast parser gives exactly what the pydicom-dataset walk gave: values, warnings and refusals.

The reference is the parser as it was (``rdsr_reference.py``, kept in the tests only). Both read the four
real sample reports and generated fluoroscopy, radiography, CT and Enhanced SR reports with every unit quirk,
in both encodings (explicit and implicit VR, defined and undefined lengths). The only difference allowed is
what the reference did not read: the added filtration of each event (checked on its own below).
"""

from __future__ import annotations

import re
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from tests.unit.dose import rdsr_reference

from painguide.dose.generator import Quirks, ct_report, fluoro_report
from painguide.dose.models import DoseReport
from painguide.dose.rdsr import parse_dataset, read_dose_report
from painguide.errors import DicomError


def _to_bytes(dataset: Dataset) -> bytes:
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


_ENCODINGS = {
    "explicit": Quirks(),
    "implicit": Quirks(implicit_vr=True),
    "undefined": Quirks(undefined_lengths=True),
    "implicit-undefined": Quirks(implicit_vr=True, undefined_lengths=True),
}
_FLUORO_QUIRKS = {
    "plain": {},
    "Gym2": {"dap_unit": "Gym2"},
    "dGy.cm2+mGy": {"dap_unit": "dGy.cm2", "rp_unit": "mGy"},
    "Gy.cm2": {"dap_unit": "Gy.cm2"},
    "cGy.cm2": {"dap_unit": "cGy.cm2"},
    "malformed": {"malformed_current": True},
    "no-template": {"template_id": False},
    "enhanced": {"enhanced_sr": True},
}
_CT_QUIRKS = {
    "plain": {},
    "mGycm": {"dlp_unit": "mGycm"},
    "enhanced-no-template": {"enhanced_sr": True, "template_id": False, "dlp_unit": "mGycm"},
}


def _without_filtration(report: DoseReport) -> DoseReport:
    events = tuple(replace(e, filter_cu_mm=None, filter_al_mm=None) for e in report.events)
    return replace(report, events=events)


def _read(source: object, strict: bool = False) -> DoseReport:
    return _without_filtration(read_dose_report(source, strict=strict))  # type: ignore[arg-type]


def _quirks(encoding: str, extra: dict[str, object]) -> Quirks:
    base = _ENCODINGS[encoding]
    return Quirks(**{**{k: getattr(base, k) for k in base.__slots__}, **extra})  # type: ignore[arg-type]


def _generated() -> list[object]:
    cases: list[object] = []
    for encoding in _ENCODINGS:
        for name, extra in _FLUORO_QUIRKS.items():
            report = fluoro_report(seed=len(cases), events=7, quirks=_quirks(encoding, extra))
            cases.append(pytest.param(report, id=f"fluoro-{name}-{encoding}"))
        for name, extra in _CT_QUIRKS.items():
            report = ct_report(seed=len(cases), events=3, quirks=_quirks(encoding, extra))
            cases.append(pytest.param(report, id=f"ct-{name}-{encoding}"))
        detailed = fluoro_report(seed=len(cases), events=5, detailed=True, quirks=_ENCODINGS[encoding])
        cases.append(pytest.param(detailed, id=f"azurion-like-{encoding}"))
        radiography = fluoro_report(seed=len(cases), events=3, acquisitions=3, quirks=_ENCODINGS[encoding])
        cases.append(pytest.param(radiography, id=f"radiography-{encoding}"))
    return cases


def _person_participant() -> Dataset:
    """A report whose operator is named only by a TID 1020 person participant (and a long code meaning)."""
    dataset = fluoro_report(seed=40, events=2, operator=None)
    person = Dataset()
    person.RelationshipType = "CONTAINS"
    person.ValueType = "PNAME"
    person.ConceptNameCodeSequence = [_code("113870", "DCM", "Person Name")]
    person.PersonName = "Roe^Richard"
    role = Dataset()
    role.RelationshipType = "HAS PROPERTIES"
    role.ValueType = "CODE"
    role.ConceptNameCodeSequence = [_code("113875", "DCM", "Person Role in Procedure")]
    role.ConceptCodeSequence = [_code("113851", "DCM", "Irradiation Administering")]
    person.ContentSequence = [role]
    event = dataset.ContentSequence[-1]
    event.ContentSequence.append(person)
    return dataset


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


@pytest.mark.parametrize("dataset", _generated())
@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_generated_report_reads_the_same(dataset: Dataset, strict: bool) -> None:
    data = _to_bytes(dataset)
    try:
        expected = rdsr_reference.read_dose_report(data, strict=strict)
    except DicomError as exc:
        with pytest.raises(type(exc), match="^" + re.escape(str(exc)) + "$"):
            read_dose_report(data, strict=strict)
        return
    assert _read(data, strict) == expected
    received = _without_filtration(parse_dataset(dataset, strict=strict))
    assert received == rdsr_reference.parse_dataset(dataset, strict=strict)


def test_person_participant_and_its_warnings_read_the_same() -> None:
    dataset = _person_participant()
    data = _to_bytes(dataset)
    report = _read(data)
    assert report.operator == "Roe^Richard"
    assert report == rdsr_reference.read_dose_report(data)


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")
def test_real_sample_reads_the_same(shared_rdsr: Path) -> None:
    expected = rdsr_reference.read_dose_report(shared_rdsr)
    assert _read(shared_rdsr) == expected
    assert _read(shared_rdsr.read_bytes()) == expected
    with shared_rdsr.open("rb") as stream:
        assert _read(stream) == expected


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")
def test_real_sample_received_as_a_dataset_reads_the_same(shared_rdsr: Path) -> None:
    import pydicom

    expected = rdsr_reference.parse_dataset(pydicom.dcmread(shared_rdsr))
    assert _without_filtration(parse_dataset(pydicom.dcmread(shared_rdsr))) == expected


def _plain_filters(path: Path) -> list[dict[str, float]]:
    """Independent oracle: copper and aluminium thickness per event, read with a plain pydicom walk."""
    import pydicom

    materials = {"C-127F9": "cu", "C-120F9": "al"}
    result = []
    for event in pydicom.dcmread(path).ContentSequence:
        if event.ConceptNameCodeSequence[0].CodeValue != "113706":
            continue
        found: dict[str, float] = {}
        for item in event.ContentSequence:
            if item.ConceptNameCodeSequence[0].CodeValue != "113771":
                continue
            material, values = None, []
            for child in item.ContentSequence:
                code = child.ConceptNameCodeSequence[0].CodeValue
                if code == "113757":
                    material = materials.get(child.ConceptCodeSequence[0].CodeValue)
                elif code in ("113758", "113773"):
                    values.append(float(child.MeasuredValueSequence[0].NumericValue))
            if material:
                found[material] = found.get(material, 0.0) + sum(values) / len(values)
        result.append(found)
    return result


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")
def test_real_sample_filtration_matches_a_plain_walk(shared_rdsr: Path) -> None:
    expected = _plain_filters(shared_rdsr)
    events = read_dose_report(shared_rdsr).events
    assert [e.filter_cu_mm for e in events] == [f.get("cu") for f in expected]
    assert [e.filter_al_mm for e in events] == [f.get("al") for f in expected]
    assert any(e.filter_cu_mm for e in events)


def test_generated_detailed_report_has_copper_and_aluminium() -> None:
    event = read_dose_report(_to_bytes(fluoro_report(seed=2, events=2, detailed=True))).events[0]
    assert (event.filter_cu_mm, event.filter_al_mm) == (0.4, 1.0)
