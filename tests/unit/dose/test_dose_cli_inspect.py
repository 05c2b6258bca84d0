"""`painguide dose inspect`: the JSON contract, the Rich table and the exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from painguide.commands.dose import app
from painguide.dose.generator import Quirks, ct_report, fluoro_report, write_report

CONTRACT_KEYS = {
    "file",
    "sop_instance_uid",
    "kind",
    "manufacturer",
    "model",
    "study_datetime",
    "events",
    "dap_total_gy_cm2",
    "fluoro_dap_gy_cm2",
    "acquisition_dap_gy_cm2",
    "rp_dose_total_mgy",
    "fluoro_time_s",
    "acquisition_time_s",
    "dlp_total_mgy_cm",
    "peak_skin_dose_mgy",
    "peak_skin_dose_note",
    "event_list",
    "warnings",
}
EVENT_KEYS = {"dap_gy_cm2", "rp_dose_mgy", "ctdivol_mgy", "dlp_mgy_cm"}


@pytest.fixture
def reports(tmp_path: Path) -> dict[str, Path]:
    return {
        "fluoro": write_report(fluoro_report(seed=1, events=4), tmp_path / "fluoro.dcm"),
        "ct": write_report(ct_report(seed=2, events=2, quirks=Quirks(enhanced_sr=True)), tmp_path / "ct.dcm"),
        "bad": tmp_path / "bad.dcm",
    }


def test_inspect_json_follows_the_contract(reports: dict[str, Path]) -> None:
    result = CliRunner().invoke(app, ["inspect", str(reports["fluoro"]), str(reports["ct"]), "--json"])
    assert result.exit_code == 0, result.output
    fluoro, ct = json.loads(result.stdout)
    assert fluoro.keys() >= CONTRACT_KEYS and ct.keys() >= CONTRACT_KEYS
    assert fluoro["kind"] == "fluoro" and ct["kind"] == "ct"
    assert fluoro["events"] == len(fluoro["event_list"]) == 4
    assert fluoro["event_list"][0].keys() >= EVENT_KEYS
    assert fluoro["dlp_total_mgy_cm"] is None and ct["dap_total_gy_cm2"] is None
    assert ct["dlp_total_mgy_cm"] > 0 and ct["event_list"][0]["ctdivol_mgy"] > 0
    assert fluoro["file"] == str(reports["fluoro"])


def test_inspect_reads_every_file_and_exits_non_zero_on_a_bad_one(reports: dict[str, Path]) -> None:
    reports["bad"].write_bytes(b"not dicom" * 40)
    args = ["inspect", str(reports["bad"]), str(reports["fluoro"]), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3
    bad, good = json.loads(result.stdout)
    assert set(bad) == {"file", "error"} and "DICOM" in bad["error"]
    assert good["kind"] == "fluoro"


def test_inspect_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["inspect", str(tmp_path / "absent.dcm"), "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout) == [{"file": str(tmp_path / "absent.dcm"), "error": "no such file"}]


def test_inspect_table_names_the_file_and_its_totals(reports: dict[str, Path]) -> None:
    result = CliRunner().invoke(app, ["inspect", str(reports["fluoro"])], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "fluoro.dcm" in result.stdout and "fluoro" in result.stdout


def test_inspect_strict_turns_a_malformed_value_into_an_error(tmp_path: Path) -> None:
    path = write_report(
        fluoro_report(seed=3, events=2, quirks=Quirks(malformed_current=True)), tmp_path / "m.dcm"
    )
    lenient = CliRunner().invoke(app, ["inspect", str(path), "--json"])
    strict = CliRunner().invoke(app, ["inspect", str(path), "--json", "--strict"])
    assert lenient.exit_code == 0
    assert any("10.50/ 15.00" in w for w in json.loads(lenient.stdout)[0]["warnings"])
    assert strict.exit_code == 3
    assert "strict" in json.loads(strict.stdout)[0]["error"]
