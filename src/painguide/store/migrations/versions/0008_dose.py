"""Dose statistics in SQL at scale: two maintained columns and the indexes the aggregate queries walk.

``study_month`` (``YYYYMM`` of the study date) and ``audit_dose`` (the value a report is audited on: DAP for
projection reports, DLP for CT) are written with each report, so that medians and quartiles per procedure
type, device, operator or month can be read in order from a covering index instead of loading every report.
The patient index gains both alert quantities (12-week per-patient sums) and replaces
``ix_dose_report_patient_study``, whose columns it begins with. Two maintained tally tables hold the number of
reports per group (so a quartile's offset is known without a scan) and each patient's dose sums (so only
patients who can reach an alert level are read); both are filled here from the stored reports.

Revision ID: 0008_dose
Revises: 0004_dose
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from painguide.store.dose_tally import rebuild_tallies

revision = "0008_dose"
down_revision = "0004_dose"
branch_labels = None
depends_on = None

INDEXES: dict[str, tuple[str, ...]] = {
    "ix_dose_report_procedure_dose": ("procedure_type", "audit_dose", "kind"),
    "ix_dose_report_kind_operator_dose": ("kind", "operator", "audit_dose"),
    "ix_dose_report_kind_device_dose": ("kind", "manufacturer", "model", "station_name", "audit_dose"),
    "ix_dose_report_kind_month_dose": ("kind", "study_month", "audit_dose"),
    "ix_dose_report_study_id": ("study_datetime", "id"),
    "ix_dose_report_patient_dose": ("patient_id", "study_datetime", "dap_total_gy_cm2", "rp_dose_total_mgy"),
    "ix_dose_report_dap": ("dap_total_gy_cm2",),
    "ix_dose_report_rp_dose": ("rp_dose_total_mgy",),
}


def upgrade() -> None:
    with op.batch_alter_table("dose_report") as batch:
        batch.add_column(sa.Column("study_month", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("audit_dose", sa.Float(), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    month = (
        "CAST(EXTRACT(YEAR FROM study_datetime) * 100 + EXTRACT(MONTH FROM study_datetime) AS INTEGER)"
        if postgres
        else "CAST(strftime('%Y%m', study_datetime) AS INTEGER)"
    )
    op.execute(
        f"UPDATE dose_report SET study_month = {month}, "
        "audit_dose = CASE WHEN kind = 'ct' THEN dlp_total_mgy_cm ELSE dap_total_gy_cm2 END"
    )
    op.drop_index("ix_dose_report_patient_study", table_name="dose_report")
    for name, columns in INDEXES.items():
        op.create_index(name, "dose_report", list(columns))
    op.create_table(
        "dose_tally",
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "kind", "key", name="pk_dose_tally"),
    )
    op.create_table(
        "dose_patient_tally",
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("dap_sum_gy_cm2", sa.Float(), nullable=False),
        sa.Column("rp_sum_mgy", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("patient_id", name="pk_dose_patient_tally"),
    )
    op.create_index("ix_dose_patient_tally_dap_sum_gy_cm2", "dose_patient_tally", ["dap_sum_gy_cm2"])
    op.create_index("ix_dose_patient_tally_rp_sum_mgy", "dose_patient_tally", ["rp_sum_mgy"])

    rebuild_tallies(op.get_bind(), bins=False)  # the dose bins follow in 0014_dose


def downgrade() -> None:
    op.drop_table("dose_patient_tally")
    op.drop_table("dose_tally")
    for name in INDEXES:
        op.drop_index(name, table_name="dose_report")
    op.create_index("ix_dose_report_patient_study", "dose_report", ["patient_id", "study_datetime"])
    with op.batch_alter_table("dose_report") as batch:
        batch.drop_column("audit_dose")
        batch.drop_column("study_month")
