"""``painguide training cusum`` through painguide.cli.main: JSON contract and one-line errors."""

from __future__ import annotations

import json

import pytest

from painguide.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["training", "cusum", *args])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--outcomes", ",".join(["0"] + ["1"] * 19), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["h"] == pytest.approx(2.709511, abs=1e-6) and data["s"] == pytest.approx(0.145244, abs=1e-6)
    assert len(data["scores"]) == len(data["lc_scores"]) == 20
    assert data["scores"][0] == pytest.approx(0.854756, abs=1e-6) and data["lc_scores"][0] == 0
    assert data["competent_at"] == 19


def test_options_change_the_design(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--outcomes", "1,1", "--p0", "0.05", "--p1", "0.15", "--alpha", "0.05",
                       "--beta", "0.2", "--json")  # fmt: skip
    data = json.loads(out)
    assert code == 0 and (data["p0"], data["beta"]) == (0.05, 0.2)
    assert data["h"] == pytest.approx(2.291703, abs=1e-6) and data["competent_at"] is None


def test_horizon_uses_the_exact_limit(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--outcomes", "1,1,1", "--horizon", "50", "--json")
    data = json.loads(out)
    assert data["limit"] == "exact" and data["horizon"] == 50 and data["h"] > 2.71


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--outcomes", "1,0,1")
    assert code == 0 and "competence: not declared" in out and "h = 2.7095 (wald limit)" in out
    _, out, _ = run(capsys, "--outcomes", ",".join(["1"] * 19))
    assert "competence: declared at procedure 19" in out


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--outcomes", "1,2"], "--outcomes"),
        (["--outcomes", ""], "--outcomes"),
        (["--outcomes", "1,0", "--p0", "0.3", "--p1", "0.2"], "--p0"),
        (["--outcomes", "1,0", "--alpha", "1.5"], "--alpha"),
        (["--outcomes", "1,0", "--beta", "0"], "--beta"),
        (["--outcomes", "1,0", "--horizon", "0"], "--horizon"),
    ],
)
def test_bad_input_one_line_naming_the_option(
    capsys: pytest.CaptureFixture[str], args: list[str], option: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option}: ")
