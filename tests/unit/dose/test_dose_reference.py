"""Reference levels, local DRLs, alerts, rolling per-patient sums and effective dose estimates."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from painguide.dose.effective import estimate_from_dlp
from painguide.dose.reference import (
    DoseSample,
    compare,
    find_alerts,
    load_reference_data,
    local_drls,
    national_drl,
    rolling_patient_sums,
    with_overrides,
)
from painguide.errors import DataFileError, ValidationError

T0 = datetime(2024, 1, 1, 9)


def _sample(
    report_id: int,
    days: float = 0,
    *,
    patient: str = "P1",
    dap: float | None = 1.0,
    rp: float | None = 5.0,
    procedure: str | None = "lumbar-tfesi",
    dlp: float | None = None,
) -> DoseSample:
    return DoseSample(
        report_id, patient, T0 + timedelta(days=days), procedure, "fluoro", "dev", "op",
        dap_total_gy_cm2=dap, rp_dose_total_mgy=rp, dlp_total_mgy_cm=dlp,
    )  # fmt: skip


def test_packaged_reference_data_converts_published_units() -> None:
    data = load_reference_data()
    by_id = {level.id: level for level in data.levels}
    lumbar_ap = by_id["bfs2022-radiography-lumbar-spine-ap"]
    assert lumbar_ap.value == pytest.approx(2.0) and lumbar_ap.published == "200 cGy.cm2"
    assert lumbar_ap.source == "BfS-DRL-2022" and lumbar_ap.status == "verified"
    ct = by_id["bfs2022-ct-lumbar-spine-bone"]
    assert (ct.value, ct.unit, ct.status) == (180.0, "mGy.cm", "secondary")
    assert by_id["fluoroscopy-spine-injection"].value is None  # no national DRL: open
    assert data.alerts.dap_gy_cm2 == pytest.approx(200.0)  # 20 000 cGy·cm²
    assert data.alerts.rp_dose_mgy == pytest.approx(2000.0)  # 2 Gy
    assert data.alerts.window == timedelta(weeks=12)
    assert all(level.source in data.sources for level in data.levels if level.source)


def test_malformed_reference_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "levels.yaml"
    path.write_text(
        "drls:\n  - {id: x, quantity: dap, value: 3, unit: furlong, status: verified}\n"
        "alerts: {patient_sum_window_weeks: 12}\n"
    )
    with pytest.raises(DataFileError, match=r"drls\[0\].*known DAP unit"):
        load_reference_data(path)


def test_local_drl_is_the_median_per_procedure_type() -> None:
    samples = [
        _sample(1, dap=0.5),
        _sample(2, dap=0.7),
        _sample(3, dap=3.0),
        _sample(4, dap=1.0, procedure="caudal"),
    ]
    samples.append(_sample(5, dap=None))
    drls = {d.procedure_type: d for d in local_drls(samples)}
    assert drls["lumbar-tfesi"].median == pytest.approx(0.7) and drls["lumbar-tfesi"].count == 3
    assert drls["caudal"].median == pytest.approx(1.0)
    assert local_drls(samples, min_count=2) == [drls["lumbar-tfesi"]]


def test_national_drl_is_the_third_quartile_of_facility_medians() -> None:
    assert national_drl([0.5, 0.6, 0.7, 0.8, 1.0]) == pytest.approx(0.8)
    assert national_drl([0.4]) == 0.4
    with pytest.raises(ValueError, match="at least one"):
        national_drl([])


def test_compare_uses_published_and_local_levels() -> None:
    packaged = load_reference_data()
    bfs_ap = next(lv for lv in packaged.levels if lv.id == "bfs2022-radiography-lumbar-spine-ap")
    assert bfs_ap.procedure_type is None  # a diagnostic examination, not a catalogue procedure
    assert compare(_sample(1, dap=2.5), packaged) == []
    data = replace(packaged, levels=(replace(bfs_ap, procedure_type="lumbar-tfesi"),))
    (published,) = compare(_sample(1, dap=2.5), data)
    assert published.exceeded and published.ratio == pytest.approx(1.25)
    assert published.source == "BfS-DRL-2022"
    assert compare(_sample(1, dap=2.5, procedure="caudal-esi"), data) == []
    fluoro = _sample(2, dap=0.5)
    drls = {d.procedure_type: d for d in local_drls([_sample(3, dap=1.0), fluoro])}
    (local,) = compare(fluoro, packaged, drls)
    assert not local.exceeded and local.reference == "local-median:lumbar-tfesi"


def test_single_report_alerts_at_the_default_levels() -> None:
    levels = load_reference_data().alerts
    alerts = find_alerts([_sample(1, dap=250.0, rp=100.0), _sample(2, dap=1.0, rp=2500.0)], levels)
    assert [(a.scope, a.quantity, a.report_ids) for a in alerts] == [
        ("report", "dap", (1,)),
        ("report", "rp_dose", (2,)),
    ]


def test_rolling_sum_counts_only_reports_inside_the_window() -> None:
    samples = [
        _sample(1, 0, dap=1.0),
        _sample(2, 30, dap=2.0),
        _sample(3, 90, dap=4.0),
        _sample(4, 10, patient="P2"),
    ]
    sums = {
        s.report_id: (dap, ids) for s, dap, _rp, ids in rolling_patient_sums(samples, timedelta(weeks=12))
    }
    assert sums[2] == (3.0, (1, 2))
    assert sums[3] == (6.0, (2, 3))  # report 1 is 90 days back: outside the 84-day window
    assert sums[4] == (1.0, (4,))


def test_patient_sum_alert_fires_once_when_the_sum_crosses_the_level() -> None:
    levels = with_overrides(load_reference_data().alerts, dap_gy_cm2=10.0, rp_dose_mgy=1e9)
    samples = [_sample(i, days=7 * i, dap=4.0) for i in range(1, 6)]
    alerts = [a for a in find_alerts(samples, levels) if a.scope == "patient_sum"]
    assert [(a.report_ids, a.value) for a in alerts] == [((1, 2, 3), 12.0)]
    assert alerts[0].source.startswith("site configuration")


def test_no_alerts_below_the_levels() -> None:
    assert find_alerts([_sample(1), _sample(2, 1)], load_reference_data().alerts) == []


def test_effective_dose_from_dlp_is_labelled() -> None:
    estimate = estimate_from_dlp(200.0, "neck_cervical_spine")
    assert (estimate.low_msv, estimate.high_msv) == pytest.approx((1.08, 1.18))
    label = estimate.label()
    assert "AAPM" in label and "0.0054-0.0059" in label and "not the dose or risk of this patient" in label
    assert estimate_from_dlp(100.0, "chest", method="ICRP103-120kV").low_msv == pytest.approx(2.1)


def test_effective_dose_refuses_an_unknown_region() -> None:
    with pytest.raises(ValidationError, match="no DLP coefficient for 'knee'"):
        estimate_from_dlp(100.0, "knee")
