"""Dashboard data and charts: catalogue names, applicable levels only, log axis, alert note, trend."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from painguide.dose.charts import box_figure, log_ticks, trend_figure
from painguide.dose.dashboard import dashboard_data, monthly_stats
from painguide.dose.reference import DoseSample, load_reference_data

NAMES = {
    "lumbar-tfesi": "Lumbar transforaminal epidural steroid injection (selective nerve root block)",
    "caudal-esi": "Caudal epidural steroid injection",
}
T0 = datetime(2025, 1, 15, 9)


def _sample(
    report_id: int, dap: float, procedure: str | None, days: int = 0, kind: str = "fluoro"
) -> DoseSample:
    return DoseSample(
        report_id, "P1", T0 + timedelta(days=days), procedure, kind, "Siemens Cios CARM01", "Doe^Jane",
        dap_total_gy_cm2=dap,
    )  # fmt: skip


SAMPLES = [
    _sample(1, 0.5, "lumbar-tfesi"),
    _sample(2, 0.7, "lumbar-tfesi", 3),
    _sample(3, 2.0, "lumbar-tfesi", 40),
    _sample(4, 0.4, "caudal-esi", 41),
    _sample(5, 1.1, None, 70),
    _sample(6, 99.0, "caudal-esi", 80, kind="radiography"),
]


def _data(levels: tuple = (), group_by: str = "procedure", samples: list[DoseSample] = SAMPLES):  # type: ignore[no-untyped-def]
    reference = load_reference_data()
    return dashboard_data(
        samples, kind="fluoro", group_by=group_by, names=NAMES, levels=levels or reference.levels,  # type: ignore[arg-type]
        alerts=reference.alerts,
    )  # fmt: skip


def test_groups_carry_catalogue_names_medians_and_every_value() -> None:
    data = _data()
    assert [g.label for g in data.groups] == [
        "Caudal epidural steroid injection",
        "Lumbar transforaminal epidural steroid injection",
        "unmapped",
    ]
    tfesi = data.groups[1]
    assert tfesi.values == (0.5, 0.7, 2.0) and tfesi.median == pytest.approx(0.7)
    assert data.count == 5  # the radiography report is another kind
    assert all(g.references == () for g in data.groups)  # no published level applies to these procedures


def test_a_published_level_is_drawn_only_for_its_procedure() -> None:
    level = replace(load_reference_data().levels[0], procedure_type="lumbar-tfesi")
    data = _data(levels=(level,))
    assert [g.references for g in data.groups] == [(), (level,), ()]
    assert _data(levels=(level,), group_by="operator").groups[0].references == ()


def test_alert_far_above_the_data_becomes_a_note() -> None:
    data = _data()
    assert data.alert_level == pytest.approx(200.0) and not data.alert_in_range
    assert data.y_range is not None and data.y_range[1] < 10
    html = _plain(box_figure(data))
    assert "alert level 200 Gy·cm² (OpenREM-alerts) above the plotted range" in html
    assert '"type":"log"' in html.replace(" ", "")
    near = _data(samples=[*SAMPLES, _sample(7, 150.0, "caudal-esi", 90)])
    assert near.alert_in_range and near.y_range is not None and near.y_range[1] > 200
    assert "above the plotted range" not in box_figure(near)


def _plain(html: str) -> str:
    """Plotly writes non-ASCII characters as JSON escapes."""
    return html.replace("\\u00b7", "·").replace("\\u00b2", "²")


def test_operator_names_are_readable() -> None:
    assert [g.label for g in _data(group_by="operator").groups] == ["Doe Jane"]


def test_monthly_stats_give_median_and_quartiles() -> None:
    months = monthly_stats(SAMPLES[:5], "dap")
    assert [(m.month.month, m.count) for m in months] == [(1, 2), (2, 2), (3, 1)]
    january = months[0]
    assert january.median == pytest.approx(0.6) and january.q1 == pytest.approx(0.55)
    assert january.q3 == pytest.approx(0.65)
    html = trend_figure(_data())
    assert "interquartile range" in html and "median" in html


def test_log_ticks_are_one_two_five() -> None:
    assert log_ticks(0.15, 60) == [0.2, 0.5, 1, 2, 5, 10, 20, 50]
    assert log_ticks(60, 260) == [70, 100, 150, 200]
