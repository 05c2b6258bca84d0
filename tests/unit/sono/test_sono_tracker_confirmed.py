"""``NeedleTracker.confirmed`` tells a frame followed along a confirmed track from one searched whole, and the
live benchmark splits the pipeline's time by it (docs/performance.md)."""

from __future__ import annotations

import pytest

import painguide.sono.needle as needle_module
from painguide.sono.needle import NeedleDetector, NeedleTracker
from painguide.sono.simulate import SimulatedCine

from ..test_bench_usage import _load


def _searches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the whole-image searches (coarse line votes) from here on: one entry per search."""
    calls: list[int] = []
    original = NeedleDetector._coarse_lines

    def counted(self: NeedleDetector, *args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(needle_module.NeedleDetector, "_coarse_lines", counted)
    return calls


def test_a_confirmed_track_is_followed_mostly_without_a_whole_search(
    clear_cine: SimulatedCine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _searches(monkeypatch)
    tracker = NeedleTracker()
    assert not tracker.confirmed
    followed = followed_searched = unconfirmed = unconfirmed_searched = 0
    for frame in clear_cine.frames:
        was_confirmed, before = tracker.confirmed, len(calls)
        tracker(frame)
        searched = len(calls) > before
        if was_confirmed:
            followed, followed_searched = followed + 1, followed_searched + searched
        else:
            unconfirmed, unconfirmed_searched = unconfirmed + 1, unconfirmed_searched + searched
    assert followed >= 30, "the clear needle was not confirmed for most of the cine"
    assert unconfirmed >= 1, "the needle was confirmed on the first frame"
    assert unconfirmed_searched == unconfirmed, "a frame without a track was not searched whole"
    # along a track, the whole image is searched only now and then (a look for a rival to a short shaft)
    assert followed_searched <= 0.1 * followed
    tracker.reset()
    assert not tracker.confirmed


def test_the_live_benchmark_splits_the_pipeline_time_by_the_kind_of_frame(
    clear_cine: SimulatedCine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _load("bench_sono_live", monkeypatch)
    frames = list(clear_cine.frames[:30])
    stages = bench.per_frame([frames])
    tracked, searched = stages["pipeline_tracked"], stages["pipeline_searched"]
    assert tracked["n"] + searched["n"] == stages["pipeline"]["n"] == len(frames)
    assert tracked["n"] >= 10 and searched["n"] >= 1
    latency = {"sent": 0, "received": 0, "latency_ms": {"median": "-", "p90": "-", "max": "-"}}
    table = bench.table(stages, latency, load=(0.0, 0.0), n_frames=len(frames))
    rows = {line.split(" | ")[0] for line in table.splitlines() if line.startswith("| ...")}
    assert rows == {
        f"| ... frames along a confirmed needle track ({tracked['n']} of {len(frames)})",
        f"| ... frames without one, searched whole ({searched['n']} of {len(frames)})",
    }


def test_the_live_benchmark_gives_each_recording_a_pipeline_of_its_own(
    clear_cine: SimulatedCine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Carried from one recording into the next, a pipeline would start the second on the first one's
    track (and on its spread baseline); each starts afresh, as a recording or live session does."""
    bench = _load("bench_sono_live", monkeypatch)
    frames = list(clear_cine.frames[:20])
    once = bench.per_frame([frames])["pipeline_searched"]["n"]
    twice = bench.per_frame([frames, frames])["pipeline_searched"]["n"]
    assert once >= 1 and twice == 2 * once
