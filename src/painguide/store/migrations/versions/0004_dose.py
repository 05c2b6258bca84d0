"""Dose reports keep every header text that names the procedure (for mapping to catalogue ids).

Procedure types become catalogue procedure ids; rows imported before this revision keep their old value
until ``painguide dose remap`` maps them again.

Revision ID: 0004_dose
Revises: 0002_dose
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_dose"
down_revision = "0002_dose"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dose_report") as batch:
        batch.add_column(sa.Column("procedure_descriptions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dose_report") as batch:
        batch.drop_column("procedure_descriptions")
