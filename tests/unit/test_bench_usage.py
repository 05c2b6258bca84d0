"""The ultrasound benchmark scripts refuse a misused command line with a usage message, before any work."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        monkeypatch.setenv(
            var, os.environ.get(var, "")
        )  # the live bench pins threads at import: undone after
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (
            ["--families", "--only", "baseline,nope"],
            "--only: unknown scene families nope",
        ),
        (["--families", "--per-family", "0"], "--per-family: expected a whole number of at least 1, got 0"),
        (["--save", "part.json"], "--save needs --families --only A,B"),
        (["--first", "600"], "--first needs --families"),
        (["--confirmation"], "--confirmation needs --families"),
        (["--run-on"], "--run-on needs --families"),
        (["--families", "--dev", "--confirmation"], "--dev and --confirmation: choose one set of seeds"),
    ],
)
def test_bench_sono_usage_errors_name_the_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    bench = _load("bench_sono", monkeypatch)
    ran: list[str] = []
    for work in ("figures", "speed", "evaluate", "evaluate_test_set", "run_part"):
        monkeypatch.setattr(bench, work, lambda *a, _w=work, **k: ran.append(_w))
    with pytest.raises(SystemExit) as stop:
        bench.main(argv)
    assert stop.value.code == 2
    assert named in capsys.readouterr().err
    assert ran == []  # nothing measured, docs/performance-sono.md not rewritten


def test_bench_sono_help_runs_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _load("bench_sono", monkeypatch)
    ran: list[str] = []
    monkeypatch.setattr(bench, "speed", lambda *a, **k: ran.append("speed"))
    with pytest.raises(SystemExit) as stop:
        bench.main(["--help"])
    assert stop.value.code == 0 and ran == []
    out = capsys.readouterr().out
    assert "--families" in out and "--first K" in out


def test_bench_sono_parses_a_block_part(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _load("bench_sono", monkeypatch)
    args = bench.arguments(
        ["--families", "--first", "600", "--per-family", "30", "--only", "baseline,artefacts", "--real"]
    )
    assert (args.first, args.per_family, args.only, args.real) == (600, 30, ("baseline", "artefacts"), True)


def test_bench_sono_live_usage(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load("bench_sono_live", monkeypatch)
    monkeypatch.setattr(bench, "pin", lambda: pytest.fail("the bench ran"))
    with pytest.raises(SystemExit) as stop:
        bench.main(["--bogus"])
    assert stop.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert bench.arguments(["--no-e2e", "--quick"]).no_e2e


def test_the_sono_report_names_the_date_and_the_commit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import datetime
    import subprocess

    bench = _load("bench_sono", monkeypatch)
    today = datetime.date.today().isoformat()
    assert bench.provenance(tmp_path) == f"{today}, outside a git checkout"
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "a"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert bench.provenance(tmp_path) == f"{today}, commit {head}"
    (tmp_path / "src" / "a.py").write_text("x = 2\n")
    assert bench.provenance(tmp_path) == f"{today}, commit {head} with local changes"
