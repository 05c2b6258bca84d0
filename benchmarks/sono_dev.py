"""Development-set diagnosis of the guidance pipeline: per-family figures on development seeds only.

Run ``python benchmarks/sono_dev.py [--per-family N] [--start I] [--families a,b] [--cines] [--run-on]`` while
tuning.
It never touches the frozen test seeds (:data:`painguide.sono.scenes.TEST_SEEDS`); the final figures come
from ``python benchmarks/bench_sono.py --families``. ``--cines`` prints one line per cine (missed frames by
true angle, depth and visible length, spread onset latency, warnings) to show what fails, from the same
pipeline run that is scored. ``--needle`` runs
the needle tracker alone (a few times faster): detection, tip and angle errors and false needle frames per
family, counted as the evaluation counts them.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402

from painguide.sono.familyeval import (  # noqa: E402
    FamilyScore,
    score_family_cine,
    score_needle,
    without_fluid,
)
from painguide.sono.frames import Frame, FrameTruth  # noqa: E402
from painguide.sono.needle import NeedleTracker  # noqa: E402
from painguide.sono.pipeline import FrameResult  # noqa: E402
from painguide.sono.scenes import (  # noqa: E402
    FAMILIES,
    TEST_SEEDS,
    development_seed,
    run_on_past_the_wait,
    scene_params,
)
from painguide.sono.simulate import SimulatedCine, simulate_cine  # noqa: E402


class Described:
    """What the pipeline missed in one cine, collected frame by frame (``score_family_cine(observe=...)``)."""

    def __init__(self) -> None:
        self.missed: list[str] = []
        self.seen = 0
        self.onset: float | None = None

    def __call__(self, frame: Frame, truth: FrameTruth, result: FrameResult) -> None:
        if truth.needle_visible:
            self.seen += 1
            if not result.needle.visible:
                self.missed.append(f"{frame.index}:{truth.visible_length_mm:.0f}mm@{truth.tip_z_mm:.0f}")
        if self.onset is None and any(e.type == "spread_onset" for e in result.events):
            self.onset = result.time_s

    def line(self, cine: SimulatedCine) -> str:
        p = cine.params
        onset = self.onset
        lat = None if onset is None or cine.spread_onset_s is None else onset - cine.spread_onset_s
        return (
            f"seed {p.seed} angle {p.needle_angle_deg:.0f} entry x {p.needle_entry_x_mm} "
            f"z {p.needle_entry_z_mm:.1f} "
            f"depth {p.depth_mm:.0f} bright {p.needle_brightness:.0f} att {p.attenuation_db_mm:.2f} "
            f"missed {len(self.missed)}/{self.seen} [{' '.join(self.missed[:12])}] onset latency {lat}"
        )


def needle_only(cine: object) -> FamilyScore:
    """Score the needle tracker alone on one cine (the needle figures of :func:`score_family_cine`)."""
    p = cine.params  # type: ignore[attr-defined]
    tracker = NeedleTracker()
    score = FamilyScore(p.family or "unnamed", cines=1, frames=len(cine.frames))  # type: ignore[attr-defined]
    for frame, truth in zip(cine.frames, cine.truth, strict=True):  # type: ignore[attr-defined]
        score_needle(score, tracker(frame), truth, p)
    return score


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-family", type=int, default=6)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--cines", action="store_true")
    parser.add_argument("--needle", action="store_true", help="the needle tracker alone")
    parser.add_argument("--run-on", action="store_true", help="cines with an injection run on past the wait")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    began = time.perf_counter()
    total = FamilyScore("all")
    for family in args.families.split(","):
        summed = FamilyScore(family)
        for i in range(args.start, args.start + args.per_family):
            seed = development_seed(family, i)
            assert seed not in TEST_SEEDS
            params = scene_params(family, seed)
            if args.run_on and params.injection_at_s is not None:
                params = run_on_past_the_wait(params)
            cine = simulate_cine(params)
            if args.needle:
                summed.add(needle_only(cine))
                if args.cines:  # the whole pipeline once more, for the line of what it missed
                    described = Described()
                    score_family_cine(cine, observe=described)
                    print("   ", described.line(cine), flush=True)
                continue
            described = Described()
            quiet = simulate_cine(without_fluid(params)) if cine.spread_onset_s is not None else None
            one = score_family_cine(cine, observe=described, quiet=quiet)
            summed.add(one)
            if args.cines:
                shown = ", ".join(f"{v:.3f}" for v in one.visible_latencies_s) or "-"
                unshown = " (missed, never shown)" if one.spread_missed_unshown else ""
                off = " OFF THE FLUID" if one.onsets_off_fluid else ""
                if one.fluid_frames_off:
                    off += f" region off the fluid in {one.fluid_frames_off}/{one.fluid_frames} frames"
                if one.warnings.get("no_visible_spread") == [(False, True)]:
                    off += " NO-SPREAD WARNING WITH SPREAD"
                if one.unshown_cines:
                    off += " (fluid never shown" + (", warned)" if one.unshown_warned else ")")
                if one.lumen_cines:
                    off += " (tip in a lumen at the injection" + (", warned)" if one.lumen_warned else ")")
                tip = one.metrics()["tip_error_mm"]
                if one.tip_errors_mm:  # as the evaluation computes it
                    off += f" tip p90 {tip['p90']:.2f} max {max(one.tip_errors_mm):.2f}"  # type: ignore[index]
                print("   ", described.line(cine), f"after shown {shown}{unshown}{off}", flush=True)
        total.add(summed)
        m = summed.metrics()
        if args.needle:
            print(
                f"{family:20s} det {m['detection_rate']} ({summed.detected}/{summed.truth_visible}) "
                f"tip {m['tip_error_mm']['median']}/{m['tip_error_mm']['p90']} "
                f"ang {m['angle_error_deg']['median']} falseN {m['false_needle_frames']}",
                flush=True,
            )
            continue
        w = m["warnings"]
        print(
            f"{family:20s} det {m['detection_rate']} "
            f"tip {m['tip_error_mm']['median']}/{m['tip_error_mm']['p90']} "
            f"ang {m['angle_error_deg']['median']} onset {m['spread_latency_s']['median']}/"
            f"{m['spread_latency_s']['max']} vis {m['spread_latency_visible_s']['max']} "
            f"fivlat {m['fluid_in_vessel_latency_s']['max']} "
            f"miss {m['spread_missed']} off {m['onsets_off_fluid']} falsesp {m['false_spread_frames']}/"
            f"{m['no_fluid_frames']} offfr {m['fluid_frames_off']}/{m['fluid_frames']} "
            f"falseN {m['false_needle_frames']} vessel {m['vessel_detection_rate']} "
            f"fv {m['false_vessel_frames']} nvs {w['no_visible_spread']['sensitivity']}/"
            f"{w['no_visible_spread']['specificity']} fiv {w['fluid_in_vessel']['sensitivity']}/"
            f"{w['fluid_in_vessel']['specificity']} vnp {w['vessel_near_path']['sensitivity']}/"
            f"{w['vessel_near_path']['specificity']} ms {m['processing_ms_median']}",
            flush=True,
        )
    m = total.metrics()
    print(
        f"{'all':20s} det {m['detection_rate']} tip {m['tip_error_mm']} ang {m['angle_error_deg']} "
        f"onset {m['spread_latency_s']} miss {m['spread_missed']} falsesp {m['false_spread_frames']}/"
        f"{m['no_fluid_frames']} offfr {m['fluid_frames_off']}/{m['fluid_frames']} "
        f"falseN {m['false_needle_frames']} vessel {m['vessel_detection_rate']} "
        f"({time.perf_counter() - began:.0f} s)"
    )


if __name__ == "__main__":
    main()
