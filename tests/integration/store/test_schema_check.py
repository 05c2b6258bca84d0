"""The cheap schema check: a database at the packaged heads is not handed to Alembic again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from painguide import timing
from painguide.store import db
from painguide.store.db import known_heads, make_engine, schema_is_current, upgrade


def test_known_heads_are_alembics_heads() -> None:
    script = ScriptDirectory.from_config(db._alembic_config("sqlite://"))
    assert known_heads() == set(script.get_heads())
    assert len(known_heads()) >= 2  # one branch per feature on top of 0001_core


def test_current_schema_skips_alembic(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not schema_is_current(db_url)  # a new database: no alembic_version table
    upgrade(db_url)
    assert schema_is_current(db_url)

    import alembic.command

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("Alembic was run on a current schema")

    monkeypatch.setattr(alembic.command, "upgrade", refuse)
    upgrade(db_url)  # must return before Alembic


def test_an_older_schema_is_migrated(db_url: str) -> None:
    upgrade(db_url)
    from alembic import command

    config = db._alembic_config(db_url)
    with make_engine(db_url).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001_core")
    with make_engine(db_url).connect() as connection:
        stored = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    assert stored == {"0001_core"}
    assert not schema_is_current(db_url)
    upgrade(db_url)
    assert schema_is_current(db_url)


def _marks(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines()]


def test_first_statement_after_the_schema_check_is_marked_once(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marks = tmp_path / "marks.txt"
    monkeypatch.setenv(timing.ENV, str(marks))
    upgrade(db_url)  # migrates (statements of the migration are not the work) and arms the mark
    assert _marks(marks) == []
    with make_engine(db_url).connect() as connection:
        connection.execute(text("SELECT 1"))
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        connection.execute(text("SELECT 2"))
    assert _marks(marks) == ["first-sql"]
    _name, clock, cpu = marks.read_text(encoding="utf-8").split()
    assert 0 < int(clock) <= before and int(cpu) > 0


def test_no_marks_unless_asked(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(timing.ENV, raising=False)
    upgrade(db_url)
    with make_engine(db_url).connect() as connection:
        connection.execute(text("SELECT 1"))
    timing.mark("command")
    assert not timing.enabled()
    assert list(tmp_path.glob("*.txt")) == []
