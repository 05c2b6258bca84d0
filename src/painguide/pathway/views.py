"""Outputs of the care-pathway use cases: patients and cases in lists, a patient, a case with its assessment
and timeline, a scheduled procedure (pure: built from stored rows through the protocols below)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from painguide.pathway.case import CaseFile
from painguide.pathway.gates import Assessment
from painguide.pathway.models import Patient

__all__ = [
    "CaseSummary",
    "CaseView",
    "PageOf",
    "PatientRecord",
    "PatientSummary",
    "PatientView",
    "ProcedureInfo",
    "ProcedureRecordRow",
    "TimelineItem",
]


T = TypeVar("T")


class PatientRecord(Protocol):
    """What a stored patient gives a summary (the store's patient row has these)."""

    @property
    def id(self) -> int: ...
    @property
    def pseudonym(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def record(self) -> dict[str, Any]: ...


class ProcedureRecordRow(Protocol):
    """What a stored procedure gives :class:`ProcedureInfo` (the store's procedure row has these)."""

    @property
    def id(self) -> int: ...
    @property
    def accession_number(self) -> str: ...
    @property
    def procedure(self) -> str: ...
    @property
    def modality(self) -> str: ...
    @property
    def scheduled_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def performed_at(self) -> datetime | None: ...
    @property
    def study_instance_uid(self) -> str | None: ...
    @property
    def dose_report_ids(self) -> Sequence[int]: ...
    @property
    def sono_analysis_ids(self) -> Sequence[int]: ...


@dataclass(frozen=True, slots=True)
class PatientSummary:
    """A patient in a list."""

    id: int
    pseudonym: str
    name: str | None
    birth_year: int
    sex: str

    @classmethod
    def of(cls, row: PatientRecord) -> PatientSummary:
        record = row.record
        return cls(row.id, row.pseudonym, row.name, int(record["birth_year"]), str(record["sex"]))

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "pseudonym": self.pseudonym,
            "name": self.name,
            "birth_year": self.birth_year,
            "sex": self.sex,
        }


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """A case in a list."""

    id: int
    patient_id: int
    pseudonym: str
    complaint: str
    region: str
    procedure: str | None
    stage: str
    next_step: str | None
    opened_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "patient_id": self.patient_id,
            "pseudonym": self.pseudonym,
            "complaint": self.complaint,
            "region": self.region,
            "procedure": self.procedure,
            "stage": self.stage,
            "next_step": self.next_step,
            "opened_at": self.opened_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class PatientView:
    """A patient's record and cases."""

    summary: PatientSummary
    patient: Patient
    cases: list[CaseSummary]

    def to_dict(self) -> dict[str, object]:
        return {
            **self.summary.to_dict(),
            "record": self.patient.model_dump(mode="json"),
            "cases": [c.to_dict() for c in self.cases],
        }


@dataclass(frozen=True, slots=True)
class PageOf(Generic[T]):
    """One page of a listing; ``total_exact`` is false when counting stopped at a cap (more match)."""

    items: list[T]
    total: int
    limit: int
    offset: int
    total_exact: bool = True


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One entry of a case's timeline: what was recorded (or refused, or overridden), by whom, when."""

    id: int
    at: datetime
    by: str
    kind: str
    data: dict[str, object]

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "at": self.at.isoformat(), "by": self.by, "kind": self.kind, "data": self.data}


@dataclass(frozen=True, slots=True)
class ProcedureInfo:
    """The scheduled procedure: accession number, time, status and the links filled in later."""

    id: int
    accession_number: str
    procedure: str
    modality: str
    scheduled_at: datetime
    status: str
    performed_at: datetime | None
    study_instance_uid: str | None
    dose_report_ids: tuple[int, ...]
    sono_analysis_ids: tuple[int, ...]

    @classmethod
    def of(cls, row: ProcedureRecordRow) -> ProcedureInfo:
        return cls(
            row.id,
            row.accession_number,
            row.procedure,
            row.modality,
            row.scheduled_at,
            row.status,
            row.performed_at,
            row.study_instance_uid,
            tuple(row.dose_report_ids),
            tuple(row.sono_analysis_ids),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "accession_number": self.accession_number,
            "procedure": self.procedure,
            "modality": self.modality,
            "scheduled_at": self.scheduled_at.isoformat(),
            "status": self.status,
            "performed_at": self.performed_at.isoformat() if self.performed_at else None,
            "study_instance_uid": self.study_instance_uid,
            "dose_report_ids": list(self.dose_report_ids),
            "sono_analysis_ids": list(self.sono_analysis_ids),
        }


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything a case page, the API and ``painguide case show`` render."""

    id: int
    patient: PatientSummary
    file: CaseFile
    assessment: Assessment
    timeline: list[TimelineItem]
    procedure: ProcedureInfo | None
    policy: dict[str, object] = field(default_factory=dict)

    @property
    def stage(self) -> str:
        return self.assessment.stage

    @property
    def next_step(self) -> str | None:
        return self.assessment.next_step

    def to_dict(self) -> dict[str, object]:
        """The JSON form (``painguide case show --json``; the API's case resource)."""
        f = self.file

        def dump(record: Any) -> Any:
            return record.model_dump(mode="json") if record is not None else None

        return {
            "id": self.id,
            "patient": self.patient.to_dict(),
            **self.assessment.to_dict(),
            "overrides": [dump(o) for o in f.overrides],
            "case": dump(f.info),
            "diagnostics": [dump(d) for d in f.diagnostics],
            "conservative_therapies": [dump(t) for t in f.therapies],
            "indication": dump(f.indication),
            "plan": dump(f.plan),
            "schedule": dump(f.schedule),
            "anticoagulation": dump(f.anticoagulation),
            "justification": dump(f.justification),
            "consent": dump(f.consent),
            "consent_revoked": dump(f.revocation),
            "checklist": dump(f.checklist),
            "procedure_record": dump(f.procedure),
            "procedure": self.procedure.to_dict() if self.procedure else None,
            "follow_ups": [dump(x) for x in f.follow_ups],
            "timeline": [t.to_dict() for t in self.timeline],
            "policy": self.policy,
        }
