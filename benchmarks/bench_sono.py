"""Ultrasound guidance benchmark: per-frame speed at 640x480 on one core, and accuracy on a simulated corpus.

Run ``python benchmarks/bench_sono.py`` (``--quick`` for a smaller corpus). Prints the numbers and writes
docs/performance-sono.md.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2

from painguide.sono.evaluate import evaluate
from painguide.sono.pipeline import GuidancePipeline
from painguide.sono.simulate import random_params, simulate_cine

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "pipeline_ms_median": 5.0,
    "tip_error_median_mm": 0.5,
    "angle_error_median_deg": 1.0,
    "spread_latency_max_s": 0.5,
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


def main() -> None:
    quick = "--quick" in sys.argv
    cv2.setNumThreads(1)
    timing = speed(2 if quick else 4)
    print(f"pipeline per 640x480 frame: {json.dumps(timing)}")
    started = time.perf_counter()
    metrics = evaluate(cines=6 if quick else 24, needle_free=2 if quick else 6, n_frames=60).metrics()
    print(f"evaluation ({time.perf_counter() - started:.0f} s): {json.dumps(metrics)}")
    reached = {
        "pipeline_ms_median": timing["median_ms"],
        "tip_error_median_mm": metrics["tip_error_mm"]["median"],
        "angle_error_median_deg": metrics["angle_error_deg"]["median"],
        "spread_latency_max_s": metrics["spread_latency_s"]["max"],
    }
    for key, target in TARGETS.items():
        value = reached[key]
        verdict = "met" if value is not None and value <= target else "NOT met"
        print(f"{key:26s} {value!s:>8s}  target <= {target}  {verdict}")
    _write_report(timing, metrics, reached)


def _write_report(timing: dict[str, float], metrics: dict[str, object], reached: dict[str, object]) -> None:
    lines = [
        "# Ultrasound guidance performance",
        "",
        f"Measured by `python benchmarks/bench_sono.py` on {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, OpenCV {cv2.__version__}, `cv2.setNumThreads(1)`.",
        "",
        "| Measure | Target | Reached |",
        "|---|---|---|",
    ]
    for key, target in TARGETS.items():
        lines.append(f"| {key.replace('_', ' ')} | <= {target} | {reached[key]} |")
    lines += [
        "",
        f"Speed over {timing['frames']} frames of 640x480: median {timing['median_ms']} ms, "
        f"90th percentile {timing['p90_ms']} ms, max {timing['max_ms']} ms.",
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
