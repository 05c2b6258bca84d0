"""The demo seeder: three simulated analyses with their cines, added once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, inspect, select

from painguide.settings import get_settings
from painguide.sono.demo import DEMO_ACTOR, seed_demo_data
from painguide.store.db import make_engine, session_factory, upgrade
from painguide.store.sono_tables import SonoAnalysisRow
from painguide.store.uow import UnitOfWork


def _seed(url: str) -> None:
    with UnitOfWork(session_factory(url)) as uow:
        seed_demo_data(uow)
        uow.commit()


def test_seeding_is_idempotent_and_the_no_spread_case_warns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    upgrade(url)
    columns = {c["name"] for c in inspect(make_engine(url)).get_columns("sono_analysis")}
    assert {"timeline", "cine_file"} <= columns
    _seed(url)
    _seed(url)
    with UnitOfWork(session_factory(url)) as uow:
        count = uow.session.scalar(select(func.count()).select_from(SonoAnalysisRow))
        rows = {r.source_name: r for r in uow.session.scalars(select(SonoAnalysisRow))}
    assert count == 3 and all(r.created_by == DEMO_ACTOR for r in rows.values())
    normal, silent = rows["demo-normal-spread.dcm"], rows["demo-no-visible-spread.dcm"]
    assert normal.warning_count == 0 and normal.spread_onset_s is not None
    assert silent.spread_onset_s is None and silent.warning_count == 1
    assert [w["type"] for w in silent.summary["warnings"]] == ["no_visible_spread"]
    away = rows["demo-spread-away-from-tip.dcm"]
    assert "spread_away_from_tip" in [w["type"] for w in away.summary["warnings"]]
    assert normal.timeline is not None and len(normal.timeline["area_mm2"]) == normal.frames
    kept = {p.name for p in (get_settings().data_dir / "sono").iterdir()}
    assert {r.cine_file for r in rows.values()} == kept


def test_seeding_adds_nothing_when_the_caller_does_not_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    upgrade(url)
    with UnitOfWork(session_factory(url)) as uow:
        seed_demo_data(uow)
    with UnitOfWork(session_factory(url)) as uow:
        assert uow.session.scalar(select(func.count()).select_from(SonoAnalysisRow)) == 0
