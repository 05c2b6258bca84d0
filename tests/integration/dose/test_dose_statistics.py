"""Statistics in SQL equal the pure computations over every report (SQLite and PostgreSQL), report pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.integration.dose.test_dose_import import UowFactory

from painguide.dose.dashboard import dashboard_data, monthly_stats
from painguide.dose.demo import ALERT_PATIENT, seed_demo_data
from painguide.dose.models import ReportFilter
from painguide.dose.reference import DoseSample, find_alerts, load_reference_data, local_drls, with_overrides
from painguide.dose.review import alert_list, drl_table, report_page, report_view, sample_of
from painguide.dose.service import list_stored
from painguide.store import dose_statistics
from painguide.store.dose_statistics import group_stats, month_stats, procedure_medians
from painguide.store.dose_tables import DoseReportRow
from painguide.store.tables import AuditEntry

TODAY = date(2031, 3, 14)


@pytest.fixture
def seeded(uow_factory: UowFactory) -> list[DoseSample]:
    """The 61 demo reports, and every one's figures as the pure code sees them."""
    with uow_factory() as uow:
        seed_demo_data(uow, today=TODAY)
        uow.commit()
    return [sample_of(s) for s in list_stored(uow_factory, limit=1000)]


@pytest.mark.parametrize("group_by", ["procedure", "device", "operator"])
@pytest.mark.parametrize("kind", ["fluoro", "ct"])
def test_group_quartiles_whiskers_and_points_equal_the_pure_ones(
    seeded: list[DoseSample], uow_factory: UowFactory, kind: str, group_by: str
) -> None:
    reference = load_reference_data()
    pure = dashboard_data(
        seeded,
        kind=kind,
        group_by=group_by,
        names={},
        levels=(),
        alerts=reference.alerts,  # type: ignore[arg-type]
    )
    with uow_factory() as uow:
        stats = {s.key: s for s in group_stats(uow.session, kind=kind, group_by=group_by)}  # type: ignore[arg-type]
    assert set(stats) == {g.key for g in pure.groups} and pure.groups
    for group in pure.groups:
        found = stats[group.key]
        assert found.spread.count == group.spread.count
        for name in ("q1", "median", "q3", "low", "high"):
            assert getattr(found.spread, name) == pytest.approx(getattr(group.spread, name)), name
        assert sorted(found.points) == sorted(zip(group.values, group.report_ids, strict=True))


def test_a_large_group_shows_its_outliers_over_a_box_from_every_report(
    seeded: list[DoseSample], uow_factory: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dose_statistics, "POINTS_PER_GROUP", 3)
    monkeypatch.setattr(dose_statistics, "OUTLIERS_PER_GROUP", 3)
    reference = load_reference_data()
    pure = dashboard_data(
        seeded, kind="fluoro", group_by="procedure", names={}, levels=(), alerts=reference.alerts
    )
    with uow_factory() as uow:
        stats = {s.key: s for s in group_stats(uow.session, kind="fluoro", group_by="procedure")}
    seen = 0
    for group in pure.groups:
        found = stats[group.key]
        lower, upper = group.spread.fences
        points = zip(group.values, group.report_ids, strict=True)
        outliers = sorted(((v, i) for v, i in points if v > upper or v < lower), reverse=True)
        assert found.spread.count == group.spread.count
        assert list(found.points) == (outliers[:3] if group.spread.count > 3 else sorted(found.points))
        seen += len(found.points) if group.spread.count > 3 else 0
    assert seen > 0, "some group has reports beyond its whiskers"


def test_month_statistics_and_local_drls_equal_the_pure_ones(
    seeded: list[DoseSample], uow_factory: UowFactory
) -> None:
    with uow_factory() as uow:
        months = month_stats(uow.session, kind="fluoro")
        drls = procedure_medians(uow.session)
    pure_months = monthly_stats([s for s in seeded if s.kind == "fluoro"], "dap")
    assert [(m.month, m.count) for m in months] == [(m.month, m.count) for m in pure_months]
    for found, expected in zip(months, pure_months, strict=True):
        assert (found.q1, found.median, found.q3) == pytest.approx(
            (expected.q1, expected.median, expected.q3)
        )
    expected_drls = local_drls([s for s in seeded if s.kind != "ct"]) + local_drls(
        [s for s in seeded if s.kind == "ct"], quantity="dlp"
    )
    assert [(d.procedure_type, d.quantity, d.count) for d in drls] == [
        (d.procedure_type, d.quantity, d.count) for d in expected_drls
    ]
    assert [d.median for d in drls] == pytest.approx([d.median for d in expected_drls])
    assert drl_table(uow_factory).local_drls == drls


@pytest.mark.parametrize("dap", [None, 5.0, 0.5])
def test_alerts_equal_those_found_over_every_report(
    seeded: list[DoseSample], uow_factory: UowFactory, dap: float | None
) -> None:
    levels = with_overrides(load_reference_data().alerts, dap_gy_cm2=dap)
    expected = find_alerts(sorted(seeded, key=lambda s: (s.study_datetime, s.report_id)), levels)
    found = alert_list(uow_factory, actor="test", dap_alert_gy_cm2=dap)
    assert found.alerts == expected and found.total == len(expected)
    scopes = {a.scope for a in found.alerts}
    assert scopes == {"patient_sum"} if dap is None else scopes == {"report", "patient_sum"}
    page = alert_list(uow_factory, actor="test", dap_alert_gy_cm2=dap, limit=2, offset=1, newest_first=True)
    newest = sorted(expected, key=lambda a: (a.window_end, max(a.report_ids), a.scope), reverse=True)
    assert page.alerts == newest[1:3]


def test_report_detail_alerts_are_those_that_name_the_report(
    seeded: list[DoseSample], uow_factory: UowFactory
) -> None:
    levels = load_reference_data().alerts
    everything = find_alerts(seeded, levels)
    alerted = next(i for a in everything for i in a.report_ids)
    view = report_view(uow_factory, alerted, actor="rpo1")
    assert view.alerts == [a for a in everything if alerted in a.report_ids]
    assert any(c.reference.startswith("local-median:") for c in view.comparisons)


def test_report_pages_filter_and_page_and_every_read_is_audited(
    seeded: list[DoseSample], uow_factory: UowFactory
) -> None:
    newest_first = sorted(seeded, key=lambda s: (s.study_datetime, s.report_id), reverse=True)
    first = report_page(uow_factory, ReportFilter(), actor="rpo1", per_page=25)
    third = report_page(uow_factory, ReportFilter(), actor="rpo1", page=3, per_page=25)
    assert (first.total, first.pages) == (len(seeded), 3) and len(seeded) == 61
    assert [s.id for s in first.items + third.items] == [
        s.report_id for s in newest_first[:25] + newest_first[50:]
    ]
    one = newest_first[7]
    assert one.study_datetime is not None and one.operator and one.device
    station = one.device.split()[-1]
    where = ReportFilter(
        procedure_type=one.procedure_type,
        operator=one.operator,
        device=station,
        since=one.study_datetime - timedelta(days=1),
        until=one.study_datetime + timedelta(seconds=1),
    )
    expected = [
        s.report_id
        for s in newest_first
        if s.procedure_type == one.procedure_type
        and s.operator == one.operator
        and station in (s.device or "")
        and where.since <= s.study_datetime < where.until  # type: ignore[operator]
    ]
    assert [
        s.id for s in report_page(uow_factory, where, actor="rpo1").items
    ] == expected and one.report_id in expected
    patient = report_page(uow_factory, ReportFilter(patient_id=ALERT_PATIENT), actor="rpo1")
    assert patient.total == 3 and {s.report.patient.patient_id for s in patient.items} == {ALERT_PATIENT}
    assert report_page(uow_factory, ReportFilter(until=datetime(2000, 1, 1)), actor="rpo1").total == 0
    with uow_factory() as uow:
        entries = list(uow.session.scalars(select(AuditEntry).where(AuditEntry.actor == "rpo1")))
    assert [e.action for e in entries] == ["dose.reports.read"] * 5
    assert entries[-2].detail == {"page": 1, "shown": 3, "patient_id": ALERT_PATIENT}


def test_keyset_pages_follow_the_offset_order_both_ways_with_undated_reports(
    seeded: list[DoseSample], uow_factory: UowFactory
) -> None:
    from painguide.errors import ValidationError

    with uow_factory() as uow:  # a few reports without a study date-time, which sort last (SQLite) or first
        undated = [s.report_id for s in seeded[:7]]
        uow.session.execute(
            update(DoseReportRow).where(DoseReportRow.id.in_(undated)).values(study_datetime=None)
        )
        uow.commit()
    for where in (ReportFilter(), ReportFilter(until=datetime(2100, 1, 1)), ReportFilter(operator="nobody")):
        total = report_page(uow_factory, where, actor="rpo1", per_page=8).total
        by_offset = [
            [s.id for s in report_page(uow_factory, where, actor="rpo1", page=n, per_page=8).items]
            for n in range(1, -(-total // 8) + 1)
        ] or [[]]
        assert sum(map(len, by_offset)) == total
        walked = [by_offset[0]]
        while len(walked) < len(by_offset):
            page = report_page(uow_factory, where, actor="rpo1", per_page=8, after=walked[-1][-1])
            walked.append([s.id for s in page.items])
        assert walked == by_offset
        back = [walked[-1]]
        while len(back) < len(walked):
            page = report_page(uow_factory, where, actor="rpo1", per_page=8, before=back[-1][0])
            back.append([s.id for s in page.items])
        assert back[::-1] == by_offset
        if where == ReportFilter():
            assert set(undated) <= {i for page in walked for i in page} and total == len(seeded)
    with pytest.raises(ValidationError, match="after"):
        report_page(uow_factory, ReportFilter(), actor="rpo1", after=10**9)


def test_maintained_tallies_equal_a_recount_after_imports_and_remap(
    seeded: list[DoseSample], uow_factory: UowFactory
) -> None:
    from painguide.dose.service import remap_procedure_types
    from painguide.store.dose_tables import DosePatientTallyRow, DoseTallyBinRow, DoseTallyRow
    from painguide.store.dose_tally import rebuild_tallies

    def snapshot() -> tuple[list[tuple[str, str, str, int]], list[tuple[str, float, float]], list[Any]]:
        with uow_factory() as uow:
            b = DoseTallyBinRow
            bins = uow.session.execute(
                select(b.dimension, b.kind, b.key, b.bin, b.reports).where(b.reports > 0)
            )
            groups = uow.session.execute(
                select(
                    DoseTallyRow.dimension, DoseTallyRow.kind, DoseTallyRow.key, DoseTallyRow.reports
                ).where(DoseTallyRow.reports > 0)
            )
            sums = uow.session.execute(
                select(
                    DosePatientTallyRow.patient_id,
                    DosePatientTallyRow.dap_sum_gy_cm2,
                    DosePatientTallyRow.rp_sum_mgy,
                )
            )
            return (
                sorted(tuple(g) for g in groups),  # type: ignore[misc]
                sorted(tuple(s) for s in sums),  # type: ignore[misc]
                sorted(tuple(x) for x in bins),
            )

    with uow_factory() as uow:  # a change behind the tallies' back, which the remap undoes
        uow.session.execute(
            update(DoseReportRow)
            .where(DoseReportRow.id == seeded[0].report_id)
            .values(procedure_type="knee-ia")
        )
        uow.commit()
    remap_procedure_types(uow_factory)  # rebuilds the procedure tally it changes
    maintained = snapshot()
    dosed = sum(1 for s in seeded if s.value("dlp" if s.kind == "ct" else "dap") is not None)
    assert sum(n for d, _k, _key, n in maintained[0] if d == "month") == dosed
    with uow_factory() as uow:
        rebuild_tallies(uow.session)
        uow.commit()
    recounted = snapshot()
    assert maintained[0] == recounted[0]
    assert maintained[2] == recounted[2]
    per_group = {}
    for d, k, key, _b, n in maintained[2]:
        per_group[(d, k, key)] = per_group.get((d, k, key), 0) + n
    assert per_group == {(d, k, key): n for d, k, key, n in maintained[0]}
    assert [(p, round(d, 9), round(r, 9)) for p, d, r in maintained[1]] == [
        (p, round(d, 9), round(r, 9)) for p, d, r in recounted[1]
    ]


def test_the_alert_list_counts_reports_still_waiting_for_their_skin_dose_estimate(
    seeded: list[DoseSample], uow_factory: UowFactory
) -> None:
    from sqlalchemy import delete

    from painguide.dose.models import SkinDose
    from painguide.store.dose_tables import DoseSkinRow

    assert alert_list(uow_factory, actor="rpo1").skin_pending == 0
    first, second = seeded[0].report_id, seeded[1].report_id
    with uow_factory() as uow:  # as if both had been imported from a device pyskindose can model
        uow.session.execute(delete(DoseSkinRow).where(DoseSkinRow.report_id.in_([first, second])))
        uow.dose.save_pending([(first, b"kept file"), (second, b"x")], "pending")
        uow.commit()
    assert alert_list(uow_factory, actor="rpo1").skin_pending == 2
    with uow_factory() as uow:
        assert uow.dose.replace_skin(first, SkinDose(None, "not estimable, because test"))
        uow.commit()
    assert alert_list(uow_factory, actor="rpo1").skin_pending == 1


def test_quartiles_stay_exact_with_doses_on_the_bin_edges(
    seeded: list[DoseSample], uow_factory: UowFactory
) -> None:
    from painguide.store.dose_tally import bin_edge, dose_bin, rebuild_tallies

    fluoro = [s for s in seeded if s.kind == "fluoro"]
    edges = [bin_edge(dose_bin(1.0) + k) for k in range(-6, 6)] + [0.0]  # exact edges, a dose of zero
    doses = {s.report_id: edges[n % len(edges)] for n, s in enumerate(fluoro)}
    with uow_factory() as uow:
        for report_id, dose in doses.items():
            uow.session.execute(
                update(DoseReportRow).where(DoseReportRow.id == report_id).values(audit_dose=dose)
            )
        rebuild_tallies(uow.session)
        uow.commit()
        stats = {s.key: s.spread for s in group_stats(uow.session, kind="fluoro", group_by="operator")}
    by_operator: dict[str, list[float]] = {}
    for s in fluoro:
        by_operator.setdefault(s.operator or "", []).append(doses[s.report_id])
    for operator, values in by_operator.items():
        values.sort()
        expected = []
        for a, b in ((1, 4), (1, 2), (3, 4)):
            position = (len(values) - 1) * a / b
            low = int(position)
            high = values[min(low + 1, len(values) - 1)]
            expected.append(values[low] + (high - values[low]) * (position - low))
        found = stats[operator]
        assert found.count == len(values)
        assert [found.q1, found.median, found.q3] == expected  # the same doubles: no rounding to a bin
