"""Per-user preferences: the page language each user chose."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from painguide.store.base import Base, UTCDateTime, utcnow

__all__ = ["UserPreferenceRow"]


class UserPreferenceRow(Base):
    """One row per user who chose a page language (absent: the browser's language applies)."""

    __tablename__ = "user_preferences"

    username: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
