"""Ultrasound guidance analysis summaries.

Revision ID: 0003_sono
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from painguide.store.base import UTCDateTime

revision = "0003_sono"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sono_analysis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("study_instance_uid", sa.String(64), nullable=True),
        sa.Column("sop_instance_uid", sa.String(64), nullable=True),
        sa.Column("source_name", sa.String(300), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("needle_visible_fraction", sa.Float(), nullable=False),
        sa.Column("final_tip_x_mm", sa.Float(), nullable=True),
        sa.Column("final_tip_z_mm", sa.Float(), nullable=True),
        sa.Column("final_angle_deg", sa.Float(), nullable=True),
        sa.Column("injection_start_s", sa.Float(), nullable=True),
        sa.Column("spread_onset_s", sa.Float(), nullable=True),
        sa.Column("max_spread_area_mm2", sa.Float(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sono_analysis")),
    )
    op.create_index(op.f("ix_sono_analysis_study_instance_uid"), "sono_analysis", ["study_instance_uid"])
    op.create_index(op.f("ix_sono_analysis_sop_instance_uid"), "sono_analysis", ["sop_instance_uid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sono_analysis_sop_instance_uid"), table_name="sono_analysis")
    op.drop_index(op.f("ix_sono_analysis_study_instance_uid"), table_name="sono_analysis")
    op.drop_table("sono_analysis")
