"""Engines, sessions and migrations (SQLite by default, PostgreSQL via ``PAINGUIDE_DATABASE_URL``)."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from painguide import timing
from painguide.errors import ConfigurationError

__all__ = [
    "READS_ONLY",
    "current_revisions",
    "known_heads",
    "make_engine",
    "schema_is_current",
    "session_factory",
    "upgrade",
]

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


_POOL: dict[str, int] = {"pool_size": 10, "max_overflow": 5}
"""At most 15 connections per process, as SQLAlchemy's default (5 + 10 overflow), but 10 kept open: with
20 requests at once, overflow connections were opened and closed again for nearly every request."""

READS_ONLY = "painguide.reads_only"
"""Key in a connection's ``info``: True while its transaction has sent only SELECT statements."""


def _transaction_begins(connection: Connection) -> None:
    connection.info[READS_ONLY] = True


def _statement(connection: Connection, _cursor: object, statement: str, *_args: object) -> None:
    if connection.info.get(READS_ONLY) and statement.lstrip()[:6].upper() != "SELECT":
        connection.info[READS_ONLY] = False


def _track_writes(engine: Engine) -> Engine:
    """Note per transaction whether anything but SELECT was sent (the unit of work's group commit of
    audited reads, store/audit.py, applies only to transactions that wrote nothing else)."""
    event.listen(engine, "begin", _transaction_begins)
    event.listen(engine, "before_cursor_execute", _statement)
    return engine


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
        file = parsed.database not in (None, "", ":memory:") and "mode=memory" not in str(parsed.query)
        if file and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        pool = _POOL if file else {}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return _track_writes(engine)
    return _track_writes(create_engine(url, pool_pre_ping=True, **_POOL))


@lru_cache(maxsize=8)
def session_factory(url: str) -> sessionmaker[Session]:
    """The session maker bound to the engine for ``url`` (objects stay usable after commit); made once per
    URL, as the engine is (a session maker makes a Session class: too costly for every request)."""
    return sessionmaker(bind=make_engine(url), expire_on_commit=False)


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_REVISION = re.compile(r"^revision(?:\s*:[^=]+)?\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]+)?\s*=\s*(.+)$", re.MULTILINE)


@lru_cache(maxsize=1)
def known_heads() -> frozenset[str]:
    """The head revisions of the packaged migration scripts, read from their text (Alembic is not loaded).

    A revision is a head when no other script names it as its ``down_revision``. An unreadable script
    gives an empty set, which makes :func:`schema_is_current` false and hands the work to Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return frozenset()
        revisions.add(revision.group(1))
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    return frozenset(revisions - parents)


def schema_is_current(url: str) -> bool:
    """Whether the database at ``url`` stands at exactly the packaged heads (one small query)."""
    heads = known_heads()
    if not heads:
        return False
    try:
        with make_engine(url).connect() as connection:
            stored = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:  # no alembic_version table yet (a new database): migrate
        return False
    return set(stored) == heads


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
    """Apply every pending Alembic migration (all branches) to the database at ``url``, in one transaction.

    When the stored revisions already are the packaged heads, nothing is imported or run.
    """
    if not schema_is_current(url):
        from alembic import command

        cfg = _alembic_config(url)
        engine = _migration_engine(url)
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "heads")
    if timing.enabled():
        event.listen(make_engine(url), "before_cursor_execute", _mark_first_statement, once=True)


def _mark_first_statement(*_args: object) -> None:
    """The ``first-sql`` start-up mark: the first statement after the schema check (docs/performance.md)."""
    timing.mark("first-sql")


def current_revisions(url: str) -> set[str]:
    """The revisions the database at ``url`` is at (empty before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with make_engine(url).connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())
