"""Engines, sessions and migrations (SQLite by default, PostgreSQL via ``PAINGUIDE_DATABASE_URL``)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from painguide.errors import ConfigurationError

__all__ = ["current_revisions", "make_engine", "session_factory", "upgrade"]

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@lru_cache(maxsize=8)
def make_engine(url: str) -> Engine:
    """Create (once per URL) an engine; SQLite files get their folder, WAL mode and foreign keys."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigurationError(
            f"PAINGUIDE_DATABASE_URL: cannot parse {url!r} ({exc}); expected e.g. "
            "sqlite:///path/painguide.sqlite3 or postgresql+psycopg://user:pass@host/db"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(url: str) -> sessionmaker[Session]:
    """A session maker bound to the engine for ``url`` (objects stay usable after commit)."""
    return sessionmaker(bind=make_engine(url), expire_on_commit=False)


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _sqlite_transactional_ddl(dbapi_connection: Any, record: object) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    dbapi_connection.isolation_level = None  # the driver would commit before each DDL statement


def _migration_engine(url: str) -> Engine:
    """An engine whose transactions include DDL (SQLite), so a killed migration leaves nothing half done."""
    if make_url(url).get_backend_name() != "sqlite":
        return make_engine(url)
    make_engine(url)  # creates the database folder
    engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=NullPool)
    event.listen(engine, "connect", _sqlite_transactional_ddl)
    event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def upgrade(url: str) -> None:
    """Apply every pending Alembic migration (all branches) to the database at ``url``, in one transaction."""
    from alembic import command

    cfg = _alembic_config(url)
    engine = _migration_engine(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")


def current_revisions(url: str) -> set[str]:
    """The revisions the database at ``url`` is at (empty before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with make_engine(url).connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())
