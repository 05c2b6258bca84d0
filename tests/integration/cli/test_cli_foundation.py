"""The foundation CLI contract (docs/cli.md): JSON shapes, exit codes, messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from painguide.cli import GC_THRESHOLDS, GROUPS, main

EXE = Path(sys.executable).with_name("painguide")
ALL_IDS = [
    "lumbar-facet-mbb",
    "lumbar-facet-ia",
    "lumbar-facet-rfa",
    "thoracic-facet-mbb",
    "cervical-facet-mbb",
    "cervical-facet-rfa",
    "lumbar-ilesi",
    "thoracic-ilesi",
    "cervical-ilesi",
    "lumbar-tfesi",
    "cervical-tfesi",
    "lumbar-prt",
    "caudal-esi",
    "sij-ia",
    "sacral-lateral-branch-rfa",
    "intradiscal",
    "vertebroplasty",
    "scs-trial",
    "intrathecal-pump",
    "stellate-ganglion",
    "lumbar-sympathetic",
    "celiac-plexus",
    "superior-hypogastric",
    "sphenopalatine",
    "knee-ia",
    "hip-ia",
    "shoulder-ia",
    "subacromial",
    "genicular-block",
    "genicular-rfa",
    "greater-occipital",
    "suprascapular",
    "intercostal",
    "ilioinguinal",
    "lfcn",
    "pudendal",
    "carpal-tunnel",
    "piriformis",
    "trigger-point",
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_catalogue_list_json_lists_every_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalogue", "list", "--json")
    assert code == 0
    items = json.loads(out)
    assert sorted(i["id"] for i in items) == sorted(ALL_IDS)
    for item in items:
        assert {"id", "name", "region", "bleeding_risk"} <= set(item)
        assert item["bleeding_risk"] in ("low", "intermediate", "high")


def test_catalogue_show_json_has_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalogue", "show", "cervical-facet-mbb", "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data["modalities"]) == {"landmark", "ultrasound", "fluoroscopy", "ct"}
    assert "N18" in data["sources"] and data["sources"]["N18"].startswith("Narouze")


def _check_advice_shape(data: dict[str, Any]) -> None:
    assert set(data) >= {"procedure", "bleeding_risk", "modalities", "anticoagulation", "warnings"}
    assert data["bleeding_risk"] in ("low", "intermediate", "high")
    ratings = [m["rating"] for m in data["modalities"]]
    assert ratings == sorted(ratings, reverse=True)
    assert {m["modality"] for m in data["modalities"]} == {"landmark", "ultrasound", "fluoroscopy", "ct"}
    for m in data["modalities"]:
        assert 1 <= m["rating"] <= 9
        assert m["band"] in ("usually appropriate", "may be appropriate", "usually not appropriate")
        assert set(m) >= {"radiation_level", "contrast", "reasons", "warnings"}
        for r in m["reasons"] + m["warnings"]:
            assert set(r) >= {"code", "text", "source"}
    for plan in data["anticoagulation"]:
        assert set(plan) >= {
            "drug",
            "action",
            "hold_before_hours_min",
            "hold_before_hours_max",
            "restart_after_hours_min",
            "restart_after_hours_max",
            "normal_inr_required",
            "source",
            "status",
        }


def test_advise_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "advise",
        "lumbar-tfesi",
        "--pregnant",
        "--breastfeeding",
        "--contrast-allergy",
        "--egfr",
        "25",
        "--bmi",
        "36",
        "--age",
        "70",
        "--drug",
        "warfarin",
        "--drug",
        "aspirin",
        "--aspirin-indication",
        "secondary",
        "--high-bleeding-risk",
        "--renal-impairment",
        "--prior-fusion",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    _check_advice_shape(data)
    assert data["bleeding_risk"] == "high"  # intermediate raised for a high-bleeding-risk patient
    codes = {w["code"] for m in data["modalities"] for w in m["warnings"]} | {
        w["code"] for w in data["warnings"]
    }
    assert {"pregnancy", "breastfeeding", "contrast_allergy", "renal_function", "anticoagulant"} <= codes
    assert [p["drug"] for p in data["anticoagulation"]] == ["warfarin", "aspirin-secondary"]


def test_advise_obesity_and_fusion_codes(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "advise", "lumbar-facet-mbb", "--bmi", "38", "--prior-fusion", "--json")
    data = json.loads(out)
    codes = {w["code"] for m in data["modalities"] for w in m["warnings"]} | {
        w["code"] for w in data["warnings"]
    }
    assert {"obesity", "prior_fusion"} <= codes


def test_unknown_procedure_exits_2_with_suggestions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "advise", "lumbar-tfsei")
    assert code == 2
    assert "unknown procedure 'lumbar-tfsei'" in err and "lumbar-tfesi" in err
    assert "Traceback" not in err + out


def test_unknown_drug_exits_2_with_suggestions(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "advise", "knee-ia", "--drug", "apixiban")
    assert code == 2
    assert "apixaban" in err


def test_out_of_range_number_names_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "advise", "knee-ia", "--bmi", "500")
    assert code == 2
    assert err.startswith("error: bmi:") and "10-100" in err


def test_advise_human_output_shows_disclaimer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "advise", "cervical-facet-mbb", "--pregnant")
    assert code == 0
    assert "the physician decides" in out and "ultrasound" in out


def test_env_info_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "env-info", "--json")
    info = json.loads(out)
    assert code == 0 and info["painguide"] == "0.1.0" and info["pydicom"]


def test_db_upgrade_creates_database(capsys: pytest.CaptureFixture[str], isolated_settings: Path) -> None:
    code, out, _ = run(capsys, "db", "upgrade")
    from painguide.store.db import current_revisions

    db = isolated_settings / "painguide.sqlite3"
    revisions = current_revisions(f"sqlite:///{db}")
    assert code == 0 and revisions and all(r in out for r in revisions)


def test_installed_entry_point_runs_and_fails_cleanly(isolated_settings: Path) -> None:
    env = {**os.environ, "PAINGUIDE_DATA_DIR": str(isolated_settings)}
    ok = subprocess.run([str(EXE), "catalogue", "list", "--json"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and len(json.loads(ok.stdout)) == 39
    bad = subprocess.run([str(EXE), "catalogue", "show", "kne-ia"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "knee-ia" in bad.stderr and "Traceback" not in bad.stderr


def test_malformed_policy_stops_with_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from painguide.settings import get_settings

    policy = tmp_path / "site.yaml"
    policy.write_text("name: x\noverrides:\n  - path: procedures.knee-ia.bleeding_risk\n    value: low\n")
    monkeypatch.setenv("PAINGUIDE_SITE_POLICY", str(policy))
    get_settings.cache_clear()
    code, _, err = run(capsys, "catalogue", "list")
    assert code == 78
    assert str(policy) in err and "overrides.0.author" in err


def test_only_the_process_entry_tunes_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    frozen: list[bool] = []
    thresholds: list[tuple[int, ...]] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    monkeypatch.setattr(gc, "set_threshold", lambda *values: thresholds.append(values))
    with pytest.raises(SystemExit) as called:
        main(["catalogue", "list", "--json"])  # as tests and scripts call it: the process goes on
    assert called.value.code == 0 and frozen == [] and thresholds == []
    monkeypatch.setattr(sys, "argv", ["painguide", "catalogue", "show", "no-such-procedure"])
    with pytest.raises(SystemExit) as entry:
        main()  # the console script: the process ends, whatever the exit code
    assert entry.value.code != 0 and frozen == [True] and thresholds == [GC_THRESHOLDS]
    assert GC_THRESHOLDS[0] > gc.get_threshold()[0] and all(GC_THRESHOLDS)  # raised, never switched off


def test_a_command_line_builds_only_the_group_it_names() -> None:
    from painguide.cli import _app_for, app

    def groups(typer_app: Any) -> list[str | None]:
        return [info.name for info in typer_app.registered_groups]

    assert groups(app) == list(GROUPS)
    assert groups(_app_for(["dose", "list", "--json"])) == ["dose"]
    top_level = [c.name for c in app.registered_commands]
    assert (
        [c.name for c in _app_for(["dose", "list"]).registered_commands]
        == top_level
        == ["advise", "env-info", "serve"]
    )
    for args in ([], ["--help"], ["advise", "lumbar-tfesi"], ["dos"]):
        assert _app_for(args) is app
