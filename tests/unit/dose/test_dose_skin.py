"""Peak skin dose: pyskindose's own result on the sample reports, and honest refusals everywhere else."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest
from typer.testing import CliRunner

from painguide.commands.dose import app
from painguide.dose.generator import ct_report, fluoro_report, write_report
from painguide.dose.models import DoseReport
from painguide.dose.rdsr import read_dose_report
from painguide.dose.skin import METHOD, estimate_skin_dose, known_models, unmet_reasons

pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")


def _bytes(dataset: object) -> bytes:
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)  # type: ignore[attr-defined]
    return buffer.getvalue()


def _pyskindose_main_psd(path: Path, work: Path) -> float:
    """Independent oracle: the PSD from pyskindose's public entry point with the same settings."""
    from pyskindose.main import main
    from pyskindose.settings import PyskindoseSettings

    from painguide.dose import skin

    raw = dict(skin._SETTINGS, corrections_db_path=str(work / "oracle.sqlite3"))
    output = main(file_path=str(path), settings=PyskindoseSettings(settings=raw, output_format="dict"))
    return float(output["psd"])


def test_known_models_come_from_pyskindose_settings() -> None:
    assert known_models() == {("siemens", "axiom-artis"), ("philips", "allura clarity")}


def test_ct_report_lists_every_unmet_reason() -> None:
    report = read_dose_report(_bytes(ct_report(seed=1, events=2)))
    reasons = unmet_reasons(report)
    assert len(reasons) == 3
    assert "CT report" in reasons[0] and "DCM 113738" in reasons[1] and "Revolution CT" in reasons[2]


def test_unknown_device_model_is_not_estimable_with_the_reason(tmp_path: Path) -> None:
    data = _bytes(fluoro_report(seed=3, events=4))
    report = read_dose_report(data)
    result = estimate_skin_dose(data, report, work_dir=tmp_path)
    assert result.peak_skin_dose_mgy is None and result.dose_map is None
    assert result.note.startswith("not estimable, because the device model")
    assert report.device.model is not None and report.device.model in result.note
    assert not (tmp_path / "pyskindose-corrections.sqlite3").exists()  # pyskindose was not run


@pytest.mark.slow
@pytest.mark.parametrize("name", ["siemens_axiom_artis.dcm", "siemens_axiom_example_procedure.dcm"])
def test_sample_psd_is_pyskindose_own_result(shared_rdsr_dir: Path, name: str, tmp_path: Path) -> None:
    path = shared_rdsr_dir / name
    data = path.read_bytes()
    result = estimate_skin_dose(data, read_dose_report(data), work_dir=tmp_path)
    assert result.peak_skin_dose_mgy is not None
    assert result.peak_skin_dose_mgy == pytest.approx(_pyskindose_main_psd(path, tmp_path), rel=1e-3)
    assert result.dose_map is not None
    assert max(result.dose_map.dose_mgy) == pytest.approx(result.peak_skin_dose_mgy, rel=1e-3)
    assert all(-180.0 <= a <= 180.0 for a in result.dose_map.around_deg)
    assert result.method == METHOD and "not the patient" in result.note


@pytest.mark.slow
def test_beam_that_misses_the_phantom_is_not_a_zero_dose(shared_rdsr_dir: Path, tmp_path: Path) -> None:
    data = (shared_rdsr_dir / "philips_allura_clarity_u104.dcm").read_bytes()
    report: DoseReport = read_dose_report(data)
    assert report.totals.rp_dose_total_mgy and report.totals.rp_dose_total_mgy > 0
    result = estimate_skin_dose(data, report, work_dir=tmp_path)
    assert result.peak_skin_dose_mgy is None
    assert result.note == (
        "not estimable, because no irradiation field reached the patient phantom with the report's table "
        "and beam geometry"
    )


def test_inspect_json_carries_the_skin_dose_or_its_reason(tmp_path: Path) -> None:
    path = write_report(fluoro_report(seed=5, events=3), tmp_path / "carm.dcm")
    result = CliRunner().invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["peak_skin_dose_mgy"] is None
    assert row["peak_skin_dose_note"].startswith("not estimable, because the device model")
    skipped = CliRunner().invoke(app, ["inspect", str(path), "--json", "--no-skin-dose"])
    assert json.loads(skipped.stdout)[0]["peak_skin_dose_note"] == "not estimated"


def test_method_text_fits_its_stored_column() -> None:
    """The method shown under the estimate is stored in full (the store cuts longer text to the column)."""
    from painguide.dose.skin import METHOD
    from painguide.store.dose_tables import DoseSkinRow

    assert len(METHOD) <= DoseSkinRow.__table__.c.method.type.length
