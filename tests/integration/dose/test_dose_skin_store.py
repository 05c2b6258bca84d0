"""Peak skin dose through the import: stored with the report, shown again, counted in alerts."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from painguide.dose.generator import ct_report, fluoro_report, write_report
from painguide.dose.review import alert_list, report_view
from painguide.dose.service import (
    SkinBackfill,
    collect_sources,
    estimate_pending_skin_doses,
    get_skin_dose,
    import_sources,
    list_stored,
)
from painguide.dose.skin import PENDING_NOTE
from painguide.store.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")


def _import(paths: list[Path], uow_factory: UowFactory, quarantine_dir: Path) -> None:
    sources, _ = collect_sources(paths)
    summary = import_sources(sources, uow_factory=uow_factory, quarantine_dir=quarantine_dir)
    assert summary.imported == len(paths), [o.reason for o in summary.outcomes]


def test_reports_without_an_estimate_keep_the_reason(
    tmp_path: Path, uow_factory: UowFactory, quarantine_dir: Path
) -> None:
    paths = [
        write_report(fluoro_report(seed=1, events=3), tmp_path / "carm.dcm"),
        write_report(ct_report(seed=2, events=2), tmp_path / "ct.dcm"),
    ]
    _import(paths, uow_factory, quarantine_dir)
    for stored in list_stored(uow_factory):
        skin = get_skin_dose(uow_factory, stored.id)
        assert skin is not None and skin.peak_skin_dose_mgy is None
        assert skin.note.startswith("not estimable, because")
    result = alert_list(uow_factory, actor="test", skin_alert_mgy=0.001)
    assert not [a for a in result.alerts if a.quantity == "peak_skin_dose"]


@pytest.mark.slow
def test_sample_skin_dose_is_stored_and_alerted(
    shared_rdsr_dir: Path, tmp_path: Path, uow_factory: UowFactory, quarantine_dir: Path
) -> None:
    path = shutil.copy(shared_rdsr_dir / "siemens_axiom_example_procedure.dcm", tmp_path / "artis.dcm")
    _import([Path(path)], uow_factory, quarantine_dir)
    (stored,) = list_stored(uow_factory)
    pending = get_skin_dose(uow_factory, stored.id)  # the import leaves the model's run for later
    assert pending is not None and (pending.peak_skin_dose_mgy, pending.note) == (None, PENDING_NOTE)
    assert estimate_pending_skin_doses(uow_factory, actor="test") == SkinBackfill(1, 0, 0)
    assert estimate_pending_skin_doses(uow_factory, actor="test") == SkinBackfill(0, 0, 0)  # done once
    skin = get_skin_dose(uow_factory, stored.id)
    assert skin is not None and skin.peak_skin_dose_mgy is not None and skin.dose_map is not None
    assert max(skin.dose_map.dose_mgy) == pytest.approx(skin.peak_skin_dose_mgy, rel=1e-3)
    default = alert_list(uow_factory, actor="test")
    assert default.levels.peak_skin_dose_mgy == 2000.0  # OpenREM default, 2 Gy
    assert not [a for a in default.alerts if a.quantity == "peak_skin_dose"]
    below = skin.peak_skin_dose_mgy * 0.9
    found = alert_list(uow_factory, actor="test", skin_alert_mgy=below).alerts
    (alert,) = [a for a in found if a.quantity == "peak_skin_dose"]
    assert (alert.scope, alert.report_ids, alert.value) == ("report", (stored.id,), skin.peak_skin_dose_mgy)


@pytest.mark.slow
def test_report_view_estimates_a_pending_skin_dose_once(
    shared_rdsr_dir: Path, tmp_path: Path, uow_factory: UowFactory, quarantine_dir: Path
) -> None:
    path = shutil.copy(shared_rdsr_dir / "siemens_axiom_example_procedure.dcm", tmp_path / "artis.dcm")
    _import([Path(path)], uow_factory, quarantine_dir)
    (stored,) = list_stored(uow_factory)
    view = report_view(uow_factory, stored.id, actor="test")
    assert (
        view.skin is not None and view.skin.peak_skin_dose_mgy is not None and view.skin.dose_map is not None
    )
    assert view.skin.note != PENDING_NOTE
    assert estimate_pending_skin_doses(uow_factory, actor="test") == SkinBackfill(0, 0, 0)  # nothing left
    level = view.skin.peak_skin_dose_mgy * 0.9
    alerts = alert_list(uow_factory, actor="test", skin_alert_mgy=level).alerts
    assert [(a.quantity, a.report_ids) for a in alerts if a.quantity == "peak_skin_dose"] == [
        ("peak_skin_dose", (stored.id,))
    ]
