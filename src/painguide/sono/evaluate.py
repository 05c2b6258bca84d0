"""Evaluation of the guidance pipeline on a simulated corpus and on real needle-free cines.

Metrics: tip error (median, 90th percentile, mm) and angle error (degrees) on frames where the needle is
visible in the ground truth and reported; detection rate; false detections (frames reported visible where
the truth says not visible, and on needle-free simulated and real cines); spread-onset latency.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from painguide.sono.dicom import read_dicom_cine
from painguide.sono.familyeval import evaluate_families
from painguide.sono.pipeline import GuidancePipeline
from painguide.sono.scenes import FAMILIES, seed_set
from painguide.sono.simulate import SimulatedCine, random_params, simulate_cine

__all__ = [
    "GROWN_MM2",
    "REAL_NEEDLE_FREE",
    "CineScore",
    "Evaluation",
    "evaluate",
    "evaluate_test_set",
    "real_needle_free_files",
    "score_cine",
]

GROWN_MM2 = 15.0
"""True fluid area from which the reported area is compared with the truth."""

REAL_NEEDLE_FREE = ("examples_ybr_color.dcm", "color3d_jpeg_baseline.dcm")
"""Real ultrasound cines without a needle: pydicom's example and the pydicom-data cine (both offline)."""


@dataclass(frozen=True, slots=True)
class CineScore:
    """Per-cine evaluation.

    Attributes
    ----------
    name : str
        Cine name (seed or file).
    truth_visible, detected, false_detections : int
        Frames with a visible needle in the truth, of those reported, and frames reported without one.
    tip_errors_mm, angle_errors_deg : list of float
        Errors on frames where both agree the needle is visible.
    spread_latency_s : float, optional
        Reported onset minus true onset (``None`` when there is no true onset or none was reported).
    spread_missed : bool
        True onset but no reported onset.
    processing_ms : list of float
        Per-frame processing time.
    frames : int
        Frames in the cine.
    spread_area_errors : list of float
        Relative error of the reported fluid area, ``(reported - true) / true``, on frames where the true
        pool has grown to at least :data:`GROWN_MM2`.
    """

    name: str
    truth_visible: int = 0
    detected: int = 0
    false_detections: int = 0
    tip_errors_mm: list[float] = field(default_factory=list)
    angle_errors_deg: list[float] = field(default_factory=list)
    spread_latency_s: float | None = None
    spread_missed: bool = False
    processing_ms: list[float] = field(default_factory=list)
    frames: int = 0
    spread_area_errors: list[float] = field(default_factory=list)


def score_cine(cine: SimulatedCine, *, name: str | None = None) -> CineScore:
    """Run the pipeline over a simulated cine and compare with its ground truth.

    Parameters
    ----------
    cine : SimulatedCine
        Frames and truth.
    name : str, optional
        Label (default: the seed).

    Returns
    -------
    CineScore
        Errors and counts.
    """
    pipeline = GuidancePipeline(injection_at_s=cine.params.injection_at_s)
    score = CineScore(name or f"seed {cine.params.seed}", frames=len(cine.frames))
    onset = None
    tv = det = fp = 0
    for frame, truth in zip(cine.frames, cine.truth, strict=True):
        result = pipeline(frame)
        score.processing_ms.append(result.processing_ms)
        n = result.needle
        if truth.needle_visible:
            tv += 1
            if n.visible:
                det += 1
                score.tip_errors_mm.append(
                    math.hypot(n.tip_x_mm - truth.tip_x_mm, n.tip_z_mm - truth.tip_z_mm)
                )
                score.angle_errors_deg.append(abs(n.angle_deg - truth.angle_deg))
        elif n.visible:
            fp += 1
        if truth.spread_area_mm2 >= GROWN_MM2:
            reported = result.spread.area_mm2
            score.spread_area_errors.append((reported - truth.spread_area_mm2) / truth.spread_area_mm2)
        if onset is None and any(e.type == "spread_onset" for e in result.events):
            onset = result.time_s
    latency = None
    if cine.spread_onset_s is not None and onset is not None:
        latency = onset - cine.spread_onset_s
    missed = cine.spread_onset_s is not None and onset is None
    return CineScore(
        score.name, tv, det, fp, score.tip_errors_mm, score.angle_errors_deg, latency, missed,
        score.processing_ms, score.frames, score.spread_area_errors,
    )  # fmt: skip


def real_needle_free_files() -> list[str]:
    """Paths of the real needle-free cines available offline (never downloads)."""
    from pydicom.data import get_testdata_file

    found = []
    for name in REAL_NEEDLE_FREE:
        path = get_testdata_file(name, download=False)
        if isinstance(path, str):
            found.append(path)
    return found


def real_needle_free_scores() -> dict[str, dict[str, int]]:
    """False needle frames and frames of each real needle-free cine found (by file name)."""
    found = {}
    for path in real_needle_free_files():
        false, frames = _real_false_detections(path)
        found[path.rsplit("/", 1)[-1]] = {"false_frames": false, "frames": frames}
    return found


def _real_false_detections(path: str) -> tuple[int, int]:
    pipeline = GuidancePipeline()
    frames = read_dicom_cine(path).frames
    return sum(pipeline(f).needle.visible for f in frames), len(frames)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Corpus evaluation: per-cine scores and the headline metrics."""

    scores: list[CineScore]
    free_scores: list[CineScore]
    real: dict[str, tuple[int, int]]

    def metrics(self) -> dict[str, object]:
        """Headline numbers (JSON-ready)."""
        tips = [e for s in self.scores for e in s.tip_errors_mm]
        angles = [e for s in self.scores for e in s.angle_errors_deg]
        tv = sum(s.truth_visible for s in self.scores)
        latencies = [s.spread_latency_s for s in self.scores if s.spread_latency_s is not None]
        ms = [m for s in self.scores + self.free_scores for m in s.processing_ms]
        area = [e for s in self.scores for e in s.spread_area_errors]
        area_abs = [abs(e) for e in area]

        def pct(values: list[float], q: float) -> float | None:
            return round(float(np.percentile(values, q)), 3) if values else None

        return {
            "cines": len(self.scores),
            "frames": sum(s.frames for s in self.scores),
            "tip_error_mm": {"median": pct(tips, 50), "p90": pct(tips, 90)},
            "angle_error_deg": {"median": pct(angles, 50), "p90": pct(angles, 90)},
            "detection_rate": round(sum(s.detected for s in self.scores) / tv, 3) if tv else None,
            "false_detection_frames": sum(s.false_detections for s in self.scores),
            "needle_free_cines": len(self.free_scores),
            "needle_free_false_frames": sum(s.false_detections for s in self.free_scores),
            "needle_free_frames": sum(s.frames for s in self.free_scores),
            "real_needle_free": {k: {"false_frames": v[0], "frames": v[1]} for k, v in self.real.items()},
            "spread_latency_s": {"median": pct(latencies, 50), "max": pct(latencies, 100)},
            "spread_missed": sum(s.spread_missed for s in self.scores),
            "spread_injections": sum(
                1 for s in self.scores if s.spread_latency_s is not None or s.spread_missed
            ),
            "spread_area_error": {
                "median": pct(area, 50),
                "abs_median": pct(area_abs, 50),
                "abs_p90": pct(area_abs, 90),
                "within_30pct": round(sum(e <= 0.3 for e in area_abs) / len(area), 3) if area else None,
            },
            "processing_ms_median": pct(ms, 50),
        }


def evaluate(
    *,
    cines: int = 12,
    needle_free: int = 4,
    rows: int = 480,
    cols: int = 640,
    n_frames: int = 60,
    seed: int = 1000,
    real: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Simulate a varied corpus, run the pipeline and score it against the ground truth.

    Parameters
    ----------
    cines : int
        Simulated cines with needle and injection.
    needle_free : int
        Simulated cines without needle (with an injection-free scene).
    rows, cols, n_frames : int
        Cine size.
    seed : int
        First seed; cine ``i`` uses ``seed + i``.
    real : bool
        Also run the real needle-free cines shipped with pydicom and pydicom-data.
    progress : callable, optional
        Called with ``(done, total)`` after each cine.

    Returns
    -------
    Evaluation
        Scores and metrics.
    """
    total = cines + needle_free
    scores: list[CineScore] = []
    free: list[CineScore] = []
    for i in range(total):
        with_needle = i < cines
        params = random_params(
            seed + i, rows=rows, cols=cols, n_frames=n_frames, needle=with_needle, injection=with_needle
        )
        score = score_cine(simulate_cine(params))
        (scores if with_needle else free).append(score)
        if progress is not None:
            progress(i + 1, total)
    found = {}
    if real:
        for path in real_needle_free_files():
            found[path.rsplit("/", 1)[-1]] = _real_false_detections(path)
    return Evaluation(scores, free, found)


def evaluate_test_set(
    *,
    per_family: int = 4,
    families: tuple[str, ...] | None = None,
    test_set: bool = True,
    n_frames: int = 60,
    real: bool = True,
    progress: Callable[[int, int], None] | None = None,
    first: int = 0,
    confirmation: bool = False,
    run_on: bool = False,
) -> dict[str, object]:
    """Per-family figures on the frozen test set (or development or confirmation seeds) and the real
    needle-free cines.

    Parameters
    ----------
    per_family : int
        Cines per scene family.
    families : tuple of str, optional
        Families to run (default: all of :data:`painguide.sono.scenes.FAMILIES`).
    test_set : bool
        ``False`` runs the development seeds instead.
    n_frames : int
        Frames per cine (intravascular cines are longer).
    real : bool
        Also count false needles on the real needle-free cines.
    progress : callable, optional
        Called with ``(done, total)`` after each cine.
    first : int
        Index of each family's first cine (see :func:`~painguide.sono.familyeval.evaluate_families`).
    confirmation : bool
        Run the confirmation seeds instead (:data:`~painguide.sono.scenes.CONFIRMATION_SEEDS`).
    run_on : bool
        Run every cine with an injection on past the no-spread warning's wait (see
        :func:`~painguide.sono.familyeval.evaluate_families`).

    Returns
    -------
    dict
        ``{"set", "run_on", "seeds", "first", "families": {name: metrics},
        "real_needle_free": {file: {...}}}``.
    """

    scores = evaluate_families(
        per_family=per_family,
        families=families or FAMILIES,
        test_set=test_set,
        n_frames=n_frames,
        progress=progress,
        first=first,
        confirmation=confirmation,
        run_on=run_on,
    )
    name, seeds = seed_set(test_set=test_set, confirmation=confirmation)
    return {
        "set": name,
        "run_on": run_on,
        "seeds": [seeds.start, seeds.stop - 1],
        "first": first,
        "per_family": per_family,
        "families": {name: score.metrics() for name, score in scores.items()},
        "real_needle_free": real_needle_free_scores() if real else {},
    }
