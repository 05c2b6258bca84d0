"""The reasons a skin dose is not estimable, kept as templates with their values, so that a page shows them
in its reader's language (the English ``note`` stays as it was).

Revision ID: 0015_dose_skin_reasons
Revises: 0014_dose
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_dose_skin_reasons"
down_revision = "0014_dose"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dose_skin") as batch:
        batch.add_column(sa.Column("reasons", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dose_skin") as batch:
        batch.drop_column("reasons")
