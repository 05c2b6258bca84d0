"""Care-pathway tables: patients, cases, the case timeline, scheduled procedures, follow-ups, qualifications.

Each step's record is kept as one timeline entry (``pathway_entry``: kind, who, when, the record as JSON);
what is searched or linked has its own indexed columns: patients by pseudonym and name words
(``pathway_patient_key``), cases by stage, procedures by accession number, Study Instance UID, patient and
time (for linking dose reports and ultrasound analyses), follow-ups by due day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from painguide.store.base import Base, UTCDateTime, utcnow

__all__ = [
    "CaseRow",
    "EntryRow",
    "FollowUpRow",
    "PatientKeyRow",
    "PatientRow",
    "ProcedureRow",
    "QualificationRow",
]


class PatientRow(Base):
    """A patient under a pseudonym; ``record`` is the validated :class:`~painguide.pathway.models.Patient`."""

    __tablename__ = "pathway_patient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    record: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class PatientKeyRow(Base):
    """One search key of a patient: the lower-cased pseudonym or one lower-cased word of the name."""

    __tablename__ = "pathway_patient_key"
    __table_args__ = (Index("ix_pathway_patient_key_key", "key", "patient_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("pathway_patient.id", ondelete="CASCADE"), nullable=False, index=True
    )
    key: Mapped[str] = mapped_column(String(100), nullable=False)


class CaseRow(Base):
    """A case; ``info`` is the :class:`~painguide.pathway.models.CaseInfo`, stage and next step are kept
    current by the service after every step."""

    __tablename__ = "pathway_case"
    __table_args__ = (Index("ix_pathway_case_stage", "stage", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("pathway_patient.id"), nullable=False, index=True)
    info: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False)
    procedure: Mapped[str | None] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(20), nullable=False)
    next_step: Mapped[str | None] = mapped_column(String(30))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class EntryRow(Base):
    """One timeline entry of a case: a step's record, an override, a revocation or a refusal."""

    __tablename__ = "pathway_entry"
    __table_args__ = (Index("ix_pathway_entry_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pathway_case.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    by: Mapped[str] = mapped_column(String(64), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class ProcedureRow(Base):
    """The scheduled (later performed) procedure of a case, with its unique accession number.

    ``dose_report_ids`` and ``sono_analysis_ids`` are filled by the linking step.
    """

    __tablename__ = "pathway_procedure"
    __table_args__ = (Index("ix_pathway_procedure_patient_time", "patient_pseudonym", "scheduled_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pathway_case.id"), nullable=False, unique=True)
    accession_number: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    patient_pseudonym: Mapped[str] = mapped_column(String(64), nullable=False)
    procedure: Mapped[str] = mapped_column(String(100), nullable=False)
    region: Mapped[str] = mapped_column(String(40), nullable=False)
    modality: Mapped[str] = mapped_column(String(20), nullable=False)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    location: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="scheduled", index=True)
    performed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    study_instance_uid: Mapped[str | None] = mapped_column(String(64), index=True)
    dose_report_ids: Mapped[list[int]] = mapped_column(JSON, nullable=False, default=list)
    sono_analysis_ids: Mapped[list[int]] = mapped_column(JSON, nullable=False, default=list)


class FollowUpRow(Base):
    """A scheduled follow-up and, once recorded, its result (a ``FollowUpResult``)."""

    __tablename__ = "pathway_follow_up"
    __table_args__ = (Index("ix_pathway_follow_up_case", "case_id", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pathway_case.id"), nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    days_after: Mapped[int] = mapped_column(Integer, nullable=False)
    result: Mapped[dict[str, object] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str | None] = mapped_column(String(64))


class QualificationRow(Base):
    """A user's radiation-protection qualification (certificate, validity), recorded by an admin."""

    __tablename__ = "pathway_qualification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    certificate: Mapped[str] = mapped_column(String(200), nullable=False)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
