"""Radiation dose reports and their irradiation events.

Revision ID: 0002_dose
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from painguide.store.base import UTCDateTime

revision = "0002_dose"
down_revision = "0001_core"
branch_labels = None
depends_on = None

_REPORT_INDEXES = (
    "kind",
    "study_instance_uid",
    "study_datetime",
    "accession_number",
    "procedure_type",
    "operator",
    "station_name",
    "device_serial",
)


def _optional(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=True)


def _floats(*names: str) -> list[sa.Column[float]]:
    return [sa.Column(name, sa.Float(), nullable=True) for name in names]


def upgrade() -> None:
    op.create_table(
        "dose_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sop_instance_uid", sa.String(64), nullable=False),
        sa.Column("sop_class_uid", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _optional("template_id", 16),
        _optional("study_instance_uid", 64),
        sa.Column("study_datetime", sa.DateTime(), nullable=True),
        _optional("accession_number", 64),
        _optional("study_description", 200),
        _optional("procedure_type", 100),
        _optional("operator", 200),
        _optional("patient_id", 64),
        _optional("patient_name", 200),
        _optional("patient_birth_date", 16),
        _optional("patient_sex", 16),
        _optional("patient_age", 16),
        _optional("manufacturer", 100),
        _optional("model", 100),
        _optional("station_name", 100),
        _optional("device_serial", 100),
        _optional("device_observer_uid", 64),
        *_floats(
            "dap_total_gy_cm2",
            "fluoro_dap_gy_cm2",
            "acquisition_dap_gy_cm2",
            "rp_dose_total_mgy",
            "fluoro_time_s",
            "acquisition_time_s",
            "dlp_total_mgy_cm",
        ),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dose_report"),
        sa.UniqueConstraint("sop_instance_uid", name="uq_dose_report_sop_instance_uid"),
    )
    for column in _REPORT_INDEXES:
        op.create_index(f"ix_dose_report_{column}", "dose_report", [column])
    op.create_index("ix_dose_report_patient_study", "dose_report", ["patient_id", "study_datetime"])
    op.create_table(
        "dose_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("event_index", sa.Integer(), nullable=False),
        _optional("event_uid", 64),
        sa.Column("started", sa.DateTime(), nullable=True),
        _optional("event_type", 32),
        _optional("protocol", 200),
        _optional("plane", 16),
        _optional("target_region", 100),
        *_floats(
            "dap_gy_cm2",
            "rp_dose_mgy",
            "kvp",
            "tube_current_ma",
            "pulses",
            "duration_s",
            "primary_angle_deg",
            "secondary_angle_deg",
            "ctdivol_mgy",
            "dlp_mgy_cm",
            "scan_length_mm",
        ),
        _optional("phantom", 16),
        sa.ForeignKeyConstraint(
            ["report_id"], ["dose_report.id"], name="fk_dose_event_report_id_dose_report", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dose_event"),
    )
    op.create_index("ix_dose_event_report_id", "dose_event", ["report_id"])


def downgrade() -> None:
    op.drop_table("dose_event")
    op.drop_table("dose_report")
