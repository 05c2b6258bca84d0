"""Competence and outcomes: courses, simulator and cadaver sessions, procedure assessments, competence
declarations, follow-up disability scores, patients' one-time follow-up links.

Revision ID: 0010_training
Revises: 0006_pathway
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from painguide.store.base import UTCDateTime

revision = "0010_training"
down_revision = "0006_pathway"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("attended_on", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("modality", sa.String(20), nullable=True),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_training_course"),
    )
    op.create_index("ix_training_course_person", "training_course", ["person"])
    op.create_table(
        "training_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("procedure", sa.String(100), nullable=False),
        sa.Column("modality", sa.String(20), nullable=False),
        sa.Column("setting", sa.String(10), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("supervisor", sa.String(100), nullable=True),
        sa.Column("target_reached", sa.Boolean(), nullable=True),
        sa.Column("complications", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_training_session"),
    )
    op.create_index("ix_training_session_operator", "training_session", ["operator", "performed_on"])
    op.create_table(
        "training_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("target_reached", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        sa.Column("assessed_by", sa.String(64), nullable=False),
        sa.Column("assessed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["pathway_case.id"], name="fk_training_assessment_case_id_pathway_case"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_training_assessment"),
        sa.UniqueConstraint("case_id", name="uq_training_assessment_case_id"),
    )
    op.create_table(
        "training_competence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("procedure", sa.String(100), nullable=False),
        sa.Column("modality", sa.String(20), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("basis", sa.String(20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        sa.Column("declared_by", sa.String(64), nullable=False),
        sa.Column("declared_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=True),
        sa.Column("revoke_reason", sa.String(2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_training_competence"),
    )
    op.create_index(
        "ix_training_competence_operator", "training_competence", ["operator", "procedure", "modality"]
    )
    op.create_table(
        "outcomes_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("scale", sa.String(3), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["pathway_follow_up.id"],
            name="fk_outcomes_score_follow_up_id_pathway_follow_up",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outcomes_score"),
        sa.UniqueConstraint("follow_up_id", name="uq_outcomes_score_follow_up_id"),
    )
    op.create_table(
        "outcomes_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["pathway_follow_up.id"],
            name="fk_outcomes_link_follow_up_id_pathway_follow_up",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outcomes_link"),
        sa.UniqueConstraint("token_hash", name="uq_outcomes_link_token_hash"),
    )
    op.create_index("ix_outcomes_link_follow_up_id", "outcomes_link", ["follow_up_id"])


def downgrade() -> None:
    for table in (
        "outcomes_link",
        "outcomes_score",
        "training_competence",
        "training_assessment",
        "training_session",
        "training_course",
    ):
        op.drop_table(table)
