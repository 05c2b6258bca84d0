"""The ``painguide sono`` commands through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from painguide.commands.sono import app
from painguide.errors import NotFoundError, ValidationError
from painguide.sono.simulate import SimulatedCine, random_params
from painguide.sono.sources import simulated_source

runner = CliRunner()


def test_analyze_json_contract(cine_file: Path, cine: SimulatedCine) -> None:
    result = runner.invoke(app, ["analyze", str(cine_file), "--injection-at", "0.9", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["file"] == str(cine_file)
    assert len(document["frames"]) == len(cine.frames)
    frame = document["frames"][-1]
    assert set(frame) == {"index", "time_s", "needle", "spread", "processing_ms", "vessels"}
    assert frame["needle"]["visible"] is True
    truth = cine.truth[-1]
    assert abs(frame["needle"]["tip_x_mm"] - truth.tip_x_mm) < 1.0
    assert abs(frame["needle"]["angle_deg"] - truth.angle_deg) < 1.0
    # the visible shaft may start a little inside the image edge, never longer than the truth
    assert truth.visible_length_mm - 3.0 < frame["needle"]["length_mm"] <= truth.visible_length_mm + 1.0
    types = [e["type"] for e in document["events"]]
    assert "injection_start" in types and "spread_onset" in types
    assert all(set(e) == {"time_s", "type", "detail"} for e in document["events"])


def test_analyze_writes_overlay_video(cine_file: Path, tmp_path: Path, cine: SimulatedCine) -> None:
    out = tmp_path / "overlay.mp4"
    result = runner.invoke(app, ["analyze", str(cine_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "needle_visible" in result.output
    capture = cv2.VideoCapture(str(out))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    assert count == len(cine.frames)


def test_analyze_missing_file_raises_domain_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(tmp_path / "none.dcm"), "--json"])
    assert isinstance(result.exception, NotFoundError)


def test_simulate_writes_dicom_and_truth(tmp_path: Path) -> None:
    out, truth = tmp_path / "sim.dcm", tmp_path / "truth.json"
    args = [
        "simulate",
        str(out),
        "--frames",
        "5",
        "--rows",
        "64",
        "--cols",
        "80",
        "--truth",
        str(truth),
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["frames"] == 5
    assert len(json.loads(truth.read_text())) == 5
    assert out.stat().st_size > 5 * 64 * 80


@pytest.mark.parametrize("injection", [True, False])
def test_simulate_says_when_the_injection_starts(tmp_path: Path, injection: bool) -> None:
    """The time to give ``sono analyze --injection-at`` is printed with the file written."""
    size = ["--frames", "5", "--rows", "64", "--cols", "80"]
    args = ["simulate", str(tmp_path / "sim.dcm"), *size, "--seed", "3"]
    result = runner.invoke(app, [*args, "--injection" if injection else "--no-injection"])
    assert result.exit_code == 0, result.output
    start = random_params(3, rows=64, cols=80, n_frames=5).injection_at_s
    assert start is not None
    expected = f"injection starts at {start:.2f} s" if injection else "no injection"
    assert expected in result.output


def test_simulate_rejects_unknown_compression(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", str(tmp_path / "x.dcm"), "--compression", "zip"])
    assert isinstance(result.exception, ValidationError)
    with pytest.raises(ValidationError, match="--compression"):
        raise result.exception


def test_evaluate_json(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--per-family",
            "0",
            "--cines",
            "1",
            "--needle-free",
            "1",
            "--frames",
            "12",
            "--no-real",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["cines"] == 1 and metrics["needle_free_cines"] == 1
    assert {"tip_error_mm", "angle_error_deg", "detection_rate", "spread_latency_s"} <= set(metrics)


def test_evaluate_families_on_development_seeds() -> None:
    result = runner.invoke(
        app,
        [
            *("evaluate", "--per-family", "1", "--families", "baseline"),
            "--development",
            "--frames",
            "12",
            "--no-real",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["set"] == "development" and document["seeds"] == [100_000, 199_999]
    assert set(document["families"]) == {"baseline", "all"}
    baseline = document["families"]["baseline"]
    assert baseline["cines"] == 1 and baseline["frames"] == 12
    assert set(baseline["warnings"]) == {
        "no_visible_spread",
        "fluid_in_vessel",
        "vessel_near_path",
        "intravascular_flag",
    }


def test_live_replays_a_simulated_source() -> None:
    result = runner.invoke(app, ["live", "--source", "simulated", "--max-frames", "4", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["index"] for line in lines] == [0, 1, 2, 3]
    assert all({"needle", "spread", "events"} <= set(line) for line in lines)


def test_the_simulated_source_signals_its_own_injection_start_once() -> None:
    """As a pump or foot switch would over OpenIGTLink: just before the first frame at the simulated start,
    and not again when the cine is repeated."""
    start = random_params(42, rows=360, cols=480, n_frames=120).injection_at_s
    assert start is not None
    seen: list[float] = []
    signals: list[float] = []
    source = simulated_source(loop=True, on_injection=lambda: signals.append(seen[-1] if seen else -1.0))
    for frame in source:
        seen.append(frame.time_s)
        if len(seen) == 250:  # into the third pass
            break
    assert len(signals) == 1
    assert signals[0] < start <= min(t for t in seen if t > signals[0])


def test_live_on_the_simulated_source_shows_injection_and_spread_unmarked() -> None:
    """Without --injection-at the simulated course runs whole: needle, injection start, spread onset."""
    result = runner.invoke(app, ["live", "--source", "simulated", "--max-frames", "80", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    events = {e["type"]: line["time_s"] for line in lines for e in line.get("events", [])}
    assert {"needle_visible", "injection_start", "spread_onset"} <= set(events)
    assert events["needle_visible"] < events["injection_start"] <= events["spread_onset"]
    assert "no_visible_spread" not in events and "cine_ended_without_spread" not in events


def test_live_rejects_an_unknown_source() -> None:
    result = runner.invoke(app, ["live", "--source", "usb:1"])
    with pytest.raises(ValidationError, match="--source: expected dicom:FILE"):
        raise result.exception  # type: ignore[misc]


def test_analyze_warns_when_the_cine_ends_before_the_timeout(tmp_path: Path) -> None:
    from painguide.sono.demo import demo_cines

    name, _, data = next(c for c in demo_cines() if c[0] == "demo-no-visible-spread.dcm")
    path = tmp_path / name
    path.write_bytes(data)
    result = runner.invoke(app, ["analyze", str(path), "--injection-at", "2.5", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    last = document["events"][-1]
    assert last["type"] == "cine_ended_without_spread"
    assert last["detail"].startswith("cine ended 3.3 s after the injection start with no visible spread")
    assert [w["type"] for w in document["summary"]["warnings"]] == ["cine_ended_without_spread"]
    longer = runner.invoke(app, ["analyze", str(path), "--injection-at", "1.5", "--json"])
    types = [e["type"] for e in json.loads(longer.output)["events"]]
    assert "no_visible_spread" in types and "cine_ended_without_spread" not in types


def test_live_with_an_unreachable_source_exits_with_the_reason() -> None:
    import socket

    from painguide.errors import SourceUnavailableError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = runner.invoke(app, ["live", "--source", f"igtl:127.0.0.1:{port}"])
    assert isinstance(result.exception, SourceUnavailableError) and result.exception.exit_code == 6
    assert "cannot connect (Connection refused)" in str(result.exception)
    refused = runner.invoke(app, ["live", "--source", "igtl:192.0.2.7:18944"])
    assert isinstance(refused.exception, ValidationError)
    assert "not allowed" in str(refused.exception)


def test_live_replay_reports_the_end_without_spread_as_a_json_line(tmp_path: Path) -> None:
    from painguide.sono.demo import demo_cines

    name, _, data = next(c for c in demo_cines() if c[0] == "demo-no-visible-spread.dcm")
    path = tmp_path / name
    path.write_bytes(data)
    args = ["live", "--source", f"dicom:{path}", "--injection-at", "4.5", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert "index" not in lines[-1]
    assert lines[-1]["events"][0]["type"] == "cine_ended_without_spread"


def test_evaluate_runs_a_later_block_of_seeds() -> None:
    args = ("evaluate", "--per-family", "1", "--families", "needle_free", "--development", "--frames", "10")
    result = runner.invoke(app, [*args, "--first", "7", "--no-real", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["first"] == 7 and document["families"]["needle_free"]["cines"] == 1


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--per-family", "12", "--first", "995"], ("--first", "at most 1000; got 995 + 12")),
        (["--per-family", "1", "--development", "--confirmation"], ("--confirmation", "not both")),
        (["--per-family", "0", "--confirmation"], ("--confirmation", "--per-family is 0")),
        (
            ["--per-family", "0", "--development", "--first", "30", "--families", "baseline"],
            ("--families, --development, --first", "older corpus"),
        ),
        (["--per-family", "2", "--cines", "3", "--seed", "7"], ("--cines, --seed", "--per-family is 2")),
        (["--per-family", "0", "--run-on"], ("--run-on", "--per-family is 0")),
        (["--per-family", "1", "--families", "baseline,nope"], ("--families: unknown scene family nope", "")),
    ],
)
def test_evaluate_refuses_bad_blocks_and_sets_of_seeds(
    capsys: pytest.CaptureFixture[str], options: list[str], named: tuple[str, str]
) -> None:
    from painguide.cli import main

    with pytest.raises(SystemExit) as done:
        main(["sono", "evaluate", *options, "--no-real"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert all(part in err for part in named) and "Traceback" not in err
    assert capsys.readouterr().out == ""  # refused before anything was simulated


def test_evaluate_runs_a_family_named_twice_once() -> None:
    args = ("evaluate", "--per-family", "1", "--families", "baseline, baseline", "--development")
    result = runner.invoke(app, [*args, "--frames", "12", "--no-real", "--json"])
    assert result.exit_code == 0, result.output
    families = json.loads(result.output)["families"]
    assert families["baseline"]["cines"] == 1 and families["all"]["cines"] == 1


def test_evaluate_runs_the_confirmation_seeds() -> None:
    from painguide.sono.scenes import CONFIRMATION_SEEDS

    args = ("evaluate", "--per-family", "1", "--families", "needle_free", "--confirmation", "--frames", "10")
    result = runner.invoke(app, [*args, "--first", "3", "--no-real", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["set"] == "confirmation" and document["first"] == 3
    assert document["seeds"] == [CONFIRMATION_SEEDS.start, CONFIRMATION_SEEDS.stop - 1]


@pytest.mark.parametrize(
    ("at", "named"),
    [
        ("100", ("injection_at", "100.0 s lies after the cine's last frame", "give a time from 0 to")),
        ("-3", ("injection_at", "got -3.0")),
    ],
    ids=["after-the-last-frame", "negative"],
)
def test_analyze_refuses_an_injection_start_off_the_cine(
    cine_file: Path, cine: SimulatedCine, capsys: pytest.CaptureFixture[str], at: str, named: tuple[str, ...]
) -> None:
    """An injection start after the last frame would never be applied: the cine would be analysed as one
    without an injection, with no warning check, and nothing would say so."""
    from painguide.cli import main

    with pytest.raises(SystemExit) as done:
        main(["sono", "analyze", str(cine_file), "--injection-at", at])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert all(part in err for part in named) and "Traceback" not in err
    last = round(cine.frames[-1].time_s, 2)
    if at == "100":
        assert f"({last} s)" in err  # the cine's own end, read from the file


@pytest.mark.parametrize("after", ["0", "-1"])
def test_analyze_names_the_option_of_a_wait_that_is_not_positive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], after: str
) -> None:
    """Refused before the file is read (it need not exist), naming the option as typed and the fix."""
    from painguide.cli import main

    with pytest.raises(SystemExit) as done:
        main(["sono", "analyze", str(tmp_path / "none.dcm"), "--no-spread-after", after])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert (
        "--no-spread-after" in err and f"got {float(after):g}" in err and "positive number of seconds" in err
    )
    assert "Traceback" not in err and "none.dcm" not in err


@pytest.mark.parametrize(
    ("source", "at", "named"),
    [
        ("dicom", "100", ("injection_at", "lies after the cine's last frame", "give a time from 0 to")),
        ("simulated", "-1", ("injection_at", "got -1.0")),
    ],
    ids=["replayed-file-after-its-end", "negative"],
)
def test_live_refuses_an_injection_start_off_the_cine(
    cine_file: Path, capsys: pytest.CaptureFixture[str], source: str, at: str, named: tuple[str, ...]
) -> None:
    """A replayed file's end is known: a start after it would never be applied; a negative one never is."""
    from painguide.cli import main

    spec = f"dicom:{cine_file}" if source == "dicom" else "simulated"
    with pytest.raises(SystemExit) as done:
        main(["sono", "live", "--source", spec, "--injection-at", at, "--max-frames", "5", "--json"])
    assert done.value.code == 2
    captured = capsys.readouterr()
    assert all(part in captured.err for part in named) and "Traceback" not in captured.err
    assert captured.out == ""  # refused before any frame was run


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["analyze", "{file}", "--spacing-mm", "-2"], ("--spacing-mm", "got -2.0", "such as 0.1")),
        (["analyze", "{file}", "--spacing-mm", "nan"], ("--spacing-mm", "got nan")),
        (["analyze", "{file}", "--no-spread-after", "inf"], ("--no-spread-after", "got inf")),
        (["analyze", "{file}", "--out", "{tmp}/none/v.mp4"], ("--out", "does not exist", "create it")),
        (["analyze", "{file}", "--out", "{tmp}/v.gif"], ("--out", "use an .mp4 or .avi")),
        (["live", "--source", "simulated", "--spacing-mm", "0"], ("--spacing-mm", "got 0.0")),
        (["live", "--source", "dicom:{file}", "--spacing-mm", "-0.1"], ("--spacing-mm", "got -0.1")),
        (["live", "--source", "simulated", "--max-frames", "0"], ("--max-frames", "greater than or equal")),
        (["analyze", "{tmp}"], ("is a folder, not a file", "one DICOM ultrasound file")),
        (["live", "--source", "dicom:{tmp}"], ("is a folder, not a file",)),
    ],
    ids=[
        "negative-spacing",
        "nan-spacing",
        "endless-wait",
        "video-folder-missing",
        "video-suffix",
        "live-zero-spacing",
        "live-dicom-negative-spacing",
        "no-frames",
        "a-folder",
        "live-a-folder",
    ],
)
def test_a_bad_option_is_refused_before_any_frame_is_read(
    cine_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    named: tuple[str, ...],
) -> None:
    """A pixel size, wait, video path or frame count that cannot be right is refused by name (exit 2) before
    the cine is read or a frame run, also where the source would not use it (a file with its own spacing,
    the simulated source): a mistyped value never passes unnoticed, and a video path is not found unusable
    only after the whole cine was analysed."""
    from painguide.cli import main

    filled = [a.format(file=cine_file, tmp=tmp_path) for a in args]
    with pytest.raises(SystemExit) as done:
        main(["sono", *filled])
    assert done.value.code == 2
    captured = capsys.readouterr()
    assert all(part in captured.err for part in named), captured.err
    assert "Traceback" not in captured.err
    assert captured.out.strip() == ""  # nothing analysed, no frame printed
    assert not list(tmp_path.glob("**/*.mp4"))


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["{tmp}/a.dcm", "--rows", "20000"], ("--rows", "less than or equal to 2048")),
        (["{tmp}/a.dcm", "--frames", "100000"], ("--frames", "less than or equal to 3000")),
        (["{tmp}/a.dcm", "--frames", "2000"], ("--frames, --rows, --cols", "400 million pixels")),
        (["{tmp}/none/a.dcm"], ("OUT:", "does not exist", "create it")),
        (["{tmp}"], ("OUT:", "is a folder; give a file name")),
        (["{tmp}/a.dcm", "--truth", "{tmp}/none/t.json"], ("--truth:", "does not exist")),
    ],
    ids=["huge-image", "endless", "too-many-pixels", "folder-missing", "a-folder", "truth-folder-missing"],
)
def test_simulate_refuses_what_it_cannot_make_or_write_before_simulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: tuple[str, ...]
) -> None:
    """Before, a 20000-pixel side ran out of memory and a missing folder was found after the whole cine had
    been simulated: both an internal error (exit 70) with a traceback in the log."""
    from painguide.cli import main

    with pytest.raises(SystemExit) as done:
        main(["sono", "simulate", *(a.format(tmp=tmp_path) for a in args)])
    assert done.value.code == 2
    captured = capsys.readouterr()
    assert all(part in captured.err for part in named), captured.err
    assert "internal error" not in captured.err and captured.out == ""
    assert not list(tmp_path.glob("**/*.dcm"))


def test_evaluate_runs_cines_on_past_the_no_spread_wait() -> None:
    """``--run-on`` makes a cine with an injection last until 5.5 s after its start (not ``--frames``)."""
    from painguide.sono.scenes import AFTER_INJECTION_S, development_seed, scene_params

    args = ("evaluate", "--per-family", "1", "--families", "baseline", "--development", "--frames", "12")
    plain = runner.invoke(app, [*args, "--no-real", "--json"])
    longer = runner.invoke(app, [*args, "--run-on", "--no-real", "--json"])
    assert plain.exit_code == 0 and longer.exit_code == 0, longer.output
    short, long = json.loads(plain.output), json.loads(longer.output)
    assert short["run_on"] is False and long["run_on"] is True
    params = scene_params("baseline", development_seed("baseline", 0), n_frames=12)
    assert params.injection_at_s is not None
    needed = (params.injection_at_s + AFTER_INJECTION_S) * params.frame_rate_hz
    assert short["families"]["baseline"]["frames"] == 12
    assert long["families"]["baseline"]["frames"] >= needed
