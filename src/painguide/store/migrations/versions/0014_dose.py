"""Dose statistics independent of the number of reports: maintained dose bins per group, and the report-list
index for a procedure type with an operator.

``dose_tally_bin`` counts each group's audit doses per dose bin (8 bins per doubling of the dose; see
``painguide.store.dose_tally``), so a quartile is read from the index after a walk of at most one bin's
reports instead of the group's reports up to the quartile. The bins are filled here from the stored reports.
``ix_dose_report_procedure_operator_study`` serves the report list filtered by procedure type and operator
(and a date range), newest first. ``dose_patient_tally.skin_sum_mgy`` keeps each patient's sum of peak skin
dose estimates, so skin alerts read only the patients whose sum reaches the level.

It also joins the two dose branches (``0012_dose_skin`` and ``0008_dose``, whose tallies and ``audit_dose``
column it needs) into one head.

Revision ID: 0014_dose
Revises: 0012_dose_skin, 0008_dose
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from painguide.store.dose_tally import DIMENSIONS, rebuild_tallies

revision = "0014_dose"
down_revision = ("0012_dose_skin", "0008_dose")
branch_labels = None
depends_on = None

LIST_INDEX = (
    "ix_dose_report_procedure_operator_study",
    ("procedure_type", "operator", "study_datetime", "id"),
)


def upgrade() -> None:
    op.create_table(
        "dose_tally_bin",
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "kind", "key", "bin", name="pk_dose_tally_bin"),
    )
    op.create_index(LIST_INDEX[0], "dose_report", list(LIST_INDEX[1]))
    with op.batch_alter_table("dose_patient_tally") as batch:
        batch.add_column(sa.Column("skin_sum_mgy", sa.Float(), nullable=False, server_default="0"))
    op.create_index("ix_dose_patient_tally_skin_sum_mgy", "dose_patient_tally", ["skin_sum_mgy"])

    rebuild_tallies(op.get_bind(), dimensions=DIMENSIONS)


def downgrade() -> None:
    op.drop_index("ix_dose_patient_tally_skin_sum_mgy", table_name="dose_patient_tally")
    with op.batch_alter_table("dose_patient_tally") as batch:
        batch.drop_column("skin_sum_mgy")
    op.drop_index(LIST_INDEX[0], table_name="dose_report")
    op.drop_table("dose_tally_bin")
