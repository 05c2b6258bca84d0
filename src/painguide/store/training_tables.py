"""Competence and outcome tables: courses, simulator and cadaver sessions, procedure assessments,
competence declarations, follow-up disability scores and the patients' one-time follow-up links.

The logbook itself is not stored: it is derived from the care pathway's procedure records
(``pathway_procedure``, ``pathway_entry``) each time it is read. What the pathway does not record lives here:
whether the target was reached (``training_assessment``), the disability score (ODI/NDI) of a follow-up
(``outcomes_score``) and the hashed tokens of patient links (``outcomes_link``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from painguide.store.base import Base, UTCDateTime, utcnow

__all__ = [
    "AssessmentRow",
    "CompetenceRow",
    "CourseRow",
    "LinkRow",
    "ScoreRow",
    "SessionRow",
]


class CourseRow(Base):
    """A course one person attended, with the hours credited."""

    __tablename__ = "training_course"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    attended_on: Mapped[date] = mapped_column(Date, nullable=False)
    provider: Mapped[str] = mapped_column(String(200), nullable=False)
    topic: Mapped[str] = mapped_column(String(200), nullable=False)
    modality: Mapped[str | None] = mapped_column(String(20))
    hours: Mapped[float] = mapped_column(Float, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class SessionRow(Base):
    """A training session on a simulator or a cadaver, logged by the trainee."""

    __tablename__ = "training_session"
    __table_args__ = (Index("ix_training_session_operator", "operator", "performed_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator: Mapped[str] = mapped_column(String(64), nullable=False)
    procedure: Mapped[str] = mapped_column(String(100), nullable=False)
    modality: Mapped[str] = mapped_column(String(20), nullable=False)
    setting: Mapped[str] = mapped_column(String(10), nullable=False)
    performed_on: Mapped[date] = mapped_column(Date, nullable=False)
    supervisor: Mapped[str | None] = mapped_column(String(100))
    target_reached: Mapped[bool | None] = mapped_column(Boolean)
    complications: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    note: Mapped[str | None] = mapped_column(String(2000))
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class AssessmentRow(Base):
    """Whether the target was reached in a case's performed procedure (the pathway does not record it)."""

    __tablename__ = "training_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pathway_case.id"), nullable=False, unique=True)
    target_reached: Mapped[bool] = mapped_column(Boolean, nullable=False)
    note: Mapped[str | None] = mapped_column(String(2000))
    assessed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class CompetenceRow(Base):
    """A declared competence of one operator for one procedure and modality (revocable)."""

    __tablename__ = "training_competence"
    __table_args__ = (Index("ix_training_competence_operator", "operator", "procedure", "modality"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator: Mapped[str] = mapped_column(String(64), nullable=False)
    procedure: Mapped[str] = mapped_column(String(100), nullable=False)
    modality: Mapped[str] = mapped_column(String(20), nullable=False)
    declared_on: Mapped[date] = mapped_column(Date, nullable=False)
    basis: Mapped[str] = mapped_column(String(20), nullable=False)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False, default=dict)
    note: Mapped[str | None] = mapped_column(String(2000))
    declared_by: Mapped[str] = mapped_column(String(64), nullable=False)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str | None] = mapped_column(String(2000))


class ScoreRow(Base):
    """The disability score (ODI or NDI, 0-100) answered at one follow-up."""

    __tablename__ = "outcomes_score"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("pathway_follow_up.id"), nullable=False, unique=True)
    scale: Mapped[str] = mapped_column(String(3), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class LinkRow(Base):
    """A one-time follow-up link for a patient: only the SHA-256 of its token is kept."""

    __tablename__ = "outcomes_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("pathway_follow_up.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
