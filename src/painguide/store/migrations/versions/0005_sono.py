"""Ultrasound analyses keep their per-frame timeline and the name of the stored cine (for review pages).

Rows stored before this revision have neither; their review page shows the summary and the events only.

Revision ID: 0005_sono
Revises: 0003_sono
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_sono"
down_revision = "0003_sono"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sono_analysis") as batch:
        batch.add_column(sa.Column("timeline", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("cine_file", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sono_analysis") as batch:
        batch.drop_column("cine_file")
        batch.drop_column("timeline")
