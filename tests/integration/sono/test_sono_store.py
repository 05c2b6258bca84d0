"""Analysis summaries stored per study in a real, migrated SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from painguide.errors import NotFoundError
from painguide.sono.analysis import analyze_frames
from painguide.sono.simulate import SimulatedCine
from painguide.store.audit import record_audit
from painguide.store.db import make_engine, session_factory, upgrade
from painguide.store.sono_repository import add_analysis, get_analysis, list_analyses
from painguide.store.uow import UnitOfWork


def test_store_and_list_analysis_per_study(tmp_path: Path, cine: SimulatedCine) -> None:
    url = f"sqlite:///{tmp_path / 'sono.sqlite3'}"
    upgrade(url)
    assert "sono_analysis" in inspect(make_engine(url)).get_table_names()
    report = analyze_frames(cine.frames, name="cine.dcm", injection_at_s=0.9)
    factory = session_factory(url)
    with UnitOfWork(factory) as uow:
        row = add_analysis(uow.session, report.as_dict(), actor="dr.a", study_instance_uid="1.2.3")
        record_audit(uow.session, "dr.a", "sono.analysis.add", "sono_analysis", str(row.id))
        uow.commit()
        stored_id = row.id
    with UnitOfWork(factory) as uow:
        assert get_analysis(uow.session, stored_id).spread_onset_s == report.summary["spread_onset_s"]
        assert [r.id for r in list_analyses(uow.session, study_instance_uid="1.2.3")] == [stored_id]
        assert list_analyses(uow.session, study_instance_uid="9.9") == []
        with pytest.raises(NotFoundError, match="ultrasound analysis 999"):
            get_analysis(uow.session, 999)


def test_uncommitted_analysis_is_rolled_back(tmp_path: Path, cine: SimulatedCine) -> None:
    url = f"sqlite:///{tmp_path / 'sono.sqlite3'}"
    upgrade(url)
    report = analyze_frames(cine.frames[:5], name="short.dcm")
    factory = session_factory(url)
    with UnitOfWork(factory) as uow:
        add_analysis(uow.session, report.as_dict(), actor="dr.b")
    with UnitOfWork(factory) as uow:
        assert list_analyses(uow.session) == []
