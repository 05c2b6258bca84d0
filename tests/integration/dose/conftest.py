"""Fixtures for the dose integration tests: a migrated database, a unit-of-work factory, a report corpus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from painguide.dose.generator import fluoro_report, write_report
from painguide.store.db import session_factory, upgrade
from painguide.store.uow import UnitOfWork


@pytest.fixture
def dose_db(db_url: str) -> str:
    """A migrated database URL (SQLite file; PostgreSQL too where a server is available)."""
    upgrade(db_url)
    return db_url


@pytest.fixture
def uow_factory(dose_db: str) -> Callable[[], UnitOfWork]:
    factory = session_factory(dose_db)
    return lambda: UnitOfWork(factory)


@pytest.fixture
def quarantine_dir(tmp_path: Path) -> Path:
    return tmp_path / "quarantine"


@pytest.fixture
def corpus(tmp_path: Path) -> list[Path]:
    """Six synthetic fluoroscopy reports of two patients."""
    folder = tmp_path / "corpus"
    return [
        write_report(fluoro_report(seed=100 + i, events=3, patient_id=f"P{i % 2}"), folder / f"r{i}.dcm")
        for i in range(6)
    ]
