"""Application services shared by the CLI and the web app: opening the database, demo data."""

from __future__ import annotations

from functools import lru_cache

from painguide.settings import get_settings
from painguide.store.db import session_factory, upgrade
from painguide.store.uow import UnitOfWork

__all__ = ["ensure_database", "open_uow"]


@lru_cache(maxsize=4)
def _migrated(url: str) -> str:
    upgrade(url)
    return url


def ensure_database() -> str:
    """Apply pending migrations to the configured database (once per process) and return its URL."""
    return _migrated(get_settings().effective_database_url)


def open_uow() -> UnitOfWork:
    """A unit of work on the configured, migrated database."""
    return UnitOfWork(session_factory(ensure_database()))
