"""FHIR R4 resources of a case (pure mapping): Patient, Condition, Procedure, Observation, Consent,
DiagnosticReport, ImagingStudy, collected in a Bundle or split per resource type for NDJSON bulk files.

The models are fhir.resources' ``R4B`` package (FHIR 4.3.0, the R4 line), so every resource is validated as
it is built. Codes: pain NRS as LOINC 72514-3 (KNOWLEDGE §5); the consent category LOINC 59284-0 (the
consent document code of the FHIR R4 specification); DICOM modalities from DCM. Procedures, modalities and
PGIC answers carry painguide's own code systems (``urn:painguide:…``): KNOWLEDGE holds no SNOMED CT codes
for them, and ODI/NDI codes are open, so those observations carry text only. Ids are stable (``pg-…`` plus
the database id), so a second export of the same case gives the same ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from painguide.interop.records import CaseRecord, CineSummary, DoseSummary
from painguide.pathway.models import FollowUp
from painguide.training.records import DisabilityScore

__all__ = [
    "FHIR_VERSION",
    "LOINC_NRS",
    "case_bundle",
    "case_resources",
    "ndjson_by_type",
    "parse_resource",
    "resource_json",
]

FHIR_VERSION = "4.3.0"
LOINC = "http://loinc.org"
LOINC_NRS = "72514-3"
_NRS_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_SURVEY = {"coding": [{"system": _CATEGORY, "code": "survey", "display": "Survey"}]}
PROCEDURE_SYSTEM = "urn:painguide:procedure"
MODALITY_SYSTEM = "urn:painguide:modality"
PGIC_SYSTEM = "urn:painguide:pgic"
PSEUDONYM_SYSTEM = "urn:painguide:pseudonym"
ACCESSION_SYSTEM = "urn:painguide:accession-number"
_GENDER = {"female": "female", "male": "male", "diverse": "other", "unknown": "unknown"}
_DICOM_MODALITY = {"fluoro": "RF", "radiography": "DX", "ct": "CT"}
_DISABILITY = {"ODI": "Oswestry Disability Index (ODI)", "NDI": "Neck Disability Index (NDI)"}


def _ref(kind: str, ident: str) -> dict[str, str]:
    return {"reference": f"{kind}/{ident}"}


def _when(value: datetime) -> str:
    return value.isoformat()


def _build(kind: str, data: dict[str, object]) -> Resource:
    """Validate ``data`` as a resource of type ``kind`` (raises pydantic's error naming the element)."""
    model: Any = get_fhir_model_class(kind)
    built: Resource = model.model_validate(data)
    return built


def _ids(record: CaseRecord) -> dict[str, str]:
    case = record.case_id
    return {
        "patient": f"pg-patient-{record.patient_id}",
        "condition": f"pg-condition-{case}",
        "procedure": f"pg-procedure-{case}",
        "consent": f"pg-consent-{case}",
        "report": f"pg-report-{case}",
        "baseline": f"pg-obs-{case}-baseline-nrs",
    }


def _patient(record: CaseRecord, ident: str) -> Resource:
    p = record.patient
    data: dict[str, object] = {
        "id": ident,
        "identifier": [{"system": PSEUDONYM_SYSTEM, "value": p.pseudonym}],
        "gender": _GENDER.get(p.sex, "unknown"),
        "birthDate": f"{p.birth_year:04d}",
    }
    if p.name:
        data["name"] = [{"text": p.name}]
    return _build("Patient", data)


def _condition(record: CaseRecord, ids: dict[str, str]) -> Resource:
    info = record.info
    clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    return _build(
        "Condition",
        {
            "id": ids["condition"],
            "clinicalStatus": {"coding": [{"system": clinical, "code": "active"}]},
            "code": {"text": info.complaint},
            "bodySite": [{"text": f"{info.region}, {info.side}"}],
            "subject": _ref("Patient", ids["patient"]),
            "recordedDate": info.opened_on.isoformat(),
            "note": [{"text": f"pain for {info.pain_duration_weeks:g} weeks when the case was opened"}],
        },
    )


def _procedure_code(record: CaseRecord) -> dict[str, object] | None:
    pid = record.procedure_id
    if pid is None:
        return None
    return {
        "coding": [{"system": PROCEDURE_SYSTEM, "code": pid, "display": record.name("en")}],
        "text": record.name("en"),
    }


def _procedure(record: CaseRecord, ids: dict[str, str], has_report: bool) -> Resource | None:
    code = _procedure_code(record)
    performed = record.performed
    if code is None or record.modality is None or (performed is None and record.plan is None):
        return None
    data: dict[str, Any] = {
        "id": ids["procedure"],
        "status": "completed" if performed else "preparation",
        "code": code,
        "subject": _ref("Patient", ids["patient"]),
        "reasonReference": [_ref("Condition", ids["condition"])],
    }
    modality = record.modality
    used: list[dict[str, object]] = [
        {"coding": [{"system": MODALITY_SYSTEM, "code": modality}], "text": f"{modality} guidance"}
    ]
    if performed is not None:
        r = performed.record
        data["performedDateTime"] = _when(r.performed_at)
        data["identifier"] = [{"system": ACCESSION_SYSTEM, "value": performed.accession_number}]
        data["performer"] = [{"function": {"text": "operator"}, "actor": {"display": r.operator}}]
        if r.supervisor:
            data["performer"].append({"function": {"text": "supervisor"}, "actor": {"display": r.supervisor}})
        site = " ".join([*r.levels, r.side]).strip()
        data["bodySite"] = [{"text": f"{performed.region}: {site}" if site else performed.region}]
        used += [{"text": d.name + (f" {d.dose}" if d.dose else "")} for d in r.drugs]
        used += [{"text": f"needle: {r.needle}"}] if r.needle else []
        used += [{"text": f"contrast: {r.contrast}"}] if r.contrast else []
        if r.complications and r.complications.strip():
            data["complication"] = [{"text": r.complications.strip()}]
        if has_report:
            data["report"] = [_ref("DiagnosticReport", ids["report"])]
    data["usedCode"] = used
    return _build("Procedure", data)


def _nrs(ident: str, value: int, when: str, ids: dict[str, str], *, part_of: bool, note: str) -> Resource:
    data: dict[str, object] = {
        "id": ident,
        "status": "final",
        "category": [_SURVEY],
        "code": {
            "coding": [{"system": LOINC, "code": LOINC_NRS, "display": _NRS_DISPLAY}],
            "text": "Pain NRS 0-10",
        },
        "subject": _ref("Patient", ids["patient"]),
        "effectiveDateTime": when,
        "valueInteger": value,
        "note": [{"text": note}],
    }
    if part_of:
        data["partOf"] = [_ref("Procedure", ids["procedure"])]
    return _build("Observation", data)


def _follow_up_observations(
    record: CaseRecord, ids: dict[str, str], follow_up: FollowUp, score: DisabilityScore | None
) -> list[Resource]:
    result = follow_up.result
    if result is None:
        return []
    base = f"pg-obs-{follow_up.id}"
    when = result.on.isoformat()
    note = f"follow-up {follow_up.days_after} days after the procedure"
    out = []
    if result.nrs is not None:
        out.append(_nrs(f"{base}-nrs", result.nrs, when, ids, part_of=True, note=note))
    common = {
        "status": "final",
        "category": [_SURVEY],
        "subject": _ref("Patient", ids["patient"]),
        "effectiveDateTime": when,
        "partOf": [_ref("Procedure", ids["procedure"])],
        "note": [{"text": note}],
    }
    if result.pgic is not None:
        answer = result.pgic.replace("_", " ")
        value = {"coding": [{"system": PGIC_SYSTEM, "code": result.pgic, "display": answer}], "text": answer}
        out.append(
            _build(
                "Observation",
                {
                    "id": f"{base}-pgic",
                    **common,
                    "code": {"text": "Patient Global Impression of Change (PGIC)"},
                    "valueCodeableConcept": value,
                },
            )
        )
    if score is not None:
        quantity = {"value": score.score, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}
        out.append(
            _build(
                "Observation",
                {
                    "id": f"{base}-{score.scale.lower()}",
                    **common,
                    "code": {"text": _DISABILITY[score.scale]},
                    "valueQuantity": quantity,
                },
            )
        )
    return out


def _consent(record: CaseRecord, ids: dict[str, str]) -> Resource | None:
    consent = record.consent
    if consent is None:
        return None
    scope = "http://terminology.hl7.org/CodeSystem/consentscope"
    provision: dict[str, object] = {"type": "permit"}
    code = _procedure_code(record)
    if code is not None:
        provision["code"] = [code]
    told = f"informed by {consent.informed_by}; alternatives: {consent.alternatives}; risks: {consent.risks}"
    if consent.radiation_explained:
        told += "; radiation explained"
    return _build(
        "Consent",
        {
            "id": ids["consent"],
            "status": "inactive" if record.revocation is not None else "active",
            "scope": {"coding": [{"system": scope, "code": "treatment"}]},
            "category": [{"coding": [{"system": LOINC, "code": "59284-0"}], "text": "Patient consent"}],
            "patient": _ref("Patient", ids["patient"]),
            "dateTime": consent.on.isoformat(),
            "performer": [{"display": f"{consent.given_by} ({consent.relation})"}],
            "policyRule": {
                "text": f"informed consent to {record.name('en')} under {consent.modality} guidance; {told}"
            },
            "provision": provision,
        },
    )


def _dose_study(record: CaseRecord, ids: dict[str, str], dose: DoseSummary) -> Resource:
    parts = []
    if dose.dap_total_gy_cm2 is not None:
        parts.append(f"DAP {dose.dap_total_gy_cm2:.3g} Gy·cm²")
    if dose.fluoro_time_s is not None:
        parts.append(f"fluoroscopy {dose.fluoro_time_s:.0f} s")
    if dose.dlp_total_mgy_cm is not None:
        parts.append(f"DLP {dose.dlp_total_mgy_cm:.0f} mGy·cm")
    data: dict[str, Any] = {
        "id": f"pg-study-dose-{dose.report_id}",
        "status": "available",
        "subject": _ref("Patient", ids["patient"]),
        "modality": [{"system": _DCM, "code": _DICOM_MODALITY.get(dose.kind, "OT")}],
        "description": "X-ray radiation dose report: " + (", ".join(parts) or "no totals"),
        "procedureReference": _ref("Procedure", ids["procedure"]),
        "identifier": [{"system": "urn:dicom:uid", "value": f"urn:oid:{dose.sop_instance_uid}"}],
    }
    if dose.study_instance_uid:
        data["identifier"].insert(
            0, {"system": "urn:dicom:uid", "value": f"urn:oid:{dose.study_instance_uid}"}
        )
    if dose.study_datetime is not None:
        data["started"] = _when(dose.study_datetime)
    return _build("ImagingStudy", data)


def _cine_study(record: CaseRecord, ids: dict[str, str], cine: CineSummary) -> Resource:
    text = (
        f"ultrasound cine ({cine.frames} frames, {cine.duration_s:.1f} s): needle visible in "
        f"{100 * cine.needle_visible_fraction:.0f} % of frames, {cine.warning_count} warning(s)"
    )
    data: dict[str, object] = {
        "id": f"pg-study-cine-{cine.analysis_id}",
        "status": "available",
        "subject": _ref("Patient", ids["patient"]),
        "modality": [{"system": _DCM, "code": "US"}],
        "description": text,
        "started": _when(cine.created_at),
        "procedureReference": _ref("Procedure", ids["procedure"]),
    }
    if cine.study_instance_uid:
        data["identifier"] = [{"system": "urn:dicom:uid", "value": f"urn:oid:{cine.study_instance_uid}"}]
    return _build("ImagingStudy", data)


def _report(
    record: CaseRecord, ids: dict[str, str], results: Sequence[str], studies: Sequence[str], issued: datetime
) -> Resource | None:
    performed = record.performed
    if performed is None:
        return None
    r = performed.record
    complications = (r.complications or "").strip() or "none recorded"
    conclusion = (
        f"{record.name('en')} under {performed.modality} guidance by {r.operator}"
        + (f", supervised by {r.supervisor}" if r.supervisor else "")
        + f"; complications: {complications}."
    )
    return _build(
        "DiagnosticReport",
        {
            "id": ids["report"],
            "status": "final",
            "code": {"text": "Procedure report (painguide)"},
            "subject": _ref("Patient", ids["patient"]),
            "effectiveDateTime": _when(r.performed_at),
            "issued": _when(issued),
            "performer": [{"display": r.operator}],
            "result": [_ref("Observation", i) for i in results],
            "imagingStudy": [_ref("ImagingStudy", i) for i in studies],
            "conclusion": conclusion,
        },
    )


def case_resources(record: CaseRecord, *, issued: datetime) -> list[Resource]:
    """Every resource of one case, validated: Patient, Condition, Procedure, Observations, Consent,
    ImagingStudies, DiagnosticReport (those the case has)."""
    ids = _ids(record)
    out: list[Resource] = [_patient(record, ids["patient"]), _condition(record, ids)]
    performed = record.performed
    procedure = _procedure(record, ids, has_report=performed is not None)
    if procedure is not None:
        out.append(procedure)
    observations: list[Resource] = []
    if record.info.nrs is not None:
        when = record.info.opened_on.isoformat()
        observations.append(_nrs(ids["baseline"], record.info.nrs, when, ids, part_of=False, note="baseline"))
    if performed is not None and procedure is not None:
        for follow_up, score in performed.follow_ups:
            observations += _follow_up_observations(record, ids, follow_up, score)
    out += observations
    consent = _consent(record, ids)
    if consent is not None:
        out.append(consent)
    studies: list[Resource] = []
    if procedure is not None:
        studies = [_dose_study(record, ids, d) for d in record.doses]
        studies += [_cine_study(record, ids, c) for c in record.cines]
    out += studies
    report = _report(record, ids, [str(o.id) for o in observations], [str(s.id) for s in studies], issued)
    if report is not None:
        out.append(report)
    return out


def case_bundle(resources: Iterable[Resource], *, bundle_id: str, timestamp: datetime) -> Bundle:
    """A ``collection`` Bundle of ``resources``."""
    entries = [{"resource": r} for r in resources]
    bundle: Bundle = Bundle.model_validate(
        {"id": bundle_id, "type": "collection", "timestamp": _when(timestamp), "entry": entries}
    )
    return bundle


def resource_json(resource: Resource) -> str:
    """One resource as compact JSON (one NDJSON line)."""
    return str(resource.model_dump_json(exclude_none=True))


def ndjson_by_type(resources: Iterable[Resource]) -> dict[str, list[str]]:
    """Resources grouped by type as NDJSON lines (bulk-data layout: one file per resource type)."""
    out: dict[str, list[str]] = {}
    for resource in resources:
        out.setdefault(resource.get_resource_type(), []).append(resource_json(resource))
    return out


def parse_resource(text: str) -> Resource:
    """Parse one resource from JSON, validating it against its type's model."""
    data = json.loads(text)
    model: Any = get_fhir_model_class(str(data.get("resourceType")))
    parsed: Resource = model.model_validate(data)
    return parsed
