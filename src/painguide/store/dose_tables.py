"""Dose report tables: one row per report (keyed by SOP Instance UID) and one per irradiation event.

Numbers are stored in canonical units (DAP Gy·cm², reference-point dose and CTDIvol mGy, DLP mGy·cm,
times s, lengths mm). Study and event date-times are the modality's local time as stored (naive).
What links a report to a procedure record (patient id with study date-time, accession number, device,
operator) is indexed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from painguide.store.base import Base, UTCDateTime, utcnow

__all__ = [
    "DoseEventRow",
    "DosePatientTallyRow",
    "DoseReportRow",
    "DoseSkinRow",
    "DoseTallyBinRow",
    "DoseTallyRow",
]


class DoseReportRow(Base):
    """One radiation dose structured report."""

    __tablename__ = "dose_report"
    __table_args__ = (
        # migration 0008_dose: indexes the aggregate queries of store/dose_statistics.py walk in order
        Index("ix_dose_report_procedure_dose", "procedure_type", "audit_dose", "kind"),
        Index("ix_dose_report_kind_operator_dose", "kind", "operator", "audit_dose"),
        Index(
            "ix_dose_report_kind_device_dose", "kind", "manufacturer", "model", "station_name", "audit_dose"
        ),
        Index("ix_dose_report_kind_month_dose", "kind", "study_month", "audit_dose"),
        Index("ix_dose_report_study_id", "study_datetime", "id"),
        Index(
            "ix_dose_report_patient_dose",
            "patient_id",
            "study_datetime",
            "dap_total_gy_cm2",
            "rp_dose_total_mgy",
        ),
        Index("ix_dose_report_dap", "dap_total_gy_cm2"),
        Index("ix_dose_report_rp_dose", "rp_dose_total_mgy"),
        # migration 0014_dose: the report list filtered by procedure type and operator, newest first
        Index(
            "ix_dose_report_procedure_operator_study", "procedure_type", "operator", "study_datetime", "id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    sop_class_uid: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    template_id: Mapped[str | None] = mapped_column(String(16))
    study_instance_uid: Mapped[str | None] = mapped_column(String(64), index=True)
    study_datetime: Mapped[datetime | None] = mapped_column(DateTime(), index=True)
    accession_number: Mapped[str | None] = mapped_column(String(64), index=True)
    study_description: Mapped[str | None] = mapped_column(String(200))
    procedure_descriptions: Mapped[list[str] | None] = mapped_column(JSON)
    procedure_type: Mapped[str | None] = mapped_column(String(100), index=True)
    operator: Mapped[str | None] = mapped_column(String(200), index=True)
    patient_id: Mapped[str | None] = mapped_column(String(64))
    patient_name: Mapped[str | None] = mapped_column(String(200))
    patient_birth_date: Mapped[str | None] = mapped_column(String(16))
    patient_sex: Mapped[str | None] = mapped_column(String(16))
    patient_age: Mapped[str | None] = mapped_column(String(16))
    manufacturer: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    station_name: Mapped[str | None] = mapped_column(String(100), index=True)
    device_serial: Mapped[str | None] = mapped_column(String(100), index=True)
    device_observer_uid: Mapped[str | None] = mapped_column(String(64))
    dap_total_gy_cm2: Mapped[float | None] = mapped_column(Float)
    fluoro_dap_gy_cm2: Mapped[float | None] = mapped_column(Float)
    acquisition_dap_gy_cm2: Mapped[float | None] = mapped_column(Float)
    rp_dose_total_mgy: Mapped[float | None] = mapped_column(Float)
    fluoro_time_s: Mapped[float | None] = mapped_column(Float)
    acquisition_time_s: Mapped[float | None] = mapped_column(Float)
    dlp_total_mgy_cm: Mapped[float | None] = mapped_column(Float)
    study_month: Mapped[int | None] = mapped_column(Integer)
    """``YYYYMM`` of the study date (monthly statistics in SQL)."""
    audit_dose: Mapped[float | None] = mapped_column(Float)
    """The value the report is audited on: DAP (Gy·cm²) for projection reports, DLP (mGy·cm) for CT."""
    event_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    source: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    events: Mapped[list[DoseEventRow]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="DoseEventRow.event_index"
    )


class DoseEventRow(Base):
    """One irradiation event of a dose report."""

    __tablename__ = "dose_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("dose_report.id", ondelete="CASCADE"), nullable=False, index=True
    )
    event_index: Mapped[int] = mapped_column(Integer, nullable=False)
    event_uid: Mapped[str | None] = mapped_column(String(64))
    started: Mapped[datetime | None] = mapped_column(DateTime())
    event_type: Mapped[str | None] = mapped_column(String(32))
    protocol: Mapped[str | None] = mapped_column(String(200))
    plane: Mapped[str | None] = mapped_column(String(16))
    target_region: Mapped[str | None] = mapped_column(String(100))
    dap_gy_cm2: Mapped[float | None] = mapped_column(Float)
    rp_dose_mgy: Mapped[float | None] = mapped_column(Float)
    kvp: Mapped[float | None] = mapped_column(Float)
    tube_current_ma: Mapped[float | None] = mapped_column(Float)
    pulses: Mapped[float | None] = mapped_column(Float)
    duration_s: Mapped[float | None] = mapped_column(Float)
    primary_angle_deg: Mapped[float | None] = mapped_column(Float)
    secondary_angle_deg: Mapped[float | None] = mapped_column(Float)
    ctdivol_mgy: Mapped[float | None] = mapped_column(Float)
    dlp_mgy_cm: Mapped[float | None] = mapped_column(Float)
    scan_length_mm: Mapped[float | None] = mapped_column(Float)
    phantom: Mapped[str | None] = mapped_column(String(16))
    filter_cu_mm: Mapped[float | None] = mapped_column(Float)
    filter_al_mm: Mapped[float | None] = mapped_column(Float)

    report: Mapped[DoseReportRow] = relationship(back_populates="events")


class DoseSkinRow(Base):
    """The peak skin dose estimate of one report (or why there is none), with its skin dose map."""

    __tablename__ = "dose_skin"

    report_id: Mapped[int] = mapped_column(ForeignKey("dose_report.id", ondelete="CASCADE"), primary_key=True)
    # indexed: skin alerts read only the estimates at or above a level
    peak_skin_dose_mgy: Mapped[float | None] = mapped_column(Float, index=True)
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    method: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    dose_map: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # why it is not estimable: [{"text": English template, "params": values}], which a page translates
    reasons: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # waiting for the estimate (pyskindose runs after the import): the report file it needs, cleared when done
    pending: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false(), index=True
    )
    pending_rdsr: Mapped[bytes | None] = mapped_column(LargeBinary)


class DoseTallyRow(Base):
    """How many reports with an audit dose each group holds (kept up to date with every write).

    ``dimension`` is ``procedure``, ``operator``, ``device`` or ``month``; ``key`` the JSON list of the
    group's column values (procedure type; operator; manufacturer, model, station; ``YYYYMM``), null
    included. The database reads a group's quartiles from an index by offset, which needs the count
    without a scan.
    """

    __tablename__ = "dose_tally"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    reports: Mapped[int] = mapped_column(Integer, nullable=False)


class DosePatientTallyRow(Base):
    """Per patient: the sums of the absolute DAP and reference-point dose of all their reports and of their
    peak skin dose estimates (maintained).

    A sum over any alert window is at most these, so only patients at or above a level need their reports read
    for the 12-week per-patient alerts.
    """

    __tablename__ = "dose_patient_tally"

    patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dap_sum_gy_cm2: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    rp_sum_mgy: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    # migration 0014_dose: the sum of the patient's peak skin dose estimates (skin alerts read only patients
    # whose sum reaches the level); no Python-side default, so that inserts written before 0014 leave it out
    skin_sum_mgy: Mapped[float] = mapped_column(Float, nullable=False, server_default="0", index=True)


class DoseTallyBinRow(Base):
    """How many audit doses of each group fall into each dose bin (kept up to date with every write).

    ``dimension``, ``kind`` and ``key`` as in :class:`DoseTallyRow`; ``bin`` is
    :func:`painguide.store.dose_tally.dose_bin` of the audit dose (8 bins per doubling of the dose, -1 for
    doses at or below zero). A quartile is then found without walking the group's index from its start: the
    bins give the bin that holds the wanted order statistic and its offset inside the bin, and the exact value
    is read from the index starting at the bin's lower edge (a walk of at most one bin's reports).
    """

    __tablename__ = "dose_tally_bin"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    reports: Mapped[int] = mapped_column(Integer, nullable=False)
