"""The page language each user chose.

Revision ID: 0011_i18n
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from painguide.store.base import UTCDateTime

revision = "0011_i18n"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_preferences",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_user_preferences"),
        sa.ForeignKeyConstraint(
            ["username"],
            ["users.username"],
            name="fk_user_preferences_username_users",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("user_preferences")
