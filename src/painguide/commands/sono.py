"""``painguide sono``: ultrasound guidance (analyze, live, simulate, evaluate).

Command contract
----------------
``painguide sono analyze FILE [--injection-at SECONDS] [--out overlay.mp4] --json`` prints
``{"file", "frames": [{"index", "time_s", "needle": {"visible", "tip_x_mm", "tip_z_mm", "angle_deg",
"confidence"}, "spread": {"visible", "area_mm2"}, "processing_ms"}], "events": [{"time_s", "type", "detail"}],
"summary": {...}}``. Positions are millimetres from the top-left of the image region (x lateral, z depth).

``painguide sono live --source dicom:FILE|video:PATH_OR_INDEX|igtl:HOST:PORT|simulated [--igtl-out PORT]``
tracks a live stream (a DICOM file or the simulated cine is replayed) and, with ``--igtl-out``, serves
NeedleTipToImage (TRANSFORM), NeedleTip (POINT) and PainguideEvent (STRING) to OpenIGTLink clients such as
3D Slicer. A STRING ``INJECTION_START`` (or device ``Injection`` with ``START``) from the source marks the
injection start.

Heavy libraries are imported inside the commands to keep ``painguide --help`` fast.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from painguide.commands.guard import requires

if TYPE_CHECKING:
    from painguide.sono.analysis import AnalysisReport

SIMULATE_MAX_SIDE = 2048
"""Largest image side of ``sono simulate`` in pixels."""
SIMULATE_MAX_FRAMES = 3000
"""Most frames of ``sono simulate`` (150 s at the simulator's 20 frames a second)."""
SIMULATE_MAX_PIXELS = 400_000_000
"""Most pixels of one simulated cine (frames × rows × columns; held in memory as bytes before writing)."""

app = typer.Typer(
    help="Ultrasound guidance: needle tracking, injectate spread and warnings.", no_args_is_help=True
)


def _echo_json(document: object) -> None:
    typer.echo(json.dumps(document, indent=None, separators=(",", ":")))


def _render_report(report: AnalysisReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    s = report.summary
    table = Table(title=f"Ultrasound analysis: {Path(report.file).name}", show_header=False)
    for key, value in s.items():
        if key != "warnings":
            table.add_row(key.replace("_", " "), "-" if value is None else str(value))
    console.print(table)
    for event in report.events:
        style = "bold red" if event.is_warning else "cyan"
        console.print(f"[{style}]{event.time_s:7.2f} s  {event.type}[/]  {event.detail}")


@app.command()
@requires("sono.analyze")
def analyze(
    file: Annotated[Path, typer.Argument(help="DICOM ultrasound file (single or multi-frame).")],
    injection_at: Annotated[
        float | None, typer.Option("--injection-at", help="Injection start in seconds from the first frame.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write an annotated video (.mp4 or .avi).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON document instead of a table.")
    ] = False,
    spacing_mm: Annotated[
        float | None, typer.Option("--spacing-mm", help="Pixel size when the file has no ultrasound regions.")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--no-spread-after", help="Seconds after injection start before warning.")
    ] = 4.0,
) -> None:
    """Analyse a recorded cine: needle tip and angle, spread, events and warnings per frame."""
    from rich.progress import Progress

    from painguide.errors import ValidationError
    from painguide.sono.analysis import analyze_frames, check_injection_at, frame_rate
    from painguide.sono.dicom import read_dicom_cine
    from painguide.sono.frames import check_spacing_mm
    from painguide.sono.overlay import check_video_path

    if not (math.isfinite(timeout) and timeout > 0):  # before the file is read, named as the user typed it
        raise ValidationError(
            "--no-spread-after", f"must be a positive number of seconds, got {timeout:g} (e.g. 4)"
        )
    check_spacing_mm(spacing_mm, "--spacing-mm")
    if out is not None:
        check_video_path(out)
    check_injection_at(None, injection_at)  # before the file is read; its range once it is
    cine = read_dicom_cine(file, spacing_mm=spacing_mm)
    check_injection_at(cine.frames, injection_at)
    options: dict[str, Any] = {
        "name": str(file),
        "injection_at_s": injection_at,
        "no_spread_timeout_s": timeout,
        "overlay_path": out,
        "fps": frame_rate(cine.frames),
    }
    if as_json:
        _echo_json(analyze_frames(cine.frames, **options).as_dict())
        return
    with Progress(transient=True) as progress:
        task = progress.add_task("Analysing", total=len(cine.frames))
        report = analyze_frames(cine.frames, progress=lambda n: progress.update(task, completed=n), **options)
    _render_report(report)


@app.command()
@requires("sono.simulate")
def simulate(
    out: Annotated[Path, typer.Argument(help="Output DICOM file (Ultrasound Multi-frame Image).")],
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same cine.")] = 0,
    frames: Annotated[int, typer.Option(min=1, max=SIMULATE_MAX_FRAMES, help="Number of frames.")] = 60,
    rows: Annotated[int, typer.Option(min=32, max=SIMULATE_MAX_SIDE, help="Image region rows.")] = 480,
    cols: Annotated[int, typer.Option(min=32, max=SIMULATE_MAX_SIDE, help="Image region columns.")] = 640,
    needle: Annotated[bool, typer.Option(help="Insert a needle.")] = True,
    injection: Annotated[bool, typer.Option(help="Inject and let fluid spread.")] = True,
    compression: Annotated[str, typer.Option(help="none, rle or jpeg.")] = "none",
    truth: Annotated[Path | None, typer.Option(help="Also write the per-frame ground truth as JSON.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Simulate a B-mode cine with a needle and injectate, written as multi-frame DICOM US."""
    from dataclasses import asdict

    from rich.progress import Progress

    from painguide.errors import ValidationError
    from painguide.outputs import check_output_file
    from painguide.sono.dicom import write_dicom_cine
    from painguide.sono.simulate import random_params, simulate_cine

    if compression not in ("none", "rle", "jpeg"):
        raise ValidationError("--compression", f"expected none, rle or jpeg, got {compression!r}")
    if rows * cols * frames > SIMULATE_MAX_PIXELS:  # the whole cine is held in memory before it is written
        raise ValidationError(
            "--frames, --rows, --cols",
            f"{frames} frames of {rows}×{cols} pixels are more than the {SIMULATE_MAX_PIXELS // 1_000_000} "
            "million pixels a simulated cine may have; simulate fewer or smaller frames",
        )
    check_output_file(out, "OUT", example="cine.dcm")
    if truth is not None:
        check_output_file(truth, "--truth", example="truth.json")
    params = random_params(seed, rows=rows, cols=cols, n_frames=frames, needle=needle, injection=injection)
    with Progress(transient=True, disable=as_json) as progress:
        task = progress.add_task("Simulating", total=frames)
        cine = simulate_cine(params, progress=lambda n: progress.update(task, completed=n))
    write_dicom_cine(cine.frames, out, compression=compression)  # type: ignore[arg-type]
    if truth is not None:
        truth.write_text(json.dumps([asdict(t) for t in cine.truth], default=float))
    summary = {
        "file": str(out),
        "frames": frames,
        "injection_at_s": params.injection_at_s,
        "spread_onset_s": cine.spread_onset_s,
        "needle_angle_deg": cine.truth[-1].angle_deg if needle else None,
    }
    if as_json:
        _echo_json(summary)
    else:
        start = params.injection_at_s
        when = "no injection" if start is None else f"injection starts at {start:.2f} s"
        typer.echo(f"wrote {out} ({frames} frames, seed {seed}; {when})")


@app.command()
@requires("sono.evaluate")
def evaluate(
    per_family: Annotated[
        int,
        typer.Option(min=0, help="Cines per scene family from the frozen test set (0: the older corpus)."),
    ] = 4,
    families: Annotated[str, typer.Option(help="Comma-separated scene families (default: all).")] = "",
    development: Annotated[
        bool, typer.Option(help="Use the development seeds instead of the frozen test set.")
    ] = False,
    confirmation: Annotated[
        bool,
        typer.Option(help="Use the confirmation seeds (blocks of cines never run before, docs/sono.md)."),
    ] = False,
    first: Annotated[
        int,
        typer.Option(
            min=0,
            help="Each family's first cine in its seeds (0 with the test seeds: the frozen set).",
        ),
    ] = 0,
    run_on: Annotated[
        bool,
        typer.Option(
            "--run-on",
            help="Run every cine with an injection on past the no-spread warning's wait (a set of its own).",
        ),
    ] = False,
    cines: Annotated[
        int | None, typer.Option(min=1, help="Older corpus: simulated cines with a needle [default: 12].")
    ] = None,
    needle_free: Annotated[
        int | None, typer.Option(min=0, help="Older corpus: cines without a needle [default: 4].")
    ] = None,
    frames: Annotated[int, typer.Option(min=10, help="Frames per cine.")] = 60,
    seed: Annotated[int | None, typer.Option(help="Older corpus: first seed [default: 1000].")] = None,
    real: Annotated[bool, typer.Option(help="Include the real needle-free cines of pydicom.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON metrics.")] = False,
) -> None:
    """Evaluate needle, spread, vessel and warning figures per scene family on the frozen test set."""
    from rich.console import Console
    from rich.progress import Progress

    from painguide.errors import ValidationError
    from painguide.sono.evaluate import evaluate as run
    from painguide.sono.evaluate import evaluate_test_set
    from painguide.sono.scenes import FAMILY_STRIDE, check_families

    # An option that the chosen evaluation would ignore is a usage error, not silently dropped.
    if per_family > 0:
        ignored = {"--cines": cines, "--needle-free": needle_free, "--seed": seed}
        unused = [name for name, value in ignored.items() if value is not None]
        why = f"only the older corpus (--per-family 0) uses it; --per-family is {per_family}"
    else:
        scene_options = {"--families": bool(families), "--development": development}
        scene_options |= {"--confirmation": confirmation, "--first": first > 0, "--run-on": run_on}
        unused = [name for name, given in scene_options.items() if given]
        why = "only the scene families (--per-family 1 or more) use it; --per-family is 0, the older corpus"
    if unused:
        raise ValidationError(", ".join(unused), f"{why}: leave it out or change --per-family")
    if development and confirmation:
        raise ValidationError(
            "--confirmation", "choose one set of seeds: --development or --confirmation, not both"
        )
    if first + per_family > FAMILY_STRIDE:
        raise ValidationError(
            "--first",
            f"each family has {FAMILY_STRIDE} cines, so --first plus --per-family may be at most "
            f"{FAMILY_STRIDE}; got {first} + {per_family}",
        )
    # each family once, in the order given, and every name known, before any cine is simulated
    chosen = tuple(dict.fromkeys(f.strip() for f in families.split(",") if f.strip()))
    check_families(chosen, "--families")
    with Progress(transient=True, disable=as_json) as progress:
        task = progress.add_task("Simulating and scoring", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        if per_family > 0:
            result = evaluate_test_set(
                first=first,
                per_family=per_family,
                families=chosen or None,
                test_set=not development,
                confirmation=confirmation,
                run_on=run_on,
                n_frames=frames,
                real=real,
                progress=report,
            )
        else:
            given = {"cines": cines, "needle_free": needle_free, "seed": seed}
            chosen_corpus = {name: value for name, value in given.items() if value is not None}
            result = run(n_frames=frames, real=real, progress=report, **chosen_corpus).metrics()
    if as_json:
        _echo_json(result)
    else:
        Console().print_json(json.dumps(result))


@app.command()
@requires("sono.live.control")
def live(
    source: Annotated[
        str, typer.Option("--source", help="dicom:FILE, video:PATH_OR_INDEX, igtl:HOST:PORT or simulated.")
    ],
    igtl_out: Annotated[
        int | None,
        typer.Option(
            "--igtl-out", help="Serve results over OpenIGTLink on this port (1-65535).", min=1, max=65535
        ),
    ] = None,
    spacing_mm: Annotated[
        float | None, typer.Option("--spacing-mm", help="Pixel size for video sources.")
    ] = None,
    injection_at: Annotated[
        float | None, typer.Option("--injection-at", help="Injection start (s) for replayed files.")
    ] = None,
    max_frames: Annotated[int | None, typer.Option(help="Stop after this many frames.", min=1)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line per frame.")] = False,
) -> None:
    """Track a live stream, print results and optionally publish them over OpenIGTLink."""
    from painguide.sono.live import run_live

    def show(line: dict[str, Any]) -> None:
        if as_json:
            _echo_json(line)
        elif line.get("events"):
            for event in line["events"]:
                typer.echo(f"{event['time_s']:7.2f} s  {event['type']}: {event['detail']}")

    run_live(
        source,
        igtl_out=igtl_out,
        spacing_mm=spacing_mm,
        injection_at_s=injection_at,
        max_frames=max_frames,
        sink=show,
    )
