"""`painguide dose import` and `dose list` against the configured (temporary) database; the migration."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

import painguide.store.models  # noqa: F401  (registers every table)
from painguide import timing
from painguide.commands.dose import app
from painguide.services import open_uow
from painguide.store.audit import AuditFilter
from painguide.store.base import Base
from painguide.store.db import current_revisions, known_heads, make_engine


def test_migration_matches_the_dose_tables(dose_db: str) -> None:
    revisions = current_revisions(dose_db)
    assert revisions == known_heads() and "0015_dose_skin_reasons" in revisions  # one dose head
    with make_engine(dose_db).connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    dose_diffs = [d for d in diffs if "dose_" in repr(d)]
    assert dose_diffs == []


def test_import_then_list_json(corpus: list[Path], tmp_path: Path) -> None:
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(corpus[0], "again.dcm")
    runner = CliRunner()
    first = runner.invoke(app, ["import", str(corpus[0].parent), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["imported"] == 6
    again = runner.invoke(app, ["import", str(archive), "--json"])
    assert json.loads(again.stdout) | {"quarantine_dir": ""} == {
        "imported": 0,
        "duplicates": 1,
        "quarantined": 0,
        "quarantine_dir": "",
        "refused": [],
    }
    listed = runner.invoke(app, ["list", "--json", "--patient", "P0"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert len(rows) == 3 and {r["patient_id"] for r in rows} == {"P0"}
    assert {"id", "sop_instance_uid", "study_datetime", "dap_total_gy_cm2", "operator"} <= rows[0].keys()
    with open_uow() as uow:  # listing patient data is a read of patient data: audited
        (entry,) = uow.audit.page(AuditFilter(actor="cli", action="dose.reports.read"), limit=5)
    assert entry.detail is not None and entry.detail["shown"] == 3 and "P0" in json.dumps(entry.detail)
    study = runner.invoke(app, ["list", "--json", "--study", rows[0]["study_instance_uid"]])
    assert [r["id"] for r in json.loads(study.stdout)] == [rows[0]["id"]]


def test_import_quarantines_into_the_settings_folder_and_exits_3(corpus: list[Path], tmp_path: Path) -> None:
    from painguide.settings import get_settings

    bad = tmp_path / "bad.dcm"
    bad.write_bytes(corpus[0].read_bytes()[:700])
    result = CliRunner().invoke(app, ["import", str(bad), str(corpus[1])])
    assert result.exit_code == 3
    assert "imported 1" in result.stdout and "quarantined 1" in result.stdout
    reasons = list(get_settings().quarantine_dir.glob("*.reason.txt"))
    assert len(reasons) == 1 and "bad.dcm" in reasons[0].read_text()


def test_list_table_shows_reports(corpus: list[Path]) -> None:
    runner = CliRunner()
    runner.invoke(app, ["import", str(corpus[0])])
    result = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Stored dose reports (1)" in result.stdout


def test_alerts_with_site_levels_flag_reports_and_patient_sums(corpus: list[Path]) -> None:
    runner = CliRunner()
    runner.invoke(app, ["import", str(corpus[0].parent)])
    default = json.loads(runner.invoke(app, ["alerts", "--json"]).stdout)
    assert default["levels"] == {
        "dap_gy_cm2": 200.0,
        "rp_dose_mgy": 2000.0,
        "peak_skin_dose_mgy": 2000.0,
        "source": "OpenREM-alerts",
        "window_days": 84,
    }
    assert default["alerts"] == []
    low = runner.invoke(app, ["alerts", "--json", "--dap", "0.001", "--window-weeks", "520"])
    assert low.exit_code == 0, low.output
    alerts = json.loads(low.stdout)["alerts"]
    assert sum(a["scope"] == "report" and a["quantity"] == "dap" for a in alerts) == 6
    assert json.loads(low.stdout)["levels"]["source"].startswith("site configuration")


def test_drl_lists_local_medians_and_published_levels(corpus: list[Path]) -> None:
    runner = CliRunner()
    runner.invoke(app, ["import", str(corpus[0].parent)])
    result = runner.invoke(app, ["drl", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["local"] == [
        {
            "procedure_type": "lumbar-tfesi",
            "quantity": "dap",
            "median": payload["local"][0]["median"],
            "count": 6,
        }
    ]
    ids = {p["id"]: p for p in payload["published"]}
    assert ids["bfs2022-ct-lumbar-spine-bone"]["status"] == "secondary"
    assert len(payload["exceeded"]) == 3  # half of six reports lie above their own median
    table = runner.invoke(app, ["drl"], env={"COLUMNS": "200"})
    assert "Local DRLs" in table.stdout and "BfS-DRL-2022" in table.stdout


def test_list_marks_where_it_reaches_its_work(
    dose_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marks = tmp_path / "marks.txt"
    monkeypatch.setenv(timing.ENV, str(marks))
    result = CliRunner().invoke(app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in marks.read_text(encoding="utf-8").splitlines()]
    assert [name for name, _clock, _cpu in lines] == ["command", "first-sql"]
    assert int(lines[0][1]) <= int(lines[1][1])
