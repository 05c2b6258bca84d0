"""Ultrasound guidance benchmark: per-frame speed at 640x480 on one core, and accuracy on a simulated corpus.

Run ``python benchmarks/bench_sono.py`` (``--quick`` for a smaller corpus); ``--families`` prints the
per-family table of the frozen test set (the figures of docs/sono.md; ``--per-family N`` cines each, 4 by
default; ``--first K`` starts at each family's K-th cine (a confirmation block); ``--dev`` runs development
seeds instead, ``--confirmation`` the confirmation seeds (blocks never run before); ``--only a,b --save
part.json [--real]`` runs some families (and the real needle-free cines) and ``--table part1.json
part2.json`` merges parts run in separate processes). Prints the numbers and writes
docs/performance-sono.md. ``--figures`` only redraws the pictures of docs/sono.md into docs/img/sono/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import cv2

from painguide.sono.evaluate import evaluate, evaluate_test_set
from painguide.sono.pipeline import GuidancePipeline
from painguide.sono.scenes import FAMILIES
from painguide.sono.simulate import random_params, simulate_cine

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "pipeline_ms_median": ("<=", 5.0),
    "tip_error_median_mm": ("<=", 0.5),
    "angle_error_median_deg": ("<=", 1.0),
    "detection_rate": (">=", 0.9),
    "false_detections_all": ("<=", 0),
    "spread_latency_max_s": ("<=", 0.5),
    "spread_missed": ("<=", 0),
    "spread_area_abs_error_median": ("<=", 0.3),
}


def speed(n_cines: int = 4, n_frames: int = 60) -> dict[str, float]:
    """Per-frame pipeline time in ms on 640x480 simulated frames (one OpenCV thread)."""
    times = []
    for seed in range(n_cines):
        cine = simulate_cine(random_params(500 + seed, rows=480, cols=640, n_frames=n_frames))
        pipeline = GuidancePipeline(injection_at_s=cine.params.injection_at_s)
        for frame in cine.frames:
            started = time.perf_counter()
            pipeline(frame)
            times.append((time.perf_counter() - started) * 1000.0)
    times.sort()
    return {
        "frames": len(times),
        "median_ms": round(statistics.median(times), 3),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 3),
        "max_ms": round(times[-1], 3),
    }


def _with_truth(frame: Any, result: Any, truth: Any, warnings: list[str]) -> Any:
    """The overlay of a frame with the true tip as a green cross."""
    from painguide.sono.overlay import draw_overlay

    image = draw_overlay(frame, result, warnings=warnings)
    if truth is not None and truth.tip_x_mm == truth.tip_x_mm:
        tip = (round(truth.tip_x_mm / frame.col_spacing_mm), round(truth.tip_z_mm / frame.row_spacing_mm))
        cv2.drawMarker(image, tip, (0, 255, 0), cv2.MARKER_CROSS, 14, 1)
    return image


def _run(cine: Any, **options: Any) -> list[Any]:
    pipeline = GuidancePipeline(**options)
    return [pipeline(frame) for frame in cine.frames]


def _bad_case(out: Path) -> None:
    """The first frame of the evaluation corpus with a visible shaft of 8 mm or more that is not reported."""
    for seed in range(1000, 1024):
        cine = simulate_cine(random_params(seed, rows=480, cols=640, n_frames=60))
        results = _run(cine, injection_at_s=cine.params.injection_at_s)
        for frame, result, truth in zip(cine.frames, results, cine.truth, strict=True):
            if truth.needle_visible and truth.visible_length_mm >= 8 and not result.needle.visible:
                cv2.imwrite(str(out / "bad-missed-needle.png"), _with_truth(frame, result, truth, []))
                print(f"bad case: seed {seed} frame {frame.index} angle {truth.angle_deg:.1f}")
                return


def figures() -> None:
    """Redraw the pictures of docs/sono.md."""
    from dataclasses import replace

    from painguide.sono.dicom import read_dicom_cine
    from painguide.sono.evaluate import real_needle_free_files

    out = ROOT / "docs" / "img" / "sono"
    tiles = []
    for seed in range(1000, 1004):
        cine = simulate_cine(random_params(seed, rows=480, cols=640, n_frames=40))
        tiles.append(cine.frames[int((cine.params.injection_at_s or 0.0) * cine.params.frame_rate_hz)].pixels)
    grid = cv2.vconcat([cv2.hconcat(tiles[:2]), cv2.hconcat(tiles[2:])])
    cv2.imwrite(
        str(out / "simulated-variety.png"),
        cv2.resize(grid, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
    )
    raw = simulate_cine(random_params(1009, rows=480, cols=640, n_frames=60))
    cv2.imwrite(str(out / "simulated-raw-frame.png"), raw.frames[-1].pixels)
    results = _run(raw, injection_at_s=raw.params.injection_at_s)
    cv2.imwrite(
        str(out / "good-needle-and-spread.png"), _with_truth(raw.frames[-1], results[-1], raw.truth[-1], [])
    )
    _bad_case(out)
    silent = simulate_cine(
        replace(random_params(1011, rows=480, cols=640, n_frames=60), spread_visible=False)
    )
    results = _run(silent, injection_at_s=silent.params.injection_at_s, no_spread_timeout_s=1.0)
    warnings = [e.type for r in results for e in r.events if e.is_warning]
    cv2.imwrite(
        str(out / "warning-no-visible-spread.png"),
        _with_truth(silent.frames[-1], results[-1], None, warnings),
    )
    real = read_dicom_cine(real_needle_free_files()[0])
    results = _run(real)
    cv2.imwrite(str(out / "real-needle-free-echo.png"), _with_truth(real.frames[-1], results[-1], None, []))


def family_table(result: dict[str, Any]) -> str:
    """Markdown table of the per-family figures of :func:`evaluate_test_set`."""

    def ci(value: Any, interval: Any) -> str:
        return "-" if value is None else f"{value} ({interval[0]}-{interval[1]})"

    lines = [
        "| Family | Cines | Detection | Tip error median / p90 mm | Angle median ° "
        "| Spread onset median / max s | Onset after visible fluid median / max s "
        "| False spread frames | Vessel frames found "
        "| no_visible_spread sens / spec | fluid_in_vessel sens / spec "
        "| vessel_near_path sens / spec | intravascular flagged sens / spec |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in result["families"].items():
        w = m["warnings"]
        cells = [
            name,
            str(m["cines"]),
            ci(m["detection_rate"], m["detection_ci"])
            + (
                f" ({m['off_needle_frames']} of {m['needle_reported_frames']} reported off the needle)"
                if m.get("off_needle_frames")
                else ""
            ),
            f"{m['tip_error_mm']['median']} / {m['tip_error_mm']['p90']}",
            str(m["angle_error_deg"]["median"]),
            f"{m['spread_latency_s']['median']} / {m['spread_latency_s']['max']} "
            f"({m['spread_missed']} missed"
            + (f", {m['onsets_off_fluid']} off the fluid" if m.get("onsets_off_fluid") else "")
            + ")",
            f"{m['spread_latency_visible_s']['median']} / {m['spread_latency_visible_s']['max']}"
            + (f" ({m['spread_missed_unshown']} missed not shown)" if m.get("spread_missed_unshown") else ""),
            f"{m['false_spread_frames']} / {m['no_fluid_frames']}"
            + (
                f" (+{m['fluid_frames_off']} of {m['fluid_frames']} with fluid off it)"
                if m.get("fluid_frames_off")
                else ""
            ),
            str(m["vessel_detection_rate"]),
        ]
        for key in ("no_visible_spread", "fluid_in_vessel", "vessel_near_path", "intravascular_flag"):
            if key not in w:  # a part saved before this warning was counted
                cells.append("-")
                continue
            r = w[key]
            apart = {
                "whose fluid never showed": m.get("no_visible_spread_unshown", {}),
                "whose tip was in a vessel lumen at the injection start": m.get(
                    "no_visible_spread_tip_in_lumen", {}
                ),
            }
            cells.append(
                f"{ci(r['sensitivity'], r['sensitivity_ci'])} / {ci(r['specificity'], r['specificity_ci'])}"
                + "".join(
                    f" (warned in {n['warned']} of {n['cines']} {why})"
                    for why, n in apart.items()
                    if key == "no_visible_spread" and n.get("cines")
                )
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def false_needles_line(result: dict[str, Any]) -> str:
    """The false needles of a run in one line, printed under its table (which has no column for them): the
    frames of each family that show a needle where there is none, and those of the real needle-free cines."""
    counted = {
        name: m
        for name, m in result["families"].items()
        if name != "all" and (name == "needle_free" or m["false_needle_frames"])
    }
    simulated = [
        f"`{name}` {m['false_needle_frames']} of {m['frames']} frames" for name, m in counted.items()
    ]
    real = [
        f"{name} {r['false_frames']} of {r['frames']} frames"
        for name, r in result["real_needle_free"].items()
    ]
    return (
        "False needles (a needle reported in a frame without one): "
        + ("; ".join(simulated) or "none counted")
        + "; real needle-free cines: "
        + ("; ".join(real) or "not run (run with --real)")
    )


def run_part(
    per_family: int,
    families: tuple[str, ...],
    *,
    test_set: bool,
    real: bool,
    first: int = 0,
    confirmation: bool = False,
    run_on: bool = False,
) -> dict[str, Any]:
    """Raw per-family scores of some families (JSON-ready), for :func:`merge_parts`."""
    from dataclasses import asdict

    from painguide.sono.evaluate import real_needle_free_scores
    from painguide.sono.familyeval import evaluate_families
    from painguide.sono.scenes import seed_set

    scores = evaluate_families(
        per_family=per_family,
        families=families,
        first=first,
        test_set=test_set,
        confirmation=confirmation,
        run_on=run_on,
    )
    set_name, seeds = seed_set(test_set=test_set, confirmation=confirmation)
    return {
        "set": set_name,
        "run_on": run_on,
        "seeds": [seeds.start, seeds.stop - 1],
        "first": first,
        "per_family": per_family,
        "scores": {name: asdict(score) for name, score in scores.items() if name != "all"},
        "real_needle_free": real_needle_free_scores() if real else {},
    }


def merge_parts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One result (as :func:`evaluate_test_set`) from parts saved by ``--only ... --save``."""
    from painguide.sono.familyeval import FamilyScore

    scores: dict[str, FamilyScore] = {}
    for part in parts:  # a family in several parts (a block run in pieces) is summed
        for name, raw in part["scores"].items():
            score = FamilyScore(**raw)
            if name in scores:
                scores[name].add(score)
            else:
                scores[name] = score
    total = FamilyScore("all")
    for score in scores.values():
        total.add(score)
    scores["all"] = total
    real = {k: v for part in parts for k, v in part["real_needle_free"].items()}
    firsts = [part.get("first", 0) for part in parts]
    if len({part.get("run_on", False) for part in parts}) > 1:
        raise ValueError("--table: parts run with and without --run-on cannot be merged")
    return {
        "set": parts[0]["set"],
        "run_on": parts[0].get("run_on", False),
        "seeds": parts[0]["seeds"],
        "first": min(firsts),
        "per_family": max(score.cines for name, score in scores.items() if name != "all"),
        "families": {name: score.metrics() for name, score in scores.items()},
        "real_needle_free": real,
    }


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; a misuse ends with a usage message naming the option (exit 2)."""

    def count(text: str) -> int:
        value = int(text)
        if value < 1:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text}")
        return value

    def start(text: str) -> int:
        value = int(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"expected a cine number of 0 or more, got {text}")
        return value

    def families(text: str) -> tuple[str, ...]:
        names = tuple(name.strip() for name in text.split(",") if name.strip())
        unknown = [name for name in names if name not in FAMILIES]
        if not names or unknown:
            raise argparse.ArgumentTypeError(
                f"unknown scene families {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(FAMILIES)}"
            )
        return names

    parser = argparse.ArgumentParser(
        prog="bench_sono.py", description=(__doc__ or "").split("\n\n")[0].replace("\n", " ")
    )
    parser.add_argument("--quick", action="store_true", help="a smaller corpus")
    parser.add_argument("--figures", action="store_true", help="only redraw the pictures of docs/sono.md")
    parser.add_argument("--table", nargs="+", metavar="PART", help="merge parts saved with --save")
    parser.add_argument("--families", action="store_true", help="the per-family table of the frozen test set")
    parser.add_argument("--per-family", type=count, metavar="N", help="cines per family (4 by default)")
    parser.add_argument("--first", type=start, default=0, metavar="K", help="start at each family's cine K")
    parser.add_argument("--dev", action="store_true", help="development seeds instead of the test set")
    parser.add_argument(
        "--confirmation",
        action="store_true",
        help="the confirmation seeds instead of the test set (blocks of cines never run before)",
    )
    parser.add_argument("--only", type=families, metavar="A,B", help="run some families (with --families)")
    parser.add_argument("--save", type=Path, metavar="PART", help="save the part run with --only as JSON")
    parser.add_argument("--real", action="store_true", help="with --only: the real needle-free cines too")
    parser.add_argument(
        "--run-on",
        action="store_true",
        help="run every cine with an injection on past the no-spread warning's wait (a set of its own)",
    )
    args = parser.parse_args(argv)
    for option, given in (
        ("--only", args.only),
        ("--per-family", args.per_family),
        ("--first", args.first),
        ("--dev", args.dev),
        ("--confirmation", args.confirmation),
        ("--run-on", args.run_on),
    ):
        if given and not args.families:
            parser.error(f"{option} needs --families")
    if args.dev and args.confirmation:
        parser.error("--dev and --confirmation: choose one set of seeds")
    for option, given in (("--save", args.save), ("--real", args.real)):
        if given and args.only is None:
            parser.error(f"{option} needs --families --only A,B")
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    quick = args.quick
    cv2.setNumThreads(1)
    if args.figures:
        figures()
        return
    if args.table:  # merge saved parts (``--save``) into one table
        parts = [json.loads(Path(p).read_text()) for p in args.table]
        try:
            merged = merge_parts(parts)
        except ValueError as error:
            raise SystemExit(f"bench_sono.py: error: {error}") from None
        print(family_table(merged))
        print(false_needles_line(merged))
        return
    if args.families:
        per_family = args.per_family or (2 if quick else 4)
        test_set = not args.dev
        first = args.first
        if args.only is not None:  # a subset of families, e.g. to run the set in two processes
            part = run_part(
                per_family,
                args.only,
                test_set=test_set,
                real=args.real,
                first=first,
                confirmation=args.confirmation,
                run_on=args.run_on,
            )
            if args.save is not None:
                args.save.write_text(json.dumps(part))
            result = merge_parts([part])
        else:
            result = evaluate_test_set(
                per_family=per_family,
                test_set=test_set,
                first=first,
                confirmation=args.confirmation,
                run_on=args.run_on,
            )
        run_on = ", run on past the no-spread wait" if args.run_on else ""
        print(
            f"{result['set']} seeds {result['seeds']}, cines {first}-{first + per_family - 1} of each "
            f"family{run_on}"
        )
        print(family_table(result))
        print(false_needles_line(result))
        return
    timing = speed(2 if quick else 4)
    print(f"pipeline per 640x480 frame: {json.dumps(timing)}")
    started = time.perf_counter()
    metrics = evaluate(cines=6 if quick else 24, needle_free=2 if quick else 6, n_frames=60).metrics()
    print(f"evaluation ({time.perf_counter() - started:.0f} s): {json.dumps(metrics)}")
    real = metrics["real_needle_free"]
    reached = {
        "pipeline_ms_median": timing["median_ms"],
        "tip_error_median_mm": metrics["tip_error_mm"]["median"],
        "angle_error_median_deg": metrics["angle_error_deg"]["median"],
        "detection_rate": metrics["detection_rate"],
        "false_detections_all": metrics["false_detection_frames"]
        + metrics["needle_free_false_frames"]
        + sum(v["false_frames"] for v in real.values()),
        "spread_latency_max_s": metrics["spread_latency_s"]["max"],
        "spread_missed": metrics["spread_missed"],
        "spread_area_abs_error_median": metrics["spread_area_error"]["abs_median"],
    }
    for key, (op, target) in TARGETS.items():
        value = reached[key]
        met = value is not None and (value <= target if op == "<=" else value >= target)
        print(f"{key:30s} {value!s:>8s}  target {op} {target}  {'met' if met else 'NOT met'}")
    _write_report(timing, metrics, reached)


def provenance(root: Path = ROOT) -> str:
    """Today's date and the commit the code was run at (``with local changes`` when ``src/`` differs from
    it; ``outside a git checkout`` when there is none), for the figures a report carries."""
    today = datetime.date.today().isoformat()
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{today}, outside a git checkout"
    return f"{today}, commit {commit}" + (" with local changes" if changed else "")


def _write_report(timing: dict[str, float], metrics: dict[str, Any], reached: dict[str, Any]) -> None:
    lines = [
        "# Ultrasound guidance performance",
        "",
        f"Measured by `python benchmarks/bench_sono.py` ({provenance()}) on "
        f"{platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, OpenCV {cv2.__version__}, `cv2.setNumThreads(1)`.",
        "",
        "This is the older corpus (seeds 1000-1029: 24 needle cines, 6 needle-free), kept to compare "
        "versions and to time the pipeline. It is not the frozen test set: the targets are judged on the "
        "test set, per scene family, in [sono.md](sono.md#frozen-test-set-per-scene-family) "
        '(`python benchmarks/bench_sono.py --families`). "false detections all" counts frames reported '
        "with a needle where the truth shows none visible (in needle cines too, where the frozen test set "
        "counts only frames before the needle moves in), in needle-free cines and in the real cines.",
        "",
        "| Measure | Target | Reached |",
        "|---|---|---|",
    ]
    for key, (op, target) in TARGETS.items():
        lines.append(f"| {key.replace('_', ' ')} | {op} {target} | {reached[key]} |")
    lines += [
        "",
        f"Speed over {timing['frames']} frames of 640x480: median {timing['median_ms']} ms, "
        f"90th percentile {timing['p90_ms']} ms, max {timing['max_ms']} ms. Load average at the end of the "
        f"run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (other jobs may share the machine).",
        "",
        "Full metrics:",
        "",
        "```json",
        json.dumps(metrics, indent=2),
        "```",
        "",
    ]
    (ROOT / "docs" / "performance-sono.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
