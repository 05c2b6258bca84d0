"""Peak skin dose estimates with their skin dose maps (or the report file awaiting its estimate),
and the added filtration of each irradiation event.

Revision ID: 0012_dose_skin
Revises: 0004_dose
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from painguide.store.base import UTCDateTime

revision = "0012_dose_skin"
down_revision = "0004_dose"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dose_event") as batch:
        batch.add_column(sa.Column("filter_cu_mm", sa.Float(), nullable=True))
        batch.add_column(sa.Column("filter_al_mm", sa.Float(), nullable=True))
    op.create_table(
        "dose_skin",
        sa.Column(
            "report_id",
            sa.Integer(),
            sa.ForeignKey("dose_report.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("peak_skin_dose_mgy", sa.Float(), nullable=True),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("method", sa.String(200), nullable=False),
        sa.Column("dose_map", sa.JSON(), nullable=True),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("pending_rdsr", sa.LargeBinary(), nullable=True),
    )
    op.create_index("ix_dose_skin_pending", "dose_skin", ["pending"])
    op.create_index("ix_dose_skin_peak_skin_dose_mgy", "dose_skin", ["peak_skin_dose_mgy"])


def downgrade() -> None:
    op.drop_index("ix_dose_skin_pending", table_name="dose_skin")
    op.drop_index("ix_dose_skin_peak_skin_dose_mgy", table_name="dose_skin")
    op.drop_table("dose_skin")
    with op.batch_alter_table("dose_event") as batch:
        batch.drop_column("filter_al_mm")
        batch.drop_column("filter_cu_mm")
