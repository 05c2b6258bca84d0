"""Care pathway: patients and their search keys, cases, timeline entries, scheduled procedures, follow-ups,
radiation-protection qualifications.

Revision ID: 0006_pathway
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from painguide.store.base import UTCDateTime

revision = "0006_pathway"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pathway_patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pathway_patient"),
        sa.UniqueConstraint("pseudonym", name="uq_pathway_patient_pseudonym"),
    )
    op.create_table(
        "pathway_patient_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["pathway_patient.id"],
            name="fk_pathway_patient_key_patient_id_pathway_patient",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pathway_patient_key"),
    )
    op.create_index("ix_pathway_patient_key_key", "pathway_patient_key", ["key", "patient_id"])
    op.create_index("ix_pathway_patient_key_patient_id", "pathway_patient_key", ["patient_id"])
    op.create_table(
        "pathway_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("info", sa.JSON(), nullable=False),
        sa.Column("procedure", sa.String(100), nullable=True),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("next_step", sa.String(30), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["pathway_patient.id"], name="fk_pathway_case_patient_id_pathway_patient"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pathway_case"),
    )
    op.create_index("ix_pathway_case_stage", "pathway_case", ["stage", "id"])
    op.create_index("ix_pathway_case_patient_id", "pathway_case", ["patient_id"])
    op.create_table(
        "pathway_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["pathway_case.id"], name="fk_pathway_entry_case_id_pathway_case"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pathway_entry"),
    )
    op.create_index("ix_pathway_entry_case", "pathway_entry", ["case_id", "id"])
    op.create_table(
        "pathway_procedure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("accession_number", sa.String(16), nullable=False),
        sa.Column("patient_pseudonym", sa.String(64), nullable=False),
        sa.Column("procedure", sa.String(100), nullable=False),
        sa.Column("region", sa.String(40), nullable=False),
        sa.Column("modality", sa.String(20), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("location", sa.String(100), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("performed_at", UTCDateTime(), nullable=True),
        sa.Column("study_instance_uid", sa.String(64), nullable=True),
        sa.Column("dose_report_ids", sa.JSON(), nullable=False),
        sa.Column("sono_analysis_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["pathway_case.id"], name="fk_pathway_procedure_case_id_pathway_case"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pathway_procedure"),
        sa.UniqueConstraint("case_id", name="uq_pathway_procedure_case_id"),
        sa.UniqueConstraint("accession_number", name="uq_pathway_procedure_accession_number"),
    )
    op.create_index(
        "ix_pathway_procedure_patient_time", "pathway_procedure", ["patient_pseudonym", "scheduled_at"]
    )
    op.create_index("ix_pathway_procedure_scheduled_at", "pathway_procedure", ["scheduled_at"])
    op.create_index("ix_pathway_procedure_status", "pathway_procedure", ["status"])
    op.create_index("ix_pathway_procedure_study_instance_uid", "pathway_procedure", ["study_instance_uid"])
    op.create_table(
        "pathway_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("days_after", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["pathway_case.id"], name="fk_pathway_follow_up_case_id_pathway_case"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pathway_follow_up"),
    )
    op.create_index("ix_pathway_follow_up_case", "pathway_follow_up", ["case_id", "due_on"])
    op.create_index("ix_pathway_follow_up_due_on", "pathway_follow_up", ["due_on"])
    op.create_table(
        "pathway_qualification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("certificate", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pathway_qualification"),
    )
    op.create_index("ix_pathway_qualification_username", "pathway_qualification", ["username"])


def downgrade() -> None:
    for table in (
        "pathway_qualification",
        "pathway_follow_up",
        "pathway_procedure",
        "pathway_entry",
        "pathway_case",
        "pathway_patient_key",
        "pathway_patient",
    ):
        op.drop_table(table)
