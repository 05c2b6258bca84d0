"""Demo data relative to today, procedure mapping of stored reports and re-mapping after alias changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from tests.integration.dose.test_dose_import import UowFactory

from painguide.dose.demo import ALERT_PATIENT, demo_reports, seed_demo_data
from painguide.dose.generator import fluoro_report, write_report
from painguide.dose.rdsr import read_dose_report
from painguide.dose.review import alert_list, drl_exceedances, drl_table
from painguide.dose.service import list_stored, remap_procedure_types
from painguide.store.dose_repository import add_report

TODAY = date(2031, 3, 14)


def test_demo_reports_span_the_twelve_months_before_today(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        seed_demo_data(uow, today=TODAY)
        uow.commit()
    stored = list_stored(uow_factory, limit=1000)
    dates = sorted(s.report.study_datetime for s in stored if s.report.study_datetime)
    assert len(stored) == 61 and dates[0] >= datetime(2030, 3, 14) and dates[-1] < datetime(2031, 3, 14)
    assert len({(d.year, d.month) for d in dates}) >= 12  # every month has reports
    # every synthetic description names a catalogue procedure; pyskindose's real example ("DSA Body") none
    unmapped = [s for s in stored if not s.procedure_type]
    assert [s.report.device.model for s in unmapped] == ["AXIOM-Artis"]
    alerts = alert_list(uow_factory, actor="test").alerts
    (alert,) = alerts
    assert alert.scope == "patient_sum" and alert.patient_id == ALERT_PATIENT and len(alert.report_ids) == 3
    above = drl_exceedances(uow_factory, drl_table(uow_factory))
    local = [c for c in above if c.reference.startswith("local-median:")]
    assert sum(c.ratio > 3 for c in local) >= 3  # a few reports far above the local DRL
    sums = [a for a in alerts if a.window_end and a.window_end.date() > TODAY - timedelta(days=365)]
    assert sums == [alert]


def test_demo_reports_are_cached_per_day_and_vary_per_report() -> None:
    first = demo_reports(TODAY)
    assert demo_reports(TODAY) is first
    assert len({r.sop_instance_uid for r in first}) == 60
    fluoro = [r for r in first if r.kind.value == "fluoro"]
    assert len(fluoro) >= 50 and len({r.totals.dap_total_gy_cm2 for r in fluoro}) == len(fluoro)
    assert all(r.totals.event_count == len(r.events) for r in first)
    tfesi = [r for r in first if "TFESI" in (r.study_description or "")]
    assert tfesi and all(abs(sum(e.dap_gy_cm2 or 0 for e in r.events) - r.totals.dap_total_gy_cm2) < 1e-9
                         for r in tfesi if r.totals.dap_total_gy_cm2 is not None)  # fmt: skip


def test_header_descriptions_are_read_kept_and_used_for_mapping(
    tmp_path: Path, uow_factory: UowFactory
) -> None:
    dataset = fluoro_report(seed=3)
    dataset.StudyDescription = "Spine"
    dataset.PerformedProcedureStepDescription = "ISG-Infiltration rechts"
    dataset.ProtocolName = "Fluoro LWS"
    report = read_dose_report(write_report(dataset, tmp_path / "r.dcm"))
    assert report.procedure_descriptions == ("ISG-Infiltration rechts", "Fluoro LWS")
    from painguide.dose.service import procedure_type_of

    assert procedure_type_of(report) == "sij-ia"
    with uow_factory() as uow:
        add_report(uow.session, report, source="test", procedure_type="spine")  # an old slug
        uow.commit()
    summary = remap_procedure_types(uow_factory)
    assert (summary.total, summary.changed, summary.unmapped) == (1, 1, 0)
    (stored,) = list_stored(uow_factory)
    assert stored.procedure_type == "sij-ia"
    assert stored.report.procedure_descriptions == report.procedure_descriptions
    assert remap_procedure_types(uow_factory).changed == 0


def test_unmapped_reports_are_listed_with_their_description(uow_factory: UowFactory, tmp_path: Path) -> None:
    dataset = fluoro_report(seed=4)
    dataset.StudyDescription = "Knee arthroscopy"
    report = read_dose_report(write_report(dataset, tmp_path / "u.dcm"))
    with uow_factory() as uow:
        add_report(uow.session, report, source="test", procedure_type=None)
        uow.commit()
    assert remap_procedure_types(uow_factory).unmapped == 1
    (unmapped,) = list_stored(uow_factory, procedure_type="unmapped")
    assert unmapped.procedure_type is None and unmapped.report.study_description == "Knee arthroscopy"
    assert list_stored(uow_factory, procedure_type="lumbar-tfesi") == []
