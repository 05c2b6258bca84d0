"""Persistence adapters: SQLAlchemy tables, repositories, the unit of work and Alembic migrations."""

from __future__ import annotations

__all__: list[str] = []
